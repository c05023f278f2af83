package io.lifeboat.cli;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.BackupId;
import io.lifeboat.catalog.BackupType;
import io.lifeboat.config.ConfigLoader;
import io.lifeboat.config.ClusterConfig;
import io.lifeboat.engine.RepositoryAccess;
import io.lifeboat.engine.logical.LogicalRestore;
import io.lifeboat.engine.logical.LogicalRestoreRequest;
import io.lifeboat.engine.physical.PhysicalRestore;
import io.lifeboat.engine.physical.PhysicalRestoreRequest;
import io.lifeboat.engine.physical.TablespaceMapping;
import io.lifeboat.engine.plan.BackupChoice;
import io.lifeboat.engine.plan.RestorePlanner;
import io.lifeboat.postgres.ExternalProcess;
import io.lifeboat.postgres.RecoverySettings;
import io.lifeboat.postgres.RecoveryTarget;
import io.lifeboat.postgres.RestoredServerSettings;
import io.lifeboat.postgres.ServerControl;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "restore", mixinStandardHelpOptions = true,
        description = {"Restore a backup.",
                "Logical: each database is created as the backup defines it (owner, encoding, locale, settings, "
                        + "privileges), also under a new name; template1, postgres and --overwrite targets are restored into.",
                "Physical: into an empty data directory (--data-directory), with tablespaces at their original "
                        + "places or mapped; --start starts the server and waits for its recovery."})
final class RestoreCommand implements Callable<Integer> {
    @ParentCommand
    LifeboatCommand root;

    @Mixin
    ClusterOptions cluster;

    @Option(names = {"-t", "--type"}, paramLabel = "TYPE", description = "logical or physical (default: the backup's type).")
    String type;

    @Option(names = {"-b", "--backup"}, paramLabel = "ID", description = "Backup id (default: the newest complete one).")
    String backup;

    @Option(names = {"-d", "--database"}, paramLabel = "DB", description = "Logical: database inside the backup (when it "
            + "holds several); repeatable.")
    List<String> databases = new ArrayList<>();

    @Option(names = "--all-databases", description = "Logical: every database of the backup, roles first (unless "
            + "--no-globals), as pg_dumpall's script would.")
    boolean allDatabases;

    @Option(names = "--target-database", paramLabel = "DB", description = "Database to restore into (default: the original name).")
    String targetDatabase;

    @Option(names = "--overwrite", description = "Restore into a non-empty database, replacing its objects.")
    boolean overwrite;

    @Option(names = "--globals", description = "Restore roles and tablespaces first (existing ones are kept; implied by "
            + "--all-databases).")
    boolean globals;

    @Option(names = "--no-globals", description = "With --all-databases: do not restore roles and tablespaces.")
    boolean noGlobals;

    @Option(names = "--no-tablespaces", description = "Logical: create everything in the target's default tablespace "
            + "(pg_restore --no-tablespaces) instead of refusing when the target lacks the backup's tablespaces.")
    boolean noTablespaces;

    @Option(names = "--no-owner", description = "Do not restore ownership and privileges.")
    boolean noOwner;

    @Option(names = "--target-time", paramLabel = "TIME", description = "Physical: recover to this moment (with a time "
            + "zone, e.g. 2026-11-24T22:05:12Z, '2026-11-24 23:05:12.5+01:00' or '2026-11-24 23:05:12 Europe/Berlin').")
    String targetTime;

    @Option(names = "--target-lsn", paramLabel = "LSN", description = "Physical: recover to this WAL location.")
    String targetLsn;

    @Option(names = "--target-xid", paramLabel = "XID", description = "Physical: recover to this transaction.")
    String targetXid;

    @Option(names = "--target-name", paramLabel = "NAME", description = "Physical: recover to this restore point "
            + "(pg_create_restore_point).")
    String targetName;

    @Option(names = "--target", paramLabel = "immediate", description = "Physical: stop as soon as the backup is consistent.")
    String targetImmediate;

    @Option(names = "--target-action", paramLabel = "ACTION", description = "Physical: promote (default), pause or shutdown "
            + "at the target.")
    String targetAction;

