package io.lifeboat.cli;

import io.lifeboat.config.ClusterConfig;
import io.lifeboat.engine.RepositoryAccess;
import io.lifeboat.engine.archive.WalArchive;
import io.lifeboat.engine.archive.WalFetch;
import io.lifeboat.engine.archive.WalPrefetcher;
import io.lifeboat.postgres.WalSegmentName;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * The recovery's prefetcher when no `restore` runs it (the server was started by hand, or the
 * restore that started it has ended): started detached by wal-fetch or the launcher, it lives until
 * recovery ends (the server stops, or promotes), the data directory goes, or nothing happened for
 * ten minutes.
 */
@Command(name = "wal-prefetch", hidden = true, description = "Prefetch WAL into pg_wal's spool while recovery runs.")
final class WalPrefetchCommand implements Callable<Integer> {
    private static final long IDLE_NANOS = 600_000_000_000L;

    @ParentCommand
    LifeboatCommand root;

    @Mixin
    ClusterOptions cluster;

    @Parameters(index = "0", paramLabel = "SEGMENT", description = "The segment recovery was given last.")
    String served;

    @Parameters(index = "1", paramLabel = "PG_WAL")
    Path pgWal;

    @Option(names = "--ahead", defaultValue = "16", description = "Segments the spool holds at most.")
    int ahead;

    @Option(names = "--segment-size", description = "The cluster's WAL segment size in bytes (default: what the "
            + "spool records, else 16 MiB).")
    Long segmentSize;

    @Override
    public Integer call() throws Exception {
        // bad input is a usage error, whatever the server does
        long size = segmentSize != null ? segmentSize
                : WalPrefetcher.recordedSegmentSize(pgWal).orElse(WalSegmentName.DEFAULT_SEGMENT_SIZE);
        WalSegmentName from = WalSegmentName.parse(served, size).next();
        if (!WalFetch.recoveryGoesOn(pgWal)) {
            return 0; // recovery is over, or its restore failed and stopped the server: nothing will read what we fetch
        }
        ClusterConfig cfg = cluster.load();
        try (RepositoryAccess repo = RepositoryAccess.open(cfg, w -> { })) {
            WalArchive archive = new WalArchive(repo.storage(), repo.catalog().layout(), repo.pipeline());
            Optional<WalPrefetcher> opened = WalPrefetcher.open(archive, pgWal,
                    new WalPrefetcher.Settings(ahead, Math.max(2, cfg.jobs() * 2), size), p -> { }, root.output()::warn);
            if (opened.isEmpty()) {
                return 0; // another one prefetches for this recovery
            }
            try (WalPrefetcher p = opened.get()) {
                p.run(from, WalPrefetcher.likelyTimeline(archive, from), null, () -> WalFetch.recoveryGoesOn(pgWal),
                        IDLE_NANOS);
            }
        }
        Path dataDir = pgWal.toAbsolutePath().getParent();
        if (Files.exists(dataDir.resolve("postmaster.pid")) && !WalFetch.recoveryGoesOn(pgWal)) {
            WalFetch.dropCache(pgWal); // promoted: nothing in the spool is asked for again
        }
        return 0;
    }
}
