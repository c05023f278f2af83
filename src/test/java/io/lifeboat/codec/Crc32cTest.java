package io.lifeboat.codec;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class Crc32cTest {
    @Test
    void theCrcOfAConcatenationComesFromThePiecesCrcs() {
        Random r = new Random(7);
        for (int len : new int[] {0, 1, 511, 8192, 100_000}) {
            byte[] a = new byte[1 + r.nextInt(9000)];
            byte[] b = new byte[len];
            r.nextBytes(a);
            r.nextBytes(b);
            byte[] ab = new byte[a.length + b.length];
            System.arraycopy(a, 0, ab, 0, a.length);
            System.arraycopy(b, 0, ab, a.length, b.length);
            assertThat(Crc32c.append(Crc32c.of(a, 0, a.length), Crc32c.of(b, 0, b.length), b.length))
                    .as("length " + len).isEqualTo(Crc32c.of(ab, 0, ab.length));
        }
    }

    @Test
    void manifestFormIsTheLittleEndianBytesInHex() {
        byte[] check = "123456789".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        int crc = Crc32c.of(check, 0, check.length);
        assertThat(crc).isEqualTo(0xE3069283); // the CRC-32C check value
        assertThat(Crc32c.manifestHex(crc)).isEqualTo("839206e3");
    }
}
