package io.lifeboat.cli;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.BackupManifest;
import io.lifeboat.catalog.BackupType;
import io.lifeboat.config.ClusterConfig;
import io.lifeboat.engine.RepositoryAccess;
import io.lifeboat.engine.logical.DumpCompression;
import io.lifeboat.engine.logical.LogicalBackup;
import io.lifeboat.engine.logical.LogicalBackupRequest;
import io.lifeboat.engine.physical.LocalBackup;
import io.lifeboat.engine.physical.LocalBackupRequest;
import io.lifeboat.engine.physical.PhysicalBackup;
import io.lifeboat.engine.physical.PhysicalBackupRequest;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "backup", mixinStandardHelpOptions = true, description = "Take a backup and store it in the repository.")
final class BackupCommand implements Callable<Integer> {
    @ParentCommand
    LifeboatCommand root;

    @Mixin
    ClusterOptions cluster;

    @Option(names = {"-t", "--type"}, required = true, paramLabel = "TYPE", description = "logical or physical.")
    String type;

    @Option(names = {"-d", "--database"}, paramLabel = "DB", description = "Database to dump (logical; repeatable; "
            + "default: the configured database).")
    List<String> databases = List.of();

    @Option(names = "--all-databases", description = "Dump every database (logical), plus roles and tablespaces.")
    boolean all;

    @Option(names = "--no-globals", description = "Do not store roles and tablespaces (pg_dumpall --globals-only).")
    boolean noGlobals;

    @Option(names = "--dump-compression", paramLabel = "METHOD", defaultValue = "auto",
            description = "What pg_dump compresses with: auto (zstd with pg_dump 16+, else gzip), none (Lifeboat "
                    + "compresses while uploading; faster for large, less compressible data, needs spool space for the "
                    + "uncompressed dump), gzip[:1-9], zstd[:N], lz4 (default: ${DEFAULT-VALUE}).")
    String dumpCompression;

    @Option(names = "--skip-space-check", description = "Start even if the spool filesystem looks too small.")
    boolean skipSpaceCheck;

    @Option(names = "--include-wal", description = "Physical: also store the WAL the backup needs (streamed while it "
            + "runs), so that it restores without a WAL archive.")
    boolean includeWal;

    @Option(names = "--checkpoint", paramLabel = "MODE", defaultValue = "fast", description = "Physical: fast "
            + "(immediate checkpoint, the default) or spread (gentler on a busy server, but the backup waits up to "
            + "checkpoint_timeout before it starts).")
    String checkpoint;

    @Option(names = "--archive-timeout", paramLabel = "SECONDS", defaultValue = "300", description = "Physical, "
            + "without --include-wal, on a server that archives WAL: how long to wait for the backup's last WAL segment "
            + "to reach the repository through archive_command before failing (default: ${DEFAULT-VALUE}).")
    int archiveTimeout;

    @Option(names = "--max-rate", paramLabel = "KIB/S", description = "Physical: limit how fast the server reads its "
            + "files, in KiB/s (32 .. 1048576), to spare a busy server's disks.")
    Integer maxRate;

    @Option(names = "--source", paramLabel = "SOURCE", description = "Physical: remote (the replication protocol, from "
            + "any host; the default) or local (on the database host: Lifeboat reads the data directory itself, --jobs "
            + "files at a time, and can take block-level incrementals). Default: the cluster's source setting.")
    String source;

    @Option(names = "--incremental", description = "Physical: store only what changed since the newest backup taken "
            + "the same way (--source local: blocks of relation files, other files whole, any version; remote: the "
            + "server's own incremental, PostgreSQL 17+ with summarize_wal = on); a full backup if there is none.")
    boolean incremental;

    @Option(names = "--resume", description = "Physical, --source local: go on with the newest interrupted backup "
            + "(killed, crashed) of the same kind, keeping the files it stored that did not change since; "
            + "without one, an ordinary backup.")
    boolean resume;

    @Option(names = "--full", description = "Physical: a full backup, also where full-every would take an incremental.")
    boolean full;

    @Override
    public Integer call() {
        Interrupts.handleInThisThread();
        Output out = root.output();
        BackupType t = BackupType.parse(type);
        DumpCompression.parse(dumpCompression);
        ClusterConfig cfg = cluster.load();
        io.lifeboat.Trace.mark("config loaded");
        if (t == BackupType.PHYSICAL) {
            return physical(out, cfg);
        }
        if (includeWal || maxRate != null || source != null || incremental || full || resume) {
            throw new LifeboatException(ErrorKind.USAGE, "--include-wal, --max-rate, --source, --incremental, --full, --resume "
                    + "are for physical backups", "add --type physical, or leave them out");
        }
        if (all && !databases.isEmpty()) {
            throw new LifeboatException(ErrorKind.USAGE, "--all-databases and --database exclude each other",
                    "pass one of them");
        }
        try (RepositoryAccess repo = RepositoryAccess.open(cfg, out::warn, root.ahead)) {
            BackupManifest m = new LogicalBackup(cfg, repo.catalog(), repo.pipeline(), out.progress(), out::info, root.aheadSession)
                    .run(new LogicalBackupRequest(databases, all, !noGlobals, cfg.jobs(), !skipSpaceCheck,
                            DumpCompression.parse(dumpCompression)));
            out.text(m.id().toString());
            out.result(Views.summary(m));
            expireIfConfigured(out, cfg, repo);
            io.lifeboat.Trace.mark("closing repository");
        }
        return 0;
    }

