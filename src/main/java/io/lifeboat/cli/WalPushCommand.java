package io.lifeboat.cli;

import io.lifeboat.config.ClusterConfig;
import io.lifeboat.engine.RepositoryAccess;
import io.lifeboat.engine.archive.WalArchive;
import io.lifeboat.engine.archive.WalPush;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "wal-push", mixinStandardHelpOptions = true,
        description = "archive_command: archive a WAL file (and the others already waiting) to the repository. "
                + "Exits 0 only when the file is stored and checked. Use: archive_command = 'lifeboat wal-push %p'")
final class WalPushCommand implements Callable<Integer> {
    @ParentCommand
    LifeboatCommand root;

    @Mixin
    ClusterOptions cluster;

    @Parameters(index = "0", paramLabel = "%p", description = "The file, as PostgreSQL passes it (relative to the data directory).")
    Path file;

    @Option(names = "--batch", defaultValue = "32", description = "Also archive up to this many other waiting files (default: ${DEFAULT-VALUE}).")
    int batch;

    @Override
    public Integer call() throws Exception {
        Output out = root.output();
        ClusterConfig cfg = cluster.load();
        try (RepositoryAccess repo = RepositoryAccess.open(cfg, out::warn)) {
            WalArchive archive = new WalArchive(repo.storage(), repo.catalog().layout(), repo.pipeline());
            WalPush.Result r = new WalPush(archive, out::warn).run(file, batch, Math.max(2, cfg.jobs() * 2));
            out.result(Map.of("file", file.getFileName().toString(), "outcome", r.outcome().name().toLowerCase(),
                    "batched", r.batched()));
        }
        return 0;
    }
}
