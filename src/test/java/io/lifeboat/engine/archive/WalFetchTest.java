package io.lifeboat.engine.archive;

import io.lifeboat.catalog.RepositoryLayout;
import io.lifeboat.codec.Compression;
import io.lifeboat.codec.Encryption;
import io.lifeboat.engine.ObjectPipeline;
import io.lifeboat.postgres.WalFileName;
import io.lifeboat.postgres.WalSegmentName;
import io.lifeboat.storage.MemoryStorage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** Prefetching fills pg_wal's cache with verified segments ahead; fetches then take them from there. */
class WalFetchTest {
    @TempDir
    Path dir;
    private final MemoryStorage storage = new MemoryStorage();
    private final WalArchive archive = new WalArchive(storage, new RepositoryLayout("m"),
            new ObjectPipeline(storage, Compression.ZSTD, 1, Encryption.NONE));

    /** Archives segments 1..content.length-1 of timeline 1 (content[i] is segment i's) from dir/src/pg_wal. */
    private Path archiveSegments(byte[][] content) throws Exception {
        Path source = Files.createDirectories(dir.resolve("src/pg_wal"));
        for (int i = 1; i < content.length; i++) {
            Path f = source.resolve(String.format("0000000100000000000000%02X", i));
            Files.write(f, content[i]);
            archive.push(f);
        }
        return source;
    }

    @Test
    void prefetchesAheadStopsAtTheEndAndServesFromTheCache() throws Exception {
        byte[][] content = new byte[6][];
        for (int i = 1; i <= 5; i++) {
            content[i] = new byte[100_000];
            new Random(i).nextBytes(content[i]);
        }
        archiveSegments(content);
        Path pgWal = Files.createDirectories(dir.resolve("restore/pg_wal"));
        WalFetch fetch = new WalFetch(archive);
        assertThat(fetch.run(WalFileName.parse("000000010000000000000001"), pgWal.resolve("RECOVERYXLOG"))).isTrue();
        int got = fetch.prefetch(WalFileName.parse("000000010000000000000001"), pgWal, 8, 4);
        assertThat(got).isEqualTo(4);
        Path cache = pgWal.resolve(".lifeboat/prefetch");
        assertThat(cache.resolve("000000010000000000000005")).exists();
        assertThat(cache.resolve("000000010000000000000006")).doesNotExist();

        // Served from the cache even when the archive no longer answers for it.
        storage.deletePrefix("m/wal/0000000100000000/000000010000000000000003");
        assertThat(fetch.run(WalFileName.parse("000000010000000000000003"), pgWal.resolve("RECOVERYXLOG"))).isTrue();
        assertThat(Files.readAllBytes(pgWal.resolve("RECOVERYXLOG"))).isEqualTo(content[3]);
        assertThat(cache.resolve("000000010000000000000003")).doesNotExist();

        // A later prefetch drops what recovery has passed.
        fetch.prefetch(WalFileName.parse("000000010000000000000004"), pgWal, 8, 4);
        assertThat(cache.resolve("000000010000000000000002")).doesNotExist();
        assertThat(cache.resolve("000000010000000000000005")).exists();
    }

    @Test
    void notesTheEndOfTheArchiveAndAnAbsentNextTimelineForTheLauncher() throws Exception {
        Path source = archiveSegments(new byte[][] {null, new byte[1001], new byte[1002], new byte[1003]});
        Path pgWal = Files.createDirectories(dir.resolve("restore/pg_wal"));
        WalFetch fetch = new WalFetch(archive);
        assertThat(fetch.prefetchFrom(WalSegmentName.parse("000000010000000000000001"), pgWal, 6, 2)).isEqualTo(3);
        Path cache = pgWal.resolve(".lifeboat/prefetch");
        long now = System.currentTimeMillis() / 1000;
        // Only the first absent segment: recovery ends there.
        assertThat(cache.resolve(".missing-000000010000000000000004")).exists();
        assertThat(cache.resolve(".missing-000000010000000000000005")).doesNotExist();
        assertThat(Long.parseLong(Files.readString(cache.resolve(".missing-000000010000000000000004")).trim()))
                .isBetween(now - 5, now);
        assertThat(cache.resolve(".missing-00000002.history")).exists();
        assertThat(Files.list(cache).map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith(".want-"));

        // Once the archive has them, a new run leaves no stale "missing" behind.
        Path h = source.resolve("00000002.history");
        Files.writeString(h, "1\t0/4000000\tno recovery target specified\n");
        archive.push(h);
        Path seg4 = source.resolve("000000010000000000000004");
        Files.write(seg4, new byte[1004]);
        archive.push(seg4);
        fetch.prefetchFrom(WalSegmentName.parse("000000010000000000000004"), pgWal, 1, 2);
        assertThat(cache.resolve("000000010000000000000004")).exists();
        assertThat(cache.resolve(".missing-000000010000000000000004")).doesNotExist();
        assertThat(cache.resolve(".missing-00000002.history")).doesNotExist();
    }

    @Test
    void aPrefetcherNeverBringsBackARemovedDirectory() throws Exception {
        byte[][] content = {null, new byte[1000], new byte[1000]};
        archiveSegments(content);
        Path dataDir = dir.resolve("removed");
        Path pgWal = dataDir.resolve("pg_wal");
        // the restore failed and its directory was removed; a prefetcher started before that runs now
        assertThat(new WalFetch(archive).prefetchFrom(WalSegmentName.parse("000000010000000000000001"), pgWal, 4, 2))
                .isZero();
        assertThat(dataDir).doesNotExist();
        assertThat(WalFetch.recoveryGoesOn(pgWal)).isFalse();
        // a data directory whose server is not in recovery (promoted: no signal file) has nothing to prefetch for
        Files.createDirectories(pgWal);
        Files.writeString(dataDir.resolve("postmaster.pid"), "1\n");
        assertThat(WalFetch.recoveryGoesOn(pgWal)).isFalse();
        Files.writeString(dataDir.resolve("recovery.signal"), "");
        assertThat(WalFetch.recoveryGoesOn(pgWal)).isTrue();
    }

    @Test
    void stopPrefetchersEndsThoseOfThisDirectoryOnly() throws Exception {
        Path pgWal = Files.createDirectories(dir.resolve("data/pg_wal"));
        Path other = Files.createDirectories(dir.resolve("other/pg_wal"));
        // stand-ins with the command line of a detached `lifeboat wal-prefetch ... SEGMENT PG_WAL`
        Process mine = new ProcessBuilder("bash", "-c", "sleep 60; true", "wal-prefetch", "--ahead", "16",
                "000000010000000000000001", pgWal.toString()).start();
        Process theirs = new ProcessBuilder("bash", "-c", "sleep 60; true", "wal-prefetch", "000000010000000000000001",
                other.toString()).start();
        Process unrelated = new ProcessBuilder("bash", "-c", "sleep 60; true", "wal-fetch", pgWal.toString()).start();
        try {
            assertThat(WalFetch.stopPrefetchers(pgWal)).isEqualTo(1);
            assertThat(mine.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            assertThat(theirs.isAlive()).isTrue();
            assertThat(unrelated.isAlive()).isTrue();
        } finally {
            mine.destroyForcibly();
            theirs.destroyForcibly();
            unrelated.destroyForcibly();
        }
    }
}
