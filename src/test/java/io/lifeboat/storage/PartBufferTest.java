package io.lifeboat.storage;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class PartBufferTest {
    private static byte[] random(int n) {
        byte[] b = new byte[n];
        new Random(n).nextBytes(b);
        return b;
    }

    @Test
    void holdsWhatWasWrittenInOrderAcrossBlocksAndStreamsItAgainEachTime() throws Exception {
        PartBuffer.Blocks pool = new PartBuffer.Blocks(1000, 8);
        PartBuffer p = new PartBuffer(pool, 10_000, 300);
        byte[] data = random(4321);
        int off = 0;
        for (int n : new int[] {1, 299, 1, 1700, 2320}) {
            assertThat(p.write(data, off, n)).isEqualTo(n);
            off += n;
        }
        assertThat(p.size()).isEqualTo(4321);
        assertThat(p.room()).isEqualTo(10_000 - 4321);
        assertThat(p.stream().readAllBytes()).isEqualTo(data);
        assertThat(p.stream().readAllBytes()).isEqualTo(data); // a second attempt reads the same
    }

    @Test
    void stopsAtItsLimitAndSaysHowMuchItTook() {
        PartBuffer p = new PartBuffer(new PartBuffer.Blocks(1000, 8), 2500, 2500);
        assertThat(p.write(random(3000), 0, 3000)).isEqualTo(2500);
        assertThat(p.room()).isZero();
        assertThat(p.write(new byte[10], 0, 10)).isZero();
    }

    @Test
    void reusesFreedBlocksUpToItsCapAndKeepsNoSmallOnes() throws Exception {
        PartBuffer.Blocks pool = new PartBuffer.Blocks(1000, 2);
        PartBuffer p = new PartBuffer(pool, 10_000, 100);
        p.write(random(3100), 0, 3100); // a small first block and 4 full ones
        p.release();
        assertThat(pool.free()).isEqualTo(2);
        assertThat(p.size()).isZero();
        // reused blocks hold stale bytes: only what was written is streamed
        PartBuffer q = new PartBuffer(pool, 10_000, 1000);
        byte[] d = random(1500);
        q.write(d, 0, 1500);
        assertThat(pool.free()).isZero();
        assertThat(q.stream().readAllBytes()).isEqualTo(d);
    }

    @Test
    void aSmallObjectTakesOnlyItsSize() throws Exception {
        PartBuffer.Blocks pool = new PartBuffer.Blocks(1 << 20, 4);
        PartBuffer p = new PartBuffer(pool, 16 << 20, 200);
        byte[] d = random(200);
        p.write(d, 0, 200);
        p.release();
        assertThat(pool.free()).as("its one block was not a full one").isZero();
    }
}
