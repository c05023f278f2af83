package io.lifeboat.cli;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.BackupId;
import io.lifeboat.config.ClusterConfig;
import io.lifeboat.engine.RepositoryAccess;
import io.lifeboat.engine.logical.LogicalRestore;
import io.lifeboat.engine.logical.LogicalRestoreRequest;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "restore", mixinStandardHelpOptions = true,
        description = "Restore a backup. Logical: into a new database (created if absent) on the configured or given server.")
final class RestoreCommand implements Callable<Integer> {
    @ParentCommand
    LifeboatCommand root;

    @Mixin
    ClusterOptions cluster;

    @Option(names = {"-t", "--type"}, paramLabel = "TYPE", description = "logical or physical (default: the backup's type).")
    String type;

    @Option(names = {"-b", "--backup"}, paramLabel = "ID", description = "Backup id (default: the newest complete one).")
    String backup;

    @Option(names = {"-d", "--database"}, paramLabel = "DB", description = "Database inside the backup (when it holds several).")
    String database;

    @Option(names = "--target-database", paramLabel = "DB", description = "Database to restore into (default: the original name).")
    String targetDatabase;

    @Option(names = "--overwrite", description = "Restore into a non-empty database, replacing its objects.")
    boolean overwrite;

    @Option(names = "--globals", description = "Restore roles and tablespaces first (existing ones are kept).")
    boolean globals;

    @Option(names = "--no-owner", description = "Do not restore ownership and privileges.")
    boolean noOwner;

    @Option(names = "--skip-space-check", description = "Start even if the spool filesystem looks too small.")
    boolean skipSpaceCheck;

    @Override
    public Integer call() {
        Output out = root.output();
        if (type != null && !type.equalsIgnoreCase("logical")) {
            throw new LifeboatException(ErrorKind.USAGE, "physical restore is not available in this build",
                    "use --type logical");
        }
        ClusterConfig cfg = cluster.load();
        BackupId id = backup == null ? null : BackupId.parse(backup);
        try (RepositoryAccess repo = RepositoryAccess.open(cfg, out::warn)) {
            LogicalRestore.Result r = new LogicalRestore(cfg, repo.catalog(), repo.pipeline(), out.progress(), out::info)
                    .run(new LogicalRestoreRequest(id, database, targetDatabase, cfg.postgres(), overwrite, globals, noOwner,
                            cfg.jobs(), !skipSpaceCheck));
            out.text("restored " + r.sourceDatabase() + " from " + r.backup().id() + " into " + r.targetDatabase());
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("backup", r.backup().id().toString());
            j.put("sourceDatabase", r.sourceDatabase());
            j.put("targetDatabase", r.targetDatabase());
            j.put("created", r.created());
            j.put("seconds", r.duration().toMillis() / 1000.0);
            out.result(j);
        }
        return 0;
    }
}
