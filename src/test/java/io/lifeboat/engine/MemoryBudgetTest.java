package io.lifeboat.engine;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static io.lifeboat.engine.MemoryBudget.MIB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MemoryBudgetTest {
    /** What the launcher's -Xmx384m gives with the serial collector (one survivor space is not counted). */
    private static final long LAUNCHER_HEAP = 371 * MIB;

    @Test
    void theDefaultBackupFitsTheLaunchersHeapWithItsChunks() {
        MemoryBudget b = new MemoryBudget(LAUNCHER_HEAP);
        assertThat(b.backupChunk(2, 32 << 20)).isEqualTo(32 << 20);
        assertThat(MemoryBudget.backupNeed(2, 32 << 20)).isLessThanOrEqualTo(b.buffers());
    }

    @Test
    void moreJobsGetSmallerChunksThatFit() {
        MemoryBudget b = new MemoryBudget(LAUNCHER_HEAP);
        for (int jobs = 1; jobs <= 12; jobs++) {
            int c = b.backupChunk(jobs, 32 << 20);
            assertThat(MemoryBudget.backupNeed(jobs, c)).as("jobs %d", jobs).isLessThanOrEqualTo(b.buffers());
            // the largest that fits: twice the size would not
            if (c < 32 << 20) {
                assertThat(MemoryBudget.backupNeed(jobs, 2L * c)).isGreaterThan(b.buffers());
            }
        }
        assertThat(b.backupChunk(4, 32 << 20)).isEqualTo(16 << 20);
        assertThat(b.backupChunk(8, 32 << 20)).isEqualTo(8 << 20);
    }

    @Test
    void aBackupThatCannotFitFailsBeforeItStartsNamingTheHeap() {
        MemoryBudget b = new MemoryBudget(256 * MIB);
        assertThatThrownBy(() -> b.backupChunk(16, 32 << 20))
                .isInstanceOfSatisfying(LifeboatException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.RESOURCE))
                .hasMessageContaining("16 jobs").hasMessageContaining("heap of 256 MiB");
        assertThatThrownBy(() -> new MemoryBudget(100 * MIB).backupChunk(1, 32 << 20))
                .isInstanceOf(LifeboatException.class);
    }

    @Test
    void theBackupNeedCountsChunksAndTheirCompressedCopies() {
        // 4 chunk buffers and 2 compressed copies of at most 32 MiB + 1/64 + 64 KiB each
        assertThat(MemoryBudget.backupNeed(2, 32 * MIB)).isEqualTo(4 * 32 * MIB + 2 * (32 * MIB + MIB / 2 + 65536));
    }

    private static String shape(MemoryBudget.RestorePlan p) {
        return p.streams() + " x " + p.window();
    }

    @Test
    void aRestoreReadsLessFarAheadThenFewerArchivesUntilItFits() {
        MemoryBudget b = new MemoryBudget(LAUNCHER_HEAP);
        long chunk = 32 * MIB;
        long stored = MemoryBudget.encodedBound(chunk);
        // one archive (no tablespaces): full width
        assertThat(shape(b.restore(2, 1, chunk, stored))).isEqualTo("1 x 2");
        assertThat(b.restore(2, 1, chunk, stored).bytes()).isEqualTo(3 * chunk + 2 * stored);
        // two tablespaces at 2 jobs: 2 x 3 chunks + 2 stored would be 257 MiB: one chunk ahead instead
        assertThat(shape(b.restore(2, 3, chunk, stored))).isEqualTo("2 x 1");
        MemoryBudget.RestorePlan wide = b.restore(8, 10, chunk, 10 * MIB);
        assertThat(wide.bytes()).isEqualTo(MemoryBudget.restoreNeed(wide.streams(), wide.window(), 8, chunk, 10 * MIB))
                .isLessThanOrEqualTo(b.buffers());
        assertThat(shape(wide)).isEqualTo("2 x 1");
        // small chunks: nothing is narrowed
        assertThat(shape(b.restore(4, 4, 4 * MIB, 4 * MIB))).isEqualTo("4 x 4");
    }

    @Test
    void twoJobsOfOneProcessWaitForEachOthersBuffers() throws Exception {
        MemoryBudget b = new MemoryBudget(LAUNCHER_HEAP);
        List<String> said = new CopyOnWriteArrayList<>();
        MemoryBudget.Lease first = b.hold(MemoryBudget.backupNeed(2, 32 * MIB), said::add);
        assertThat(b.freeMiB()).isEqualTo(243 - 194);
        CountDownLatch got = new CountDownLatch(1);
        Thread second = new Thread(() -> {
            try (MemoryBudget.Lease l = b.hold(MemoryBudget.backupNeed(2, 32 * MIB), said::add)) {
                got.countDown();
            }
        });
        second.start();
        assertThat(got.await(300, TimeUnit.MILLISECONDS)).as("the second holds nothing while the first does").isFalse();
        assertThat(said).singleElement().asString().startsWith("waiting for 194 MiB");
        first.close();
        first.close(); // twice releases once
        assertThat(got.await(5, TimeUnit.SECONDS)).isTrue();
        second.join();
        assertThat(b.freeMiB()).isEqualTo(243);
    }

    @Test
    void aRestoreOfChunksLargerThanTheHeapFailsNamingTheChunkSize() {
        MemoryBudget b = new MemoryBudget(LAUNCHER_HEAP);
        assertThatThrownBy(() -> b.restore(2, 1, 128 * MIB, 128 * MIB))
                .isInstanceOfSatisfying(LifeboatException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.RESOURCE))
                .hasMessageContaining("chunks of 128 MiB");
    }

    @Test
    void threadsAreAsManyAsFit() {
        MemoryBudget b = new MemoryBudget(LAUNCHER_HEAP);
        assertThat(b.threads(2, 64 * MIB, "x")).isEqualTo(2);
        assertThat(b.threads(8, 64 * MIB, "x")).isEqualTo(3);
        assertThatThrownBy(() -> b.threads(1, 300 * MIB, "restoring chunks of 150 MiB"))
                .hasMessageContaining("restoring chunks of 150 MiB");
    }

    /** The S3 driver's streamed parts are held from the same budget as the jobs' buffers. */
    @Test
    void streamedUploadPartsAreHeldFromTheBudget() {
        MemoryBudget b = new MemoryBudget(LAUNCHER_HEAP);
        io.lifeboat.storage.PartMemory parts = b.uploadParts(16 << 20);
        int free = b.freeMiB();
        io.lifeboat.storage.PartMemory.Lease one = parts.hold(16 << 20);
        io.lifeboat.storage.PartMemory.Lease small = parts.hold(100_000);
        assertThat(b.freeMiB()).isEqualTo(free - 17);
        one.close();
        small.close();
        small.close();
        assertThat(b.freeMiB()).isEqualTo(free);
    }

    @Test
    void aPartLargerThanTheBudgetIsAResourceError() {
        MemoryBudget b = new MemoryBudget(LAUNCHER_HEAP);
        assertThatThrownBy(() -> b.uploadParts(256 << 20))
                .isInstanceOfSatisfying(LifeboatException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.RESOURCE);
                    assertThat(e.kind().exitCode()).isEqualTo(10);
                    assertThat(e.hint()).contains("part-size-mib");
                })
                .hasMessageContaining("256 MiB");
    }
}
