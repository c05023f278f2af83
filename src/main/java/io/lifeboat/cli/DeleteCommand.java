package io.lifeboat.cli;

import io.lifeboat.catalog.BackupId;
import io.lifeboat.config.ClusterConfig;
import io.lifeboat.engine.RepositoryAccess;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "delete", mixinStandardHelpOptions = true,
        description = "Delete one backup (complete or unfinished). The manifest goes first, so an interrupted delete "
                + "leaves an unfinished backup, never a broken complete one.")
final class DeleteCommand implements Callable<Integer> {
    @ParentCommand
    LifeboatCommand root;

    @Mixin
    ClusterOptions cluster;

    @Parameters(index = "0", paramLabel = "ID", description = "Backup id, as `list` shows it.")
    String id;

    @Override
    public Integer call() {
        Output out = root.output();
        BackupId bid = BackupId.parse(id);
        ClusterConfig cfg = cluster.load();
        try (RepositoryAccess repo = RepositoryAccess.open(cfg, out::warn)) {
            int n = repo.catalog().delete(bid);
            out.text("deleted backup " + bid + " (" + n + " objects)");
            out.result(Map.of("deleted", bid.toString(), "objects", n));
        }
        return 0;
    }
}