    @Option(names = "--target-timeline", paramLabel = "TLI", description = "Physical: latest, current or a number "
            + "(default: the newest timeline in the archive whose history holds the backup).")
    String targetTimeline;

    @Option(names = "--skip-space-check", description = "Start even if the spool (logical) or target (physical) "
            + "filesystem looks too small.")
    boolean skipSpaceCheck;

    @Option(names = {"-D", "--data-directory"}, paramLabel = "DIR", description = "Physical: the new data directory, "
            + "absent or empty (default: postgres.data-directory of the configuration).")
    Path dataDirectory;

    @Option(names = {"-T", "--tablespace-map"}, paramLabel = "OID=DIR", description = "Physical: put a tablespace "
            + "somewhere else: OID=DIR or OLDDIR=NEWDIR (repeatable; `lifeboat show ID` lists them).")
    List<String> tablespaceMap = new ArrayList<>();

    @Option(names = "--owner", paramLabel = "USER", description = "Physical, as root: the OS user to own the files and "
            + "run the server (default: the owner of the parent directory, or postgres).")
    String owner;

    @Option(names = "--start", description = "Physical: start the restored server and wait until it accepts "
            + "connections and its recovery is over.")
    boolean start;

    @Option(names = "--port", paramLabel = "PORT", description = "Physical, with --start: the port for the restored "
            + "server (default: the one in its postgresql.conf).")
    Integer port;

    @Option(names = "--start-timeout", paramLabel = "SECONDS", defaultValue = "3600", description = "Physical, with "
            + "--start: how long to wait for recovery to finish (default: ${DEFAULT-VALUE}).")
    int startTimeout;

    @Option(names = "--no-sync", description = "Physical: do not flush the restored files to disk before reporting "
            + "success. Faster, but a crash soon after can leave a damaged cluster; for scratch copies only.")
    boolean noSync;

    @Option(names = "--no-verify", description = "Physical: do not run pg_verifybackup on the result (the SHA-256 of "
            + "every object is checked regardless).")
    boolean noVerify;

    @Option(names = "--archive-mode", paramLabel = "MODE", description = "Physical: off (default) writes archive_mode = "
            + "off, so the restored copy never archives into the repository; preserve keeps the backup's archiving, for "
            + "a copy that becomes the new primary.")
    String archiveMode;

    @Option(names = "--delta", description = "Physical: restore into the existing data directory of this cluster (its "
            + "server stopped): files that already match are kept, of relation files only differing blocks are written, "
            + "what the backup does not hold is removed. For backups taken with --source local.")
    boolean delta;

    @Option(names = "--trust-unchanged", description = "Physical, with --delta: files whose inode, size, mtime and ctime "
            + "are those the last restore into this directory recorded are compared by the CRCs of the backup it "
            + "restored, not read (without it every file is read and checksummed). Does not see damage below the "
            + "filesystem.")
    boolean trustUnchanged;

    @Option(names = "--standby", description = "Physical: make the restored server a standby (standby.signal; a "
            + "backup taken from a standby keeps its primary_conninfo). Default: a standalone server, whatever the "
            + "backup was taken from.")
    boolean standby;

