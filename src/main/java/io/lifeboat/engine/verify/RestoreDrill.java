package io.lifeboat.engine.verify;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.BackupId;
import io.lifeboat.catalog.BackupManifest;
import io.lifeboat.catalog.BackupType;
import io.lifeboat.catalog.Catalog;
import io.lifeboat.catalog.Json;
import io.lifeboat.config.ClusterConfig;
import io.lifeboat.engine.ObjectPipeline;
import io.lifeboat.engine.Progress;
import io.lifeboat.engine.logical.LogicalRestore;
import io.lifeboat.engine.logical.LogicalRestoreRequest;
import io.lifeboat.engine.Spool;
import io.lifeboat.engine.archive.WalArchive;
import io.lifeboat.engine.archive.WalFetch;
import io.lifeboat.engine.physical.RecoveryEndCheck;
import io.lifeboat.engine.physical.PhysicalRestore;
import io.lifeboat.engine.physical.PhysicalRestoreRequest;
import io.lifeboat.engine.physical.TablespaceMapping;
import io.lifeboat.postgres.ExternalProcess;
import io.lifeboat.postgres.PgConnectionSettings;
import io.lifeboat.postgres.PgSession;
import io.lifeboat.postgres.PgVersion;
import io.lifeboat.postgres.RecoverySettings;
import io.lifeboat.postgres.RecoveryTarget;
import io.lifeboat.postgres.ScratchCluster;
import io.lifeboat.postgres.ServerControl;
import io.lifeboat.storage.Keys;
import io.lifeboat.storage.ObjectInfo;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Proves a backup restorable: restores it into a scratch cluster on this machine (started on a
 * free port, deleted afterwards, also on failure), runs checks on the result, and records the
 * outcome in the repository.
 *
 * <p>Logical: a new scratch cluster; every database of the backup is restored (with its roles).
 * Physical: the backup is restored into a scratch data directory (tablespaces mapped into it),
 * pg_verifybackup checks the files before the server starts, recovery replays the WAL archive
 * through wal-fetch to its end and promotes; the drill reports where replay stopped. Then, for
 * both, every database's tables are read (row counts) and its btree indexes checked with amcheck
 * where available.
 */
public final class RestoreDrill {
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

    private final ClusterConfig cluster;
    private final Catalog catalog;
    private final ObjectPipeline pipeline;
    private final Consumer<String> log;
    private final String walFetchCommand;

    /** A drill of logical backups only. */
    public RestoreDrill(ClusterConfig cluster, Catalog catalog, ObjectPipeline pipeline, Consumer<String> log) {
        this(cluster, catalog, pipeline, log, null);
    }

    /**
     * @param walFetchCommand the restore_command for physical drills ("lifeboat wal-fetch ... %f %p"),
     *                        as a physical restore writes it
     */
    public RestoreDrill(ClusterConfig cluster, Catalog catalog, ObjectPipeline pipeline, Consumer<String> log,
                        String walFetchCommand) {
        this.cluster = cluster;
        this.catalog = catalog;
        this.pipeline = pipeline;
        this.log = log;
        this.walFetchCommand = walFetchCommand;
    }

    /**
     * Drills one backup and records the result. A missing or wrong encryption identity fails at
     * once with a KEY error (nothing restored, nothing recorded), as a restore does.
     */
    public DrillRecord run(BackupManifest m, Path scratchParent) {
        return run(m, scratchParent, null);
    }

    /**
     * Drills one backup, a physical one recovered to {@code target} (null: to the end of the
     * archive), and records the result: proof that the restore planner's moment is reachable.
     */
    public DrillRecord run(BackupManifest m, Path scratchParent, RecoveryTarget target) {
        if (target != null && m.type() != BackupType.PHYSICAL) {
            throw new LifeboatException(ErrorKind.USAGE, "a recovery target applies to physical backups, and "
                    + m.id() + " is " + m.type().id(), "drill a physical backup to reach a moment");
        }
        pipeline.checkReadable(catalog, m);
        DrillRecord record = m.type() == BackupType.PHYSICAL ? physical(m, scratchParent, target) : logical(m, scratchParent);
        save(record);
        return record;
    }

