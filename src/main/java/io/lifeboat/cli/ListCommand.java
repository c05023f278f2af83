package io.lifeboat.cli;

import io.lifeboat.catalog.BackupEntry;
import io.lifeboat.config.ClusterConfig;
import io.lifeboat.engine.RepositoryAccess;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.ParentCommand;

import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "list", mixinStandardHelpOptions = true, description = "List the backups of a cluster, complete and unfinished.")
final class ListCommand implements Callable<Integer> {
    @ParentCommand
    LifeboatCommand root;

    @Mixin
    ClusterOptions cluster;

    @Override
    public Integer call() {
        Output out = root.output();
        ClusterConfig cfg = cluster.load();
        try (RepositoryAccess repo = RepositoryAccess.open(cfg, out::warn)) {
            List<BackupEntry> entries = repo.catalog().list();
            java.util.Map<io.lifeboat.catalog.BackupId, io.lifeboat.engine.verify.DrillRecord> drills = new java.util.HashMap<>();
            for (BackupEntry e : entries) {
                if (e.complete()) {
                    io.lifeboat.engine.verify.RestoreDrill.latest(repo.catalog(), e.id()).ifPresent(d -> drills.put(e.id(), d));
                }
            }
            if (entries.isEmpty()) {
                out.text("no backups of cluster '" + cfg.name() + "' in " + repo.storage().describe());
            } else {
                Views.table(entries, drills).forEach(out::text);
            }
            out.result(Map.of("cluster", cfg.name(), "repository", repo.storage().describe(),
                    "backups", entries.stream().map(e -> Views.entry(e, drills.get(e.id()))).toList()));
        }
        return 0;
    }
}
