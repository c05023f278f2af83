package io.lifeboat.engine.archive;

import io.lifeboat.catalog.RepositoryLayout;
import io.lifeboat.codec.Compression;
import io.lifeboat.codec.Encryption;
import io.lifeboat.engine.ObjectPipeline;
import io.lifeboat.postgres.WalFileName;
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
    void servesFromTheSpoolFirstThenFromTheArchive() throws Exception {
        byte[][] content = new byte[4][];
        for (int i = 1; i <= 3; i++) {
            content[i] = new byte[100_000];
            new Random(i).nextBytes(content[i]);
        }
        archiveSegments(content);
        Path pgWal = Files.createDirectories(dir.resolve("restore/pg_wal"));
        Path spool = Files.createDirectories(WalPrefetcher.spoolOf(pgWal));
        Files.write(spool.resolve("000000010000000000000002"), content[2]);
        WalFetch fetch = new WalFetch(archive);
        // Served from the spool even when the archive no longer answers for it.
        storage.deletePrefix("m/wal/0000000100000000/000000010000000000000002");
        assertThat(fetch.run(WalFileName.parse("000000010000000000000002"), pgWal.resolve("RECOVERYXLOG"))).isTrue();
        assertThat(Files.readAllBytes(pgWal.resolve("RECOVERYXLOG"))).isEqualTo(content[2]);
        assertThat(spool.resolve("000000010000000000000002")).doesNotExist();
        assertThat(fetch.run(WalFileName.parse("000000010000000000000003"), pgWal.resolve("RECOVERYXLOG"))).isTrue();
        assertThat(Files.readAllBytes(pgWal.resolve("RECOVERYXLOG"))).isEqualTo(content[3]);
        assertThat(fetch.run(WalFileName.parse("000000010000000000000004"), pgWal.resolve("RECOVERYXLOG"))).isFalse();
    }

    @Test
    void recoveryGoesOnWhileItsServerRunsInRecovery() throws Exception {
        Path dataDir = dir.resolve("removed");
        Path pgWal = dataDir.resolve("pg_wal");
        assertThat(WalFetch.recoveryGoesOn(pgWal)).isFalse();
        // a data directory whose server is not in recovery (promoted: no signal file) has nothing to prefetch for
        Files.createDirectories(pgWal);
        Files.writeString(dataDir.resolve("postmaster.pid"), "1\n");
        assertThat(WalFetch.recoveryGoesOn(pgWal)).isFalse();
        Files.writeString(dataDir.resolve("recovery.signal"), "");
        assertThat(WalFetch.recoveryGoesOn(pgWal)).isTrue();
        // a server killed in recovery leaves postmaster.pid behind: its prefetcher must not wait on for it
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        Files.writeString(dataDir.resolve("postmaster.pid"), gone.pid() + "\n" + dataDir + "\n1700000000\n5432\n");
        assertThat(WalFetch.recoveryGoesOn(pgWal)).isFalse();
        Files.writeString(dataDir.resolve("postmaster.pid"), ProcessHandle.current().pid() + "\n" + dataDir + "\n");
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
