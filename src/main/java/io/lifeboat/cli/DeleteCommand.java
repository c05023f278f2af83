package io.lifeboat.cli;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.BackupId;
import io.lifeboat.engine.physical.Dependents;
import io.lifeboat.config.ClusterConfig;
import io.lifeboat.engine.RepositoryAccess;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

import java.util.ArrayList;
import java.util.List;
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

    @Option(names = "--with-incrementals", description = "Also delete the incremental backups that are put together "
            + "from this one (newest first); without it, such a backup is not deleted.")
    boolean withIncrementals;

    @Override
    public Integer call() {
        Output out = root.output();
        BackupId bid = BackupId.parse(id);
        ClusterConfig cfg = cluster.load();
        try (RepositoryAccess repo = RepositoryAccess.open(cfg, out::warn)) {
            List<BackupId> dependents = Dependents.of(repo.catalog().completeBackups(), bid);
            if (!dependents.isEmpty() && !withIncrementals) {
                throw new LifeboatException(ErrorKind.CONFLICT, "backup " + bid + " is in the chain of the incremental "
                        + "backups " + dependents + ", which cannot be restored without it",
                        "pass --with-incrementals to delete them too, or keep it (expire keeps whole chains)");
            }
            List<String> deleted = new ArrayList<>();
            int n = 0;
            for (BackupId d : dependents) {
                n += repo.catalog().delete(d);
                deleted.add(d.toString());
                out.text("deleted incremental backup " + d);
            }
            n += repo.catalog().delete(bid);
            deleted.add(bid.toString());
            out.text("deleted backup " + bid + " (" + n + " objects)");
            out.result(Map.of("deleted", bid.toString(), "objects", n, "backups", deleted));
        }
        return 0;
    }
}
