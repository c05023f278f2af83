package io.lifeboat.cli;

import io.lifeboat.config.Durations;
import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.config.ClusterConfig;
import io.lifeboat.engine.RepositoryAccess;
import io.lifeboat.engine.retention.Expire;
import io.lifeboat.engine.retention.RetentionPlan;
import io.lifeboat.config.RetentionPolicy;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "expire", mixinStandardHelpOptions = true,
        description = "Delete backups and WAL that the retention policy no longer keeps (settings from lifeboat.yml "
                + "'retention:', overridden by the options).")
final class ExpireCommand implements Callable<Integer> {
    @ParentCommand
    LifeboatCommand root;

    @Mixin
    ClusterOptions cluster;

    @Option(names = "--keep-physical", paramLabel = "N", description = "Keep the newest N physical backups.")
    Integer keepPhysical;

    @Option(names = "--physical-window", paramLabel = "DURATION", description = "Keep point-in-time recovery for this long (e.g. 14d).")
    String physicalWindow;

    @Option(names = "--keep-logical", paramLabel = "N", description = "Keep the newest N logical backups.")
    Integer keepLogical;

    @Option(names = "--logical-window", paramLabel = "DURATION", description = "Keep logical backups this young (e.g. 30d).")
    String logicalWindow;

    @Option(names = "--unfinished-grace", paramLabel = "DURATION", description = "Remove unfinished backups untouched this long (default 24h).")
    String grace;

    @Option(names = "--dry-run", description = "Only list what would be deleted.")
    boolean dryRun;

    @Override
    public Integer call() {
        Output out = root.output();
        ClusterConfig cfg = cluster.load();
        RetentionPolicy policy = policy(cfg.retention());
        try (RepositoryAccess repo = RepositoryAccess.open(cfg, out::warn)) {
            Expire.Result r = new Expire(repo.catalog(), out::text).run(policy, dryRun, Instant.now());
            out.text(dryRun ? "dry run: nothing deleted" : "deleted " + r.backupsDeleted() + " backups and " + r.walDeleted()
                    + " WAL objects");
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("dryRun", dryRun);
            j.put("backups", r.plan().backups().stream().map(d -> Map.of("id", d.id().toString(), "keep", d.keep(),
                    "reason", d.reason())).toList());
            j.put("walToDelete", r.plan().walToDelete().size());
            j.put("backupsDeleted", r.backupsDeleted());
            j.put("walDeleted", r.walDeleted());
            out.result(j);
        }
        return 0;
    }

    private RetentionPolicy policy(RetentionPolicy configured) {
        RetentionPolicy base = configured != null ? configured : new RetentionPolicy(0, null, 0, null, null);
        Duration pw = physicalWindow != null ? Durations.parse(physicalWindow) : base.physicalWindow();
        Duration lw = logicalWindow != null ? Durations.parse(logicalWindow) : base.logicalWindow();
        Duration g = grace != null ? Durations.parse(grace) : base.unfinishedGrace();
        RetentionPolicy p = new RetentionPolicy(keepPhysical != null ? keepPhysical : base.physicalCount(), pw,
                keepLogical != null ? keepLogical : base.logicalCount(), lw, g);
        if ((keepPhysical != null && keepPhysical < 1) || (keepLogical != null && keepLogical < 1)) {
            throw new LifeboatException(ErrorKind.USAGE, "a retention count below 1 would delete every backup",
                    "keep at least 1");
        }
        if (!p.governsPhysical() && !p.governsLogical()) {
            throw new LifeboatException(ErrorKind.USAGE, "no retention policy: nothing would be expired",
                    "configure 'retention:' in lifeboat.yml or pass --keep-physical/--keep-logical/--physical-window");
        }
        return p;
    }
}
