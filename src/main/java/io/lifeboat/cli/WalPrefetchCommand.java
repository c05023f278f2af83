package io.lifeboat.cli;

import io.lifeboat.config.ClusterConfig;
import io.lifeboat.engine.RepositoryAccess;
import io.lifeboat.engine.archive.WalArchive;
import io.lifeboat.engine.archive.WalFetch;
import io.lifeboat.postgres.WalFileName;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "wal-prefetch", hidden = true, description = "Download the WAL segments after one into pg_wal's prefetch cache.")
final class WalPrefetchCommand implements Callable<Integer> {
    @ParentCommand
    LifeboatCommand root;

    @Mixin
    ClusterOptions cluster;

    @Parameters(index = "0", paramLabel = "SEGMENT")
    String served;

    @Parameters(index = "1", paramLabel = "PG_WAL")
    Path pgWal;

    @Option(names = "--ahead", defaultValue = "16")
    int ahead;

    @Override
    public Integer call() throws Exception {
        WalFileName after = WalFileName.parse(served); // bad input is a usage error, whatever the server does
        if (!WalFetch.recoveryGoesOn(pgWal)) {
            return 0; // recovery is over, or its restore failed and stopped the server: nothing will read what we fetch
        }
        ClusterConfig cfg = cluster.load();
        try (RepositoryAccess repo = RepositoryAccess.open(cfg, w -> { })) {
            new WalFetch(new WalArchive(repo.storage(), repo.catalog().layout(), repo.pipeline()))
                    .prefetch(after, pgWal, ahead, Math.max(2, cfg.jobs() * 2));
        }
        return 0;
    }
}