    @Override
    public Integer call() {
        io.lifeboat.Trace.mark("command parsed");
        Interrupts.handleInThisThread();
        Output out = root.output();
        BackupId id = backup == null ? null : BackupId.parse(backup);
        BackupType t = type != null ? BackupType.parse(type) : id != null ? id.type()
                : dataDirectory != null ? BackupType.PHYSICAL : BackupType.LOGICAL;
        if (id != null && id.type() != t) {
            throw new LifeboatException(ErrorKind.USAGE, "backup " + id + " is a " + id.type().id() + " backup, not "
                    + t.id(), "leave out --type; the backup id says what it is");
        }
        ClusterConfig cfg = cluster.load();
        io.lifeboat.Trace.mark("config loaded");
        boolean pitr = targetTime != null || targetLsn != null || targetXid != null || targetName != null
                || targetImmediate != null || targetAction != null || targetTimeline != null;
        if (pitr && t != BackupType.PHYSICAL) {
            throw new LifeboatException(ErrorKind.USAGE, "recovery targets apply to physical restores",
                    "add --type physical (and --data-directory)");
        }
        if ((archiveMode != null || standby || delta) && t != BackupType.PHYSICAL) {
            throw new LifeboatException(ErrorKind.USAGE, "--archive-mode, --standby and --delta apply to physical restores",
                    "add --type physical (and --data-directory)");
        }
        if (trustUnchanged && !delta) {
            throw new LifeboatException(ErrorKind.USAGE, "--trust-unchanged applies to --delta restores", "add --delta");
        }
        if (t == BackupType.PHYSICAL) {
            return physical(out, cfg, id);
        }
        if (noGlobals && globals) {
            throw new LifeboatException(ErrorKind.USAGE, "--globals and --no-globals contradict each other", "choose one");
        }
        if (allDatabases && !databases.isEmpty()) {
            throw new LifeboatException(ErrorKind.USAGE, "--all-databases and --database contradict each other",
                    "name the databases with --database, or restore them all with --all-databases");
        }
        try (RepositoryAccess repo = RepositoryAccess.open(cfg, out::warn, root.ahead)) {
            LogicalRestore.Result r = new LogicalRestore(cfg, repo.catalog(), repo.pipeline(), out.progress(), out::info,
                    root.aheadSession)
                    .run(new LogicalRestoreRequest(id, databases, allDatabases, targetDatabase, cfg.postgres(), overwrite,
                            globals || (allDatabases && !noGlobals), noOwner, noTablespaces, null, cfg.jobs(), !skipSpaceCheck));
            for (LogicalRestore.Restored d : r.databases()) {
                out.text("restored " + d.sourceDatabase() + " from " + r.backup().id() + " into " + d.targetDatabase());
            }
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("backup", r.backup().id().toString());
            j.put("sourceDatabase", r.sourceDatabase());
            j.put("targetDatabase", r.targetDatabase());
            j.put("created", r.created());
            j.put("databases", r.databases());
            j.put("globals", r.globals());
            j.put("log", r.log().toString());
            j.put("seconds", r.duration().toMillis() / 1000.0);
            out.result(j);
        }
        return 0;
    }