    private DrillRecord logical(BackupManifest m, Path scratchParent) {
        Instant start = Instant.now();
        Map<String, String> checks = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        String onto;
        // created, then started inside the try: a server that does not start is removed with its directory too
        try (ScratchCluster scratch = ScratchCluster.create(scratchParent, ScratchCluster.Options.defaults())) {
            scratch.start();
            onto = "scratch PostgreSQL on 127.0.0.1:" + scratch.port();
            log.accept("restore drill of " + m.id() + " into a " + onto);
            ClusterConfig target = new ClusterConfig(cluster.name(), scratch.connection("postgres"), cluster.repositories(),
                    cluster.jobs(), cluster.spoolDir(), cluster.binDir(), scratch.dataDir(), null, false);
            LogicalRestore restore = new LogicalRestore(target, catalog, pipeline, Progress.NONE, log);
            boolean globals = m.logical().globals() != null;
            for (BackupManifest.DumpedDatabase db : m.logical().databases()) {
                String name = db.name();
                try {
                    // The scratch cluster is new: every target database is absent or empty.
                    // Tablespaces go into the scratch cluster's directory, never to their original places.
                    restore.run(new LogicalRestoreRequest(m.id(), name, name, scratch.connection("postgres"), false, globals,
                            false, cluster.jobs(), true).withScratchTablespaces(scratch.baseDir().resolve("tablespaces")));
                    globals = false; // roles once is enough
                    checks.put("restore " + name, "ok");
                    check(scratch, name, checks, problems);
                } catch (LifeboatException e) {
                    if (e.kind() == ErrorKind.KEY) {
                        throw e;
                    }
                    checks.put("restore " + name, "failed");
                    problems.add(name + ": " + e.getMessage());
                }
            }
        }
        double seconds = Duration.between(start, Instant.now()).toMillis() / 1000.0;
        return new DrillRecord(m.id(), start, problems.isEmpty(), seconds, onto, checks, problems);
    }

