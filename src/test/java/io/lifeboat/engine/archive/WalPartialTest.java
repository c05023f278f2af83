package io.lifeboat.engine.archive;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.RepositoryLayout;
import io.lifeboat.codec.Compression;
import io.lifeboat.codec.Encryption;
import io.lifeboat.engine.ObjectPipeline;
import io.lifeboat.postgres.WalFileName;
import io.lifeboat.storage.MemoryStorage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Partial segments (what the agent's stream stores) and restore_command: served only at the end of the archive. */
class WalPartialTest {
    static final int SIZE = 1 << 20;
    @TempDir
    Path dir;
    final MemoryStorage storage = new MemoryStorage();
    final WalArchive archive = new WalArchive(storage, new RepositoryLayout("main"),
            new ObjectPipeline(storage, Compression.ZSTD, 1, Encryption.NONE));

    /** A segment whose first {@code valid} bytes are WAL (random) and the rest zero, as a partial is. */
    static byte[] segment(long seed, int valid) {
        byte[] b = new byte[SIZE];
        byte[] wal = new byte[valid];
        new Random(seed).nextBytes(wal);
        System.arraycopy(wal, 0, b, 0, valid);
        return b;
    }

    WalFileName name(String n) {
        return WalFileName.parse(n);
    }

    @Test
    void theFullestPartialIsServedUnderTheSegmentsNameAtTheEndOfTheArchive() throws IOException {
        archive.push(name("000000010000000000000004"), segment(1, SIZE), SIZE);
        byte[] small = segment(7, 1000);
        byte[] big = segment(7, 300_000);
        archive.push(name("000000010000000000000005.partial"), big, SIZE);
        // an older, smaller copy stored later (a restarted stream) is not a conflict, and not what is served
        assertThat(archive.push(name("000000010000000000000005.partial"), small, SIZE))
                .isEqualTo(WalArchive.PushOutcome.ARCHIVED);
        Path target = dir.resolve("RECOVERYXLOG");
        assertThat(archive.fetch(name("000000010000000000000005"), target, true)).isEqualTo(WalArchive.Fetched.PARTIAL);
        assertThat(Files.readAllBytes(target)).isEqualTo(big);
        // the next segment is not there: the end of the archive
        assertThat(archive.fetch(name("000000010000000000000006"), dir.resolve("x"), true))
                .isEqualTo(WalArchive.Fetched.MISSING);
    }

    @Test
    void aPartialIsHeldBackFromThePrefetcherWhichMustNotCallItMissing() throws Exception {
        archive.push(name("000000010000000000000005.partial"), segment(3, 5000), SIZE);
        assertThat(archive.fetch(name("000000010000000000000005"), dir.resolve("y"), false))
                .isEqualTo(WalArchive.Fetched.PARTIAL_HELD_BACK);
        assertThat(Files.exists(dir.resolve("y"))).isFalse();
        Path pgWal = Files.createDirectories(dir.resolve("pg_wal"));
        Path spool = WalPrefetcher.spoolOf(pgWal);
        try (WalPrefetcher p = WalPrefetcher.open(archive, pgWal, new WalPrefetcher.Settings(4, 2, SIZE), f -> { },
                m -> { }).orElseThrow()) {
            p.startInBackground(io.lifeboat.postgres.WalSegmentName.parse("000000010000000000000005", SIZE),
                    io.lifeboat.postgres.TimelineHistory.root(io.lifeboat.postgres.TimelineId.of(1)), null);
            Thread.sleep(500);
            assertThat(spool.resolve("000000010000000000000005")).doesNotExist();
            // asked for it, the prefetcher leaves it to restore_command's JVM: "failed", never "missing"
            Files.writeString(spool.resolve(".ask-000000010000000000000005"), "t1\n");
            Path answer = spool.resolve(".answer-000000010000000000000005");
            for (int i = 0; i < 2000 && !Files.exists(answer); i++) {
                Thread.sleep(5);
            }
            assertThat(Files.readString(answer)).startsWith("t1 failed ").contains("partial");
            assertThat(spool.resolve("000000010000000000000005")).doesNotExist();
        }
        assertThat(new WalFetch(archive).run(name("000000010000000000000005"), pgWal.resolve("RECOVERYXLOG"))).isTrue();
    }

    @Test
    void aPartialWithLaterSegmentsArchivedIsAGapNotTheEnd() throws IOException {
        archive.push(name("000000010000000000000005.partial"), segment(3, 5000), SIZE);
        archive.push(name("000000010000000000000007"), segment(4, SIZE), SIZE);
        assertThatThrownBy(() -> archive.fetch(name("000000010000000000000005"), dir.resolve("z"), true))
                .isInstanceOfSatisfying(LifeboatException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.CONFLICT);
                    assertThat(e.getMessage()).contains("gap", "000000010000000000000007");
                });
        // another timeline's segments do not count
        archive.push(name("000000020000000000000009"), segment(5, SIZE), SIZE);
        archive.push(name("000000030000000000000001.partial"), segment(6, 100), SIZE);
        assertThat(archive.fetch(name("000000030000000000000001"), dir.resolve("w"), true))
                .isEqualTo(WalArchive.Fetched.PARTIAL);
    }

    @Test
    void aWholeSegmentWinsAndRemovesItsPartials() throws IOException {
        archive.push(name("000000010000000000000005.partial"), segment(3, 5000), SIZE);
        byte[] whole = segment(3, SIZE);
        archive.push(name("000000010000000000000005"), whole, SIZE);
        Path t = dir.resolve("s");
        assertThat(archive.fetch(name("000000010000000000000005"), t, true)).isEqualTo(WalArchive.Fetched.SEGMENT);
        assertThat(Files.readAllBytes(t)).isEqualTo(whole);
        assertThat(archive.removePartials(io.lifeboat.postgres.WalSegmentName.parse("000000010000000000000005"), null))
                .isEqualTo(1);
        assertThat(archive.names()).containsExactly("000000010000000000000005");
    }
}
