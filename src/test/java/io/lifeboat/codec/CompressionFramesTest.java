package io.lifeboat.codec;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** Frames compressed one by one join into one stored object that decodes as the whole (what the WAL stream relies on). */
class CompressionFramesTest {
    static byte[] wal(int n) {
        byte[] b = new byte[n];
        Random r = new Random(11);
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i % 97 < 40 ? r.nextInt(256) : i % 7); // part noise, part repetition: compressible
        }
        return b;
    }

    @Test
    void concatenatedFramesOfEveryCodecDecodeToTheConcatenatedData() throws IOException {
        byte[] data = wal(300_000);
        int[] cuts = {0, 1, 150, 70_000, 299_999, 300_000};
        for (Compression c : Compression.values()) {
            ByteArrayOutputStream joined = new ByteArrayOutputStream();
            for (int i = 0; i + 1 < cuts.length; i++) {
                if (cuts[i + 1] > cuts[i]) {
                    joined.write(c.compressFrame(data, cuts[i], cuts[i + 1] - cuts[i], 0));
                }
            }
            byte[] stored = joined.toByteArray();
            assertThat(c.decompress(new ByteArrayInputStream(stored)).readAllBytes()).as(c.id()).isEqualTo(data);
            byte[] dst = new byte[data.length];
            int n = c.decompress(stored, stored.length, dst, dst.length);
            if (n >= 0) {
                assertThat(n).as(c.id()).isEqualTo(data.length);
                assertThat(dst).isEqualTo(data);
            }
        }
    }

    @Test
    void aFrameIsWhatTheStreamingCompressorWritesForTheSameBytes() throws IOException {
        byte[] data = wal(50_000);
        for (Compression c : Compression.values()) {
            ByteArrayOutputStream streamed = new ByteArrayOutputStream();
            try (var out = c.compress(streamed)) {
                out.write(data, 10, 40_000);
            }
            byte[] frame = c.compressFrame(data, 10, 40_000, 0);
            assertThat(c.decompress(new ByteArrayInputStream(frame)).readAllBytes())
                    .isEqualTo(c.decompress(new ByteArrayInputStream(streamed.toByteArray())).readAllBytes());
            if (c == Compression.NONE) {
                assertThat(frame).isEqualTo(streamed.toByteArray());
            }
        }
    }
}