    private int physical(Output out, ClusterConfig cfg) {
        if (!databases.isEmpty() || all) {
            throw new LifeboatException(ErrorKind.USAGE, "a physical backup always holds the whole cluster",
                    "leave out --database and --all-databases, or take a logical backup");
        }
        if (!checkpoint.equals("fast") && !checkpoint.equals("spread")) {
            throw new LifeboatException(ErrorKind.USAGE, "--checkpoint must be fast or spread, not '" + checkpoint + "'",
                    "fast is the default");
        }
        if (maxRate != null && (maxRate < 32 || maxRate > 1048576)) {
            throw new LifeboatException(ErrorKind.USAGE, "--max-rate must be between 32 and 1048576 KiB/s",
                    "leave it out for no limit");
        }
        if (archiveTimeout < 1) {
            throw new LifeboatException(ErrorKind.USAGE, "--archive-timeout must be at least 1 second", "the default is 300");
        }
        PhysicalBackupRequest req = new PhysicalBackupRequest(includeWal, checkpoint.equals("fast"),
                maxRate == null ? 0 : maxRate, cfg.jobs(), Integer.getInteger("lifeboat.chunk-mib", PhysicalBackupRequest.DEFAULT_CHUNK_BYTES >> 20) << 20,
                archiveTimeout);
        if (source != null && !source.equals("local") && !source.equals("remote")) {
            throw new LifeboatException(ErrorKind.USAGE, "--source must be local or remote, not '" + source + "'",
                    "local reads the data directory on the database host; remote (the default) uses the replication protocol");
        }
        if (incremental && full) {
            throw new LifeboatException(ErrorKind.USAGE, "--incremental and --full exclude each other", "pass one of them");
        }
        boolean local = source != null ? source.equals("local") : cfg.localSource();
        if (local) {
            return local(out, cfg, req);
        }
        if (resume) {
            throw new LifeboatException(ErrorKind.USAGE, "--resume goes on with a backup taken with --source local",
                    "run it on the database host with --source local (or source: local in lifeboat.yml)");
        }
        // Remote incrementals are the server's own (PostgreSQL 17+); PhysicalBackup says what an older server needs.
        LocalBackupRequest.Kind kind = kind(cfg);
        try (RepositoryAccess repo = RepositoryAccess.open(cfg, out::warn, root.ahead)) {
            BackupManifest m = new PhysicalBackup(cfg, repo.catalog(), repo.pipeline(), out.progress(), out::log)
                    .run(req, kind, cfg.fullEvery());
            out.text(m.id().toString());
            out.result(Views.summary(m));
            expireIfConfigured(out, cfg, repo);
        }
        return 0;
    }

    private int local(Output out, ClusterConfig cfg, PhysicalBackupRequest req) {
        if (maxRate != null) {
            throw new LifeboatException(ErrorKind.USAGE, "--max-rate limits the server's reads over the replication "
                    + "protocol; with --source local Lifeboat reads the files itself", "leave out --max-rate, or use fewer --jobs");
        }
        LocalBackupRequest.Kind kind = kind(cfg);
        try (RepositoryAccess repo = RepositoryAccess.open(cfg, out::warn, root.ahead)) {
            BackupManifest m = new LocalBackup(cfg, repo.catalog(), repo.pipeline(), out.progress(), out::log)
                    .run(new LocalBackupRequest(req, kind, cfg.fullEvery(), resume));
            out.text(m.id().toString());
            out.result(Views.summary(m));
            expireIfConfigured(out, cfg, repo);
        }
        return 0;
    }

    private LocalBackupRequest.Kind kind(ClusterConfig cfg) {
        return full ? LocalBackupRequest.Kind.FULL : incremental ? LocalBackupRequest.Kind.INCREMENTAL
                : cfg.fullEvery() != null ? LocalBackupRequest.Kind.AUTO : LocalBackupRequest.Kind.FULL;
    }

    /** The retention policy runs after a backup succeeded, never before: a failed backup expires nothing. */
    private static void expireIfConfigured(Output out, ClusterConfig cfg, RepositoryAccess repo) {
        if (cfg.retention() != null && cfg.expireAfterBackup()) {
            new io.lifeboat.engine.retention.Expire(repo.catalog(), out::info).run(cfg.retention(), false,
                    java.time.Instant.now());
        }
    }
}
