package io.lifeboat.agent.schedule;

import io.lifeboat.config.RetentionPolicy;
import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.BackupEntry;
import io.lifeboat.catalog.BackupManifest;
import io.lifeboat.catalog.BackupType;
import io.lifeboat.config.AgentConfig;
import io.lifeboat.config.ClusterConfig;
import io.lifeboat.engine.Progress;
import io.lifeboat.engine.RepositoryAccess;
import io.lifeboat.engine.logical.DumpCompression;
import io.lifeboat.engine.logical.LogicalBackup;
import io.lifeboat.engine.logical.LogicalBackupRequest;
import io.lifeboat.engine.physical.PhysicalBackup;
import io.lifeboat.engine.physical.PhysicalBackupRequest;
import io.lifeboat.engine.retention.Expire;
import io.lifeboat.engine.verify.DrillRecord;
import io.lifeboat.engine.verify.RestoreDrill;
import io.lifeboat.engine.verify.Verification;

import java.time.Instant;
import java.util.List;
import java.util.function.Consumer;

/**
 * The scheduled jobs, run by the engine as the one-shot commands run them: physical backups (with
 * their WAL, so each is restorable on its own), logical backups of the configured database,
 * retention, verify, and restore drills of the newest backup.
 */
public final class EngineJobs implements Jobs {
    private final ClusterConfig cluster;
    private final RepositoryAccess repo;
    private final Consumer<String> log;
    private final String restoreCommand;

    /** @param restoreCommand the restore_command of physical drills (lifeboat wal-fetch ... %f %p) */
    public EngineJobs(ClusterConfig cluster, RepositoryAccess repo, Consumer<String> log, String restoreCommand) {
        this.cluster = cluster;
        this.repo = repo;
        this.log = log;
        this.restoreCommand = restoreCommand;
    }

    @Override
    public String run(AgentConfig.JobKind kind) {
        return switch (kind) {
            case PHYSICAL -> "backup " + new PhysicalBackup(cluster, repo.catalog(), repo.pipeline(), Progress.NONE, log)
                    .run(PhysicalBackupRequest.defaults(cluster.jobs()).withIncludeWal(true)).id();
            case LOGICAL -> "backup " + new LogicalBackup(cluster, repo.catalog(), repo.pipeline(), Progress.NONE, log)
                    .run(new LogicalBackupRequest(List.of(), false, true, cluster.jobs(), true,
                            DumpCompression.parse("auto"))).id();
            case EXPIRE -> expire();
            case VERIFY -> verify();
            case DRILL -> drill();
        };
    }

    private String expire() {
        if (cluster.retention() == null) {
            throw new LifeboatException(ErrorKind.CONFIG, "the expire schedule of cluster '" + cluster.name() + "' has no "
                    + "retention policy to apply", "add 'retention:' to the cluster in lifeboat.yml");
        }
        Expire.Result r = new Expire(repo.catalog(), log).run(cluster.retention(), false, Instant.now());
        return "deleted " + r.backupsDeleted() + " backups and " + r.walDeleted() + " WAL objects";
    }

    private String verify() {
        List<Verification.RepositoryReport> reports = new Verification(cluster.jobs(), Progress.NONE,
                RetentionPolicy.unfinishedGraceOf(cluster.retention()), null, java.time.Instant.now())
                .run(repo, null);
        List<String> problems = reports.stream().flatMap(r -> r.allProblems(reports.size() > 1).stream()).toList();
        if (!problems.isEmpty()) {
            throw new LifeboatException(ErrorKind.CORRUPT, problems.size() + " problem(s): " + String.join("; ", problems),
                    "run `lifeboat verify` for the details");
        }
        return "verified " + reports.stream().mapToInt(r -> r.backups().size()).sum() + " backup copies";
    }

    private String drill() {
        List<BackupManifest> complete = repo.catalog().list().stream().filter(BackupEntry::complete)
                .map(BackupEntry::manifest).toList();
        BackupManifest m = complete.stream().filter(x -> x.type() == BackupType.PHYSICAL).reduce((a, b) -> b)
                .or(() -> complete.stream().reduce((a, b) -> b))
                .orElseThrow(() -> new LifeboatException(ErrorKind.NOT_FOUND, "no complete backup to drill",
                        "schedule backups first"));
        DrillRecord d = new RestoreDrill(cluster, repo.catalog(), repo.pipeline(), log, restoreCommand).run(m, null);
        if (!d.ok()) {
            throw new LifeboatException(ErrorKind.CORRUPT, "the restore drill of " + m.id() + " failed: "
                    + String.join("; ", d.problems()), "run `lifeboat verify --restore-test --backup " + m.id() + "`");
        }
        return "restored " + m.id() + " in " + d.restoreSeconds() + " s onto " + d.restoredOnto();
    }
}