    private int physical(Output out, ClusterConfig cfg, BackupId chosen) {
        BackupId id = chosen;
        Path dir = dataDirectory != null ? dataDirectory : cfg.dataDirectory();
        if (dir == null) {
            throw new LifeboatException(ErrorKind.USAGE, "a physical restore needs a target directory",
                    "pass --data-directory DIR (an empty or new directory)");
        }
        if (port != null && !start) {
            throw new LifeboatException(ErrorKind.USAGE, "--port only applies with --start", "add --start or leave out --port");
        }
        List<TablespaceMapping> mappings = tablespaceMap.stream().map(TablespaceMapping::parse).toList();
        RecoveryTarget target = recoveryTarget();
        String action = RecoveryTarget.action(targetAction);
        if (target != null && action == null) {
            // PostgreSQL would pause at the target; a restore is meant to give back a usable database.
            action = "promote";
        }
        String timeline = RecoveryTarget.timeline(targetTimeline);
        if (target == null && targetAction != null) {
            throw new LifeboatException(ErrorKind.USAGE, "--target-action needs a recovery target",
                    "add --target-time, --target-lsn, --target-xid, --target-name or --target immediate");
        }
        RestoredServerSettings server = new RestoredServerSettings(RestoredServerSettings.ArchiveMode.parse(archiveMode),
                standby);
        if (standby && target != null) {
            throw new LifeboatException(ErrorKind.USAGE, "--standby does not take a recovery target",
                    "a standby follows its primary; restore without --standby to stop at a target");
        }
        String fetch = WalFetchCommandLine.of(cfg, cluster);
        String serverUser = PhysicalRestore.serverUser(owner, dir);
        for (Path f : WalFetchCommandLine.filesRead(cfg, cluster)) {
            if (!ExternalProcess.readableBy(serverUser, f)) {
                // While this restore runs, its own WAL prefetch serves recovery; a server started later cannot.
                out.warn("restore_command runs as " + serverUser + ", who cannot read " + f + ": if the restored server "
                        + "fetches WAL from the archive without this restore (started later, restarted, a standby), "
                        + "recovery stops there; make it readable by " + serverUser + " (e.g. chgrp " + serverUser
                        + " and chmod 640), or use a configuration file that it can read");
            }
        }
        if (cfg.encryption() != null && cfg.encryption().passphrase() != null
                && cfg.encryption().passphrase().file() == null) {
            out.warn("the passphrase comes from LIFEBOAT_PASSPHRASE, which restore_command (wal-fetch) does not "
                    + "get (Lifeboat keeps it from the programs it starts): recovery that fetches WAL needs a passphrase "
                    + "file (--passphrase-file, readable by the server's user) so restore_command can name it");
        }
        RecoverySettings recovery = target == null && timeline == null ? null
                : new RecoverySettings(fetch, target == null ? Map.of() : target.setting(), action, timeline);
        try (RepositoryAccess repo = RepositoryAccess.open(cfg, out::warn, root.ahead)) {
            if (id == null && target != null) {
                BackupChoice.Choice choice = BackupChoice.forTarget(repo.catalog(), target);
                id = choice.backup().id();
                if (choice.note() != null) {
                    out.info(choice.note());
                }
                out.info("recovering to " + target.kind().name().toLowerCase(java.util.Locale.ROOT) + " " + target.value()
                        + " from backup " + id);
            }
            PhysicalRestoreRequest req = new PhysicalRestoreRequest(id, dir, mappings, recovery, fetch, owner,
                    !noVerify, start, port, Duration.ofSeconds(Math.max(1, startTimeout)), cfg.jobs(), !skipSpaceCheck,
                    !noSync, server, delta, delta && trustUnchanged);
            PhysicalRestore.Result r = new PhysicalRestore(cfg, repo.catalog(), repo.pipeline(), out.progress(), out::log)
                    .run(req);
            out.text("restored " + r.backup().id() + " into " + r.dataDirectory()
                    + (r.started() != null ? "; server running on port " + r.started().port() : ""));
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("backup", r.backup().id().toString());
            j.put("dataDirectory", r.dataDirectory().toString());
            Map<String, String> spaces = new LinkedHashMap<>();
            r.tablespaces().forEach((oid, p) -> spaces.put(oid, p.toString()));
            j.put("tablespaces", spaces);
            j.put("files", r.files());
            j.put("bytes", r.bytes());
            j.put("verification", r.verification());
            j.put("recovery", r.recovery() == null ? Map.of() : r.recovery().settings());
            j.put("archiveMode", server.archiveMode().id());
            j.put("standby", server.standby());
            j.put("seconds", r.duration().toMillis() / 1000.0);
            if (r.started() != null) {
                ServerControl.Started s = r.started();
                Map<String, Object> st = new LinkedHashMap<>();
                st.put("port", s.port());
                st.put("state", s.state());
                st.put("timeline", s.timeline());
                st.put("recoveryEndedAt", s.redoDoneAt());
                st.put("consistentAt", s.consistentAt());
                st.put("recoveryTarget", s.recoveryTarget());
                st.put("lastTransaction", s.lastTransaction());
                st.put("paused", s.paused());
                st.put("log", s.log().toString());
                j.put("server", st);
            }
            out.result(j);
        }
        return 0;
    }

    private RecoveryTarget recoveryTarget() {
        List<RecoveryTarget> targets = new ArrayList<>();
        if (targetTime != null) {
            targets.add(RecoveryTarget.time(targetTime));
        }
        if (targetLsn != null) {
            targets.add(RecoveryTarget.lsn(targetLsn));
        }
        if (targetXid != null) {
            targets.add(RecoveryTarget.xid(targetXid));
        }
        if (targetName != null) {
            targets.add(RecoveryTarget.name(targetName));
        }
        if (targetImmediate != null) {
            targets.add(RecoveryTarget.immediate(targetImmediate));
        }
        if (targets.size() > 1) {
            throw new LifeboatException(ErrorKind.USAGE, "give one recovery target, not " + targets.size(),
                    "PostgreSQL stops at one target: choose --target-time, --target-lsn, --target-xid, --target-name or "
                            + "--target immediate");
        }
        return targets.isEmpty() ? null : targets.get(0);
    }

    static String shellQuote(String s) {
        return RestorePlanner.quote(s);
    }
}