    private DrillRecord physical(BackupManifest m, Path scratchParent, RecoveryTarget target) {
        if (walFetchCommand == null) {
            throw new IllegalStateException("a physical drill needs the wal-fetch command");
        }
        Instant start = Instant.now();
        Map<String, String> checks = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        int major = new PgVersion(m.pgVersionNum()).major();
        String onto = "scratch data directory (PostgreSQL " + major + ")";
        double seconds = 0;
        String recoveredTo = null;
        String lastTransaction = null;
        boolean root = ExternalProcess.runningAsRoot();
        String osUser = root ? ScratchCluster.OS_USER : System.getProperty("user.name");
        Path base = scratchBase(scratchParent);
        ServerControl server = null;
        Path dataDir = base.resolve("data");
        try {
            Path serverBin = PhysicalRestore.serverBinaries(cluster.binDir(), major);
            Map<String, String> spaces = m.physical().tablespaces() == null ? Map.of() : m.physical().tablespaces();
            List<TablespaceMapping> maps = spaces.keySet().stream()
                    .map(oid -> new TablespaceMapping(oid, base.resolve("tablespaces").resolve(oid))).toList();
            int port = freePort();
            log.accept("restore drill of " + m.id() + " into " + dataDir + (maps.isEmpty() ? "" : ", tablespaces under "
                    + base.resolve("tablespaces")));
            // To a target, promote there (PostgreSQL would pause): the checks below run on the copy as of that moment.
            RecoverySettings recovery = target == null ? RecoverySettings.archiveRecovery(walFetchCommand)
                    : new RecoverySettings(walFetchCommand, target.setting(), "promote", null);
            PhysicalRestoreRequest req = new PhysicalRestoreRequest(m.id(), dataDir, maps, recovery, walFetchCommand, root ? osUser : null, true, false,
                    null, DRILL_TIMEOUT, cluster.jobs(), true, false); // a scratch copy: no need to make it durable
            PhysicalRestore.Result restored;
            try {
                restored = new PhysicalRestore(cluster, catalog, pipeline, Progress.NONE, log).run(req);
            } catch (LifeboatException e) {
                if (e.kind() == ErrorKind.KEY) {
                    throw e;
                }
                checks.put("restore", "failed");
                problems.add("restore of " + m.id() + ": " + e.getMessage());
                return new DrillRecord(m.id(), start, false, secondsSince(start), onto, checks, problems, null, null,
                        target == null ? null : describe(target));
            }
            checks.put("restore", restored.files() + " files, " + Spool.human(restored.bytes())
                    + " restored, every object's SHA-256 checked");
            checks.put("pg_verifybackup", restored.verification());
            io.lifeboat.postgres.DrillSettings.apply(dataDir, base, port, osUser);
            server = new ServerControl(serverBin, dataDir, osUser);
            ServerControl.Started started;
            try {
                started = server.start(port, DRILL_TIMEOUT, log);
            } catch (LifeboatException e) {
                checks.put("recovery", "failed");
                problems.add("recovery of " + m.id() + ": " + e.getMessage());
                return new DrillRecord(m.id(), start, false, secondsSince(start), onto, checks, problems, null, null,
                        target == null ? null : describe(target));
            }
            seconds = secondsSince(start);
            onto = "scratch PostgreSQL " + major + " on 127.0.0.1:" + port;
            recoveredTo = started.redoDoneAt() != null ? started.redoDoneAt() : started.consistentAt();
            lastTransaction = started.lastTransaction();
            if (target == null) {
                checks.put("recovery", "replayed the WAL archive to its end" + (recoveredTo != null ? " at " + recoveredTo : "")
                        + ", promoted on timeline " + started.timeline() + (lastTransaction != null
                        ? "; last replayed commit at " + lastTransaction : "; no commit replayed after the backup"));
            } else if (started.recoveryTarget() != null) {
                checks.put("recovery", "reached the target " + describe(target) + ": recovery stopping "
                        + started.recoveryTarget() + ", promoted on timeline " + started.timeline());
            } else {
                checks.put("recovery", "failed");
                problems.add("recovery of " + m.id() + " did not stop at the target " + describe(target)
                        + (recoveredTo != null ? " (replay ended at " + recoveredTo + ")" : ""));
            }
            if (!"in production".equals(started.state())) {
                problems.add("recovery of " + m.id() + " ended in state '" + started.state() + "', not in production");
            }
            if (target == null) { // to a target, recovery ends before the archive does, on purpose
                RecoveryEndCheck.check(started.history(), new WalArchive(catalog.storage(), catalog.layout(), pipeline),
                        m.physical().segmentSize()).ifPresent(s -> problems.add("recovery of " + m.id() + ": " + s.describe()));
            }
            Function<String, PgSession> open = sessions(port);
            List<String> databases;
            try (PgSession s = open.apply("postgres")) {
                databases = s.query("SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY 1")
                        .stream().map(r -> r.get(0)).toList();
            }
            for (String db : databases) {
                check(open, db, checks, problems);
            }
        } catch (LifeboatException e) {
            if (e.kind() == ErrorKind.KEY || e.kind() == ErrorKind.TOOL || e.kind() == ErrorKind.RESOURCE) {
                throw e; // not the backup's fault: nothing to record
            }
            problems.add(m.id() + ": " + e.getMessage());
        } catch (IOException e) {
            problems.add(m.id() + ": cannot compare where recovery ended with the archive: " + e.getMessage());
        } finally {
            if (server != null && Files.exists(dataDir.resolve("postmaster.pid"))) {
                server.stop("immediate");
            }
            if (server != null) {
                WalFetch.stopPrefetchers(dataDir.resolve("pg_wal")); // else they write into the removed directory
            }
            ScratchCluster.deleteTree(base);
        }
        return new DrillRecord(m.id(), start, problems.isEmpty(), seconds, onto, checks, problems, recoveredTo, lastTransaction,
                target == null ? null : describe(target));
    }

    /** "time 2026-11-24 22:05:12.000000+00:00", "lsn 0/3000028", as drill records name their target. */
    public static String describe(RecoveryTarget target) {
        return target.kind().name().toLowerCase(java.util.Locale.ROOT) + " " + target.value();
    }

    private static final Duration DRILL_TIMEOUT = Duration.ofHours(1);

    private static int freePort() {
        try {
            return ScratchCluster.freePort();
        } catch (IOException e) {
            throw new LifeboatException(ErrorKind.RESOURCE, "no free TCP port for the drill: " + e.getMessage(), null, e);
        }
    }

    private static double secondsSince(Instant start) {
        return Duration.between(start, Instant.now()).toMillis() / 1000.0;
    }

    /** A new directory for the drill's data directory and tablespaces, usable by the server's OS user. */
    private static Path scratchBase(Path parent) {
        try {
            Path base = parent == null ? Files.createTempDirectory("lifeboat-drill-")
                    : Files.createTempDirectory(Files.createDirectories(parent), "lifeboat-drill-");
            Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwx------"));
            ScratchCluster.giveToServerUser(base);
            return base;
        } catch (IOException e) {
            throw new LifeboatException(ErrorKind.RESOURCE, "cannot create a scratch directory for the drill: "
                    + e.getMessage(), "check free space and permissions (or pass --scratch-directory DIR)", e);
        }
    }

