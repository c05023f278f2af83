package io.lifeboat.postgres;

import io.lifeboat.LifeboatException;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HexFormat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class WalPageHeaderTest {
    /** The first 40 bytes of 000000010000000000000001 after initdb of PostgreSQL 15 (od -t x1). */
    static final byte[] PG15 = HexFormat.of().parseHex("10d102000100000000000001000000000000000000000000"
            + "d5b7120632cb0e6b0000000100200000");

    @Test
    void readsWhatPostgresqlWrites() {
        WalPageHeader h = WalPageHeader.parse(PG15, PG15.length, "x");
        assertThat(h.systemIdentifier()).isEqualTo("7714326627442931669"); // pg_controldata's "Database system identifier"
        assertThat(h.segmentSize()).isEqualTo(16L << 20);
        assertThat(h.blockSize()).isEqualTo(8192);
        assertThat(h.pageAddress()).isEqualTo(Lsn.parse("0/1000000"));
        assertThat(h.timeline()).isEqualTo(1);
        assertThat(h.pgMajor()).isEqualTo(15);
        // a big-endian server writes the same fields the other way round
        ByteBuffer big = ByteBuffer.allocate(40).order(ByteOrder.BIG_ENDIAN);
        big.putShort(0, (short) 0xD116).putShort(2, (short) 2).putInt(4, 3).putLong(8, 5L << 26).putLong(24, -2L)
                .putInt(32, 1 << 26).putInt(36, 8192);
        WalPageHeader b = WalPageHeader.parse(big.array(), 40, "x");
        assertThat(b.systemIdentifier()).isEqualTo("18446744073709551614");
        assertThat(b.pgMajor()).isEqualTo(17);
        assertThat(b.segmentSize()).isEqualTo(64L << 20);
    }

    @Test
    void refusesWhatIsNoSegmentStart() {
        byte[] shortHeader = PG15.clone();
        shortHeader[2] = 0; // no XLP_LONG_HEADER: a page in the middle of a segment
        byte[] zeros = new byte[40];
        byte[] oddSize = PG15.clone();
        oddSize[34] = 0x30; // 0x30<<16 bytes is no power of two
        for (byte[] bad : new byte[][] {shortHeader, zeros, oddSize, java.util.Arrays.copyOf(PG15, 39)}) {
            assertThatThrownBy(() -> WalPageHeader.parse(bad, bad.length, "pg_wal/x"))
                    .isInstanceOfSatisfying(LifeboatException.class, e -> assertThat(e.exitCode()).isEqualTo(8));
        }
    }
}