    /**
     * Sessions on the restored copy as its bootstrap superuser (whatever it is called there): the
     * drill's pg_hba trusts local connections, so any existing role gets in to look the name up.
     */
    private Function<String, PgSession> sessions(int port) {
        List<String> candidates = new ArrayList<>(List.of("postgres"));
        if (cluster.postgres() != null && !candidates.contains(cluster.postgres().user())) {
            candidates.add(cluster.postgres().user());
        }
        LifeboatException first = null;
        for (String user : candidates) {
            PgConnectionSettings c = new PgConnectionSettings("127.0.0.1", port, user, "template1", null, null);
            try (PgSession s = PgSession.open(c)) {
                String superuser = s.queryValue("SELECT rolname FROM pg_roles WHERE oid = 10").orElse(user);
                return db -> PgSession.open(c.withUser(superuser).withDatabase(db));
            } catch (LifeboatException e) {
                first = first == null ? e : first;
            }
        }
        throw first;
    }

    private void check(ScratchCluster scratch, String db, Map<String, String> checks, List<String> problems) {
        check(scratch::session, db, checks, problems);
    }

    /** The checks of every drill on one restored database: every table readable (row counts), btree indexes via amcheck. */
    private void check(Function<String, PgSession> open, String db, Map<String, String> checks, List<String> problems) {
        try (PgSession s = open.apply(db)) {
            long tables = Long.parseLong(s.queryValue("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = "
                    + "c.relnamespace WHERE c.relkind IN ('r','p') AND n.nspname NOT IN ('pg_catalog','information_schema')")
                    .orElse("0"));
            long rows = 0;
            for (List<String> t : s.query("SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n "
                    + "ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog','information_schema') "
                    + "AND n.nspname NOT LIKE 'pg_toast%'")) {
                rows += Long.parseLong(s.queryValue("SELECT count(*) FROM " + t.get(0)).orElse("0"));
            }
            checks.put("rows " + db, tables + " tables, " + rows + " rows readable");
            boolean amcheck = s.queryValue("SELECT 1 FROM pg_available_extensions WHERE name = 'amcheck'").isPresent();
            if (amcheck) {
                s.execute("CREATE EXTENSION IF NOT EXISTS amcheck");
                List<List<String>> idx = s.query("SELECT c.oid::regclass::text FROM pg_index i JOIN pg_class c ON c.oid = "
                        + "i.indexrelid JOIN pg_am a ON a.oid = c.relam WHERE a.amname = 'btree' AND i.indisvalid AND c.relkind = 'i'");
                for (List<String> i : idx) {
                    s.queryValue("SELECT bt_index_check(" + PgSession.quoteLiteral(i.get(0)) + "::regclass, true)");
                }
                checks.put("amcheck " + db, idx.size() + " btree indexes consistent with their tables");
            } else {
                checks.put("amcheck " + db, "not installed on this machine; skipped");
            }
        } catch (LifeboatException e) {
            checks.put("checks " + db, "failed");
            problems.add(db + ": " + e.getMessage());
        }
    }

    private String drillKey(BackupId id, Instant time) {
        return Keys.join(catalog.layout().drillsDir(id), STAMP.format(time) + ".json");
    }

    private void save(DrillRecord r) {
        try {
            catalog.storage().put(drillKey(r.backup(), r.time()), Json.MAPPER.writeValueAsBytes(r));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The newest {@code limit} drills of a backup, oldest first; unreadable records are left out. */
    public static List<DrillRecord> history(Catalog catalog, BackupId id, int limit) {
        List<DrillRecord> out = new ArrayList<>();
        try {
            List<ObjectInfo> all = new ArrayList<>(catalog.storage().list(catalog.layout().drillsDir(id) + "/"));
            all.sort(Comparator.comparing(ObjectInfo::key));
            for (ObjectInfo o : all.subList(Math.max(0, all.size() - limit), all.size())) {
                try {
                    out.add(Json.MAPPER.readValue(catalog.storage().get(o.key()), DrillRecord.class));
                } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                    // a damaged record: the others still count
                }
            }
        } catch (IOException e) {
            return out;
        }
        return out;
    }

    /** The newest drill of a backup, if any. */
    public static Optional<DrillRecord> latest(Catalog catalog, BackupId id) {
        try {
            List<ObjectInfo> all = catalog.storage().list(catalog.layout().drillsDir(id) + "/");
            Optional<ObjectInfo> newest = all.stream().max(Comparator.comparing(ObjectInfo::key));
            if (newest.isEmpty()) {
                return Optional.empty();
            }
            return Optional.of(Json.MAPPER.readValue(catalog.storage().get(newest.get().key()), DrillRecord.class));
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
