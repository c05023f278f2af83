package io.lifeboat.engine.logical;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.BackupManifest;
import io.lifeboat.catalog.BackupType;
import io.lifeboat.catalog.Catalog;
import io.lifeboat.catalog.StoredObject;
import io.lifeboat.config.ClusterConfig;
import io.lifeboat.engine.LocalWrite;
import io.lifeboat.engine.ObjectPipeline;
import io.lifeboat.engine.Parallel;
import io.lifeboat.engine.Progress;
import io.lifeboat.engine.Spool;
import io.lifeboat.postgres.DatabaseDefinition;
import io.lifeboat.postgres.ExternalProcess;
import io.lifeboat.postgres.GlobalsScript;
import io.lifeboat.postgres.PgBinaries;
import io.lifeboat.postgres.PgConnectionSettings;
import io.lifeboat.postgres.PgRestore;
import io.lifeboat.postgres.PgRestoreOutcome;
import io.lifeboat.postgres.PgSession;
import io.lifeboat.postgres.PgVersion;
import io.lifeboat.postgres.SessionSource;
import io.lifeboat.postgres.ScratchCluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * Restores databases of a logical backup as pg_restore --create would: each database is created
 * from its own definition in the archive (owner, encoding, locale provider and collation,
 * tablespace, connection limit, settings, comment, privileges), also under a new name, then
 * pg_restore -jN fills it. Databases that exist (template1 and postgres on any server; others with
 * --overwrite) are restored into and get the definition's properties but are never recreated. Every
 * object is downloaded and verified before pg_restore reads it: the data files download while the
 * database is created and (in a database the restore created) pg_restore runs the pre-data section
 * from the verified toc.dat; the rest waits for every file. Before anything changes on the
 * target, the tables of contents of all chosen databases are read to refuse a restore whose
 * tablespaces the target lacks. pg_restore's complete output goes to a log that outlives the spool.
 */
public final class LogicalRestore {
    private final ClusterConfig cluster;
    private final Catalog catalog;
    private final ObjectPipeline pipeline;
    private final Progress progress;
    private final Consumer<String> log;
    private final SessionSource sessions;

    public LogicalRestore(ClusterConfig cluster, Catalog catalog, ObjectPipeline pipeline, Progress progress,
                         Consumer<String> log) {
        this(cluster, catalog, pipeline, progress, log, SessionSource.DIRECT);
    }

    /** @param sessions where the restore's first session comes from (one opened ahead of the command) */
    public LogicalRestore(ClusterConfig cluster, Catalog catalog, ObjectPipeline pipeline, Progress progress,
                         Consumer<String> log, SessionSource sessions) {
        this.sessions = sessions;
        this.cluster = cluster;
        this.catalog = catalog;
        this.pipeline = pipeline;
        this.progress = progress;
        this.log = log;
    }

    /**
     * @param created whether the database was created (false: restored into an existing one)
     * @param errors  statements that failed (pg_restore's "errors ignored on restore" plus the definition's)
     */
    public record Restored(String sourceDatabase, String targetDatabase, boolean created, long errors) {
    }

    /** @param log the file with pg_restore's complete output */
    public record Result(BackupManifest backup, List<Restored> databases, boolean globals, Path log, Duration duration) {
        public String sourceDatabase() {
            return databases.get(0).sourceDatabase();
        }

        public String targetDatabase() {
            return databases.get(0).targetDatabase();
        }

        public boolean created() {
            return databases.get(0).created();
        }
    }

    /** One database of the backup on its way to the target. */
    private static final class Planned {
        final BackupManifest.DumpedDatabase source;
        final String target;
        final boolean exists;
        final List<StoredObject> objects;
        DatabaseDefinition definition;
        Set<String> tablespaces;
        BackgroundDownload download;

        Planned(BackupManifest.DumpedDatabase source, String target, boolean exists, List<StoredObject> objects) {
            this.source = source;
            this.target = target;
            this.exists = exists;
            this.objects = objects;
        }

        Path dir(Spool spool) {
            return spool.dir().resolve(source.directory());
        }
    }

    public Result run(LogicalRestoreRequest req) {
        Instant start = Instant.now();
        Catalog.prepareManifestReader();
        // The target server is reached while the manifest is read: neither needs the other.
        java.util.concurrent.CompletableFuture<RestoreTarget> connecting =
                java.util.concurrent.CompletableFuture.supplyAsync(() -> RestoreTarget.connect(req.target(), sessions));
        try {
            return run(req, start, connecting);
        } finally {
            // closed at once, or as soon as it connects (a failure before it was needed); closing twice is harmless
            connecting.thenAccept(RestoreTarget::close);
        }
    }

    private Result run(LogicalRestoreRequest req, Instant start,
                       java.util.concurrent.CompletableFuture<RestoreTarget> connecting) {
        BackupManifest m = catalog.manifestOrNewest(req.backup(), BackupType.LOGICAL);
        io.lifeboat.Trace.mark("manifest read");
        if (m.type() != BackupType.LOGICAL) {
            throw new LifeboatException(ErrorKind.USAGE, "backup " + m.id() + " is a " + m.type().id() + " backup",
                    "restore it with --type physical, or pick a logical backup (`lifeboat list`)");
        }
        List<BackupManifest.DumpedDatabase> sources = pickDatabases(m, req);
        if (req.targetDatabase() != null && sources.size() != 1) {
            throw new LifeboatException(ErrorKind.USAGE, "--target-database names one database, but " + sources.size()
                    + " are to be restored", "restore them under their own names, or one at a time");
        }
        RestoreTarget target = Parallel.join(connecting);
        PgVersion server = target.version();
        io.lifeboat.Trace.mark("target connected");
        PgVersion dumpVersion = PgVersion.parseToolOutput("(PostgreSQL) " + m.logical().pgDumpVersion());
        PgBinaries binaries = new PgBinaries(cluster.binDir());
        PgRestore pgRestore = new PgRestore(binaries.forMajor("pg_restore", Math.max(dumpVersion.major(), 10),
                "to read an archive written by pg_dump " + dumpVersion.major()));
        if (server.major() < new PgVersion(m.pgVersionNum()).major()) {
            log.accept("warning: restoring a dump of PostgreSQL " + new PgVersion(m.pgVersionNum()).major() + " into an older "
                    + "server (" + server.major() + "); objects using newer features will fail");
        }
        List<Planned> plan = plan(m, sources, req, target);
        io.lifeboat.Trace.mark("planned");
        StoredObject globals = m.logical().globals() == null ? null : m.objects().stream()
                .filter(o -> o.path().equals(m.logical().globals())).findFirst().orElse(null);
        if (req.globals() && globals == null) {
            throw new LifeboatException(ErrorKind.NOT_FOUND, "backup " + m.id() + " has no globals (roles, tablespaces)",
                    "it was taken with --no-globals; restore without --globals");
        }
        pipeline.checkReadable(catalog, m);
        // One database's dump is in the spool at a time.
        long needed = plan.stream().mapToLong(p -> p.objects.stream().mapToLong(StoredObject::rawSize).sum()).max().orElse(0);
        String name = plan.size() == 1 ? plan.get(0).source.directory() : "all";
        List<Restored> done = new ArrayList<>();
        List<PgRestoreOutcome> failed = new ArrayList<>();
        try (RestoreLog restoreLog = RestoreLog.open(RestoreLog.directory(cluster.spoolDir()), m.id() + "-" + name);
             Spool spool = Spool.create(cluster.spoolDir(), m.id() + "-restore-" + name, req.checkSpace() ? needed : -1,
                     log)) {
            log.accept("restore of " + m.id() + " onto " + target.where() + " (PostgreSQL " + server + "); pg_restore's output "
                    + "goes to " + restoreLog.path());
            io.lifeboat.Trace.mark("target inspected");
            for (Planned p : plan) {
                fetchToc(m, p, spool);
            }
            // The first database's files download while the restore reads definitions and prepares the target.
            startDownload(m, plan.get(0), spool, req);
            for (Planned p : plan) {
                inspect(p, spool, pgRestore, req);
            }
            String globalsScript = globals != null && req.globals() ? fetchText(m, globals) : null;
            Map<String, String> fromGlobals = globalsScript == null ? Map.of() : GlobalsScript.tablespaces(globalsScript);
            io.lifeboat.Trace.mark("inspected");
            checkTablespaces(plan, target, req, fromGlobals, null);
            if (globalsScript != null) {
                restoreGlobals(binaries, target, spool, globalsScript, req.scratchTablespaces(), restoreLog);
            }
            checkTablespaces(plan, target, req, fromGlobals, globalsScript != null ? restoreLog.path() : null);
            io.lifeboat.Trace.mark("tablespaces checked");
            DatabaseCreation creation = new DatabaseCreation(target, req.noOwner(), restoreLog);
            for (Planned p : plan) {
                PgRestoreOutcome outcome = restoreOne(m, p, spool, pgRestore, creation, req, restoreLog);
                done.add(new Restored(p.source.name(), p.target, !p.exists, outcome.errors()));
                if (!outcome.ok()) {
                    failed.add(outcome);
                    log.accept("restore of " + p.source.name() + " into '" + p.target + "': " + outcome.summary());
                }
            }
            Duration took = Duration.between(start, Instant.now());
            if (!failed.isEmpty()) {
                throw failure(failed, done, target.admin());
            }
            log.accept("restored " + String.join(", ", done.stream().map(Restored::sourceDatabase).toList()) + " from " + m.id()
                    + " in " + took.toMillis() / 1000.0 + " s");
            return new Result(m, List.copyOf(done), globalsScript != null, restoreLog.path(), took);
        } finally {
            // a failed restore stops its download before the spool goes
            plan.stream().filter(p -> p.download != null).forEach(p -> p.download.close());
        }
    }

    /** Starts downloading a database's dump files (all but its table of contents, which is there). */
    private void startDownload(BackupManifest m, Planned p, Spool spool, LogicalRestoreRequest req) {
        List<StoredObject> rest = p.objects.stream().filter(o -> !isToc(p, o)).toList();
        p.download = new BackgroundDownload(p.source.directory(), () -> {
            new DumpDownload(catalog, pipeline, progress).run(m, rest, spool.dir(), req.jobs());
            io.lifeboat.Trace.mark("downloaded and verified");
        });
    }

    private static boolean isToc(Planned p, StoredObject o) {
        return ObjectPipeline.rawName(o).equals(p.source.directory() + "/toc.dat");
    }

    private static List<BackupManifest.DumpedDatabase> pickDatabases(BackupManifest m, LogicalRestoreRequest req) {
        List<BackupManifest.DumpedDatabase> dbs = m.logical().databases();
        String held = String.join(", ", dbs.stream().map(BackupManifest.DumpedDatabase::name).toList());
        if (req.allDatabases()) {
            return dbs;
        }
        if (req.databases().isEmpty()) {
            if (dbs.size() == 1) {
                return dbs;
            }
            throw new LifeboatException(ErrorKind.USAGE, "backup " + m.id() + " holds several databases (" + held + ")",
                    "choose with --database NAME (repeatable), or restore them all with --all-databases");
        }
        List<BackupManifest.DumpedDatabase> out = new ArrayList<>();
        for (String name : req.databases()) {
            out.add(dbs.stream().filter(d -> d.name().equals(name)).findFirst().orElseThrow(() ->
                    new LifeboatException(ErrorKind.NOT_FOUND, "backup " + m.id() + " has no database '" + name + "'",
                            "it holds: " + held)));
        }
        return out;
    }

    /** Where each database goes; every conflict is found before anything is downloaded. */
    private static List<Planned> plan(BackupManifest m, List<BackupManifest.DumpedDatabase> sources, LogicalRestoreRequest req,
                                      RestoreTarget target) {
        List<Planned> plan = new ArrayList<>();
        List<String> conflicts = new ArrayList<>();
        for (BackupManifest.DumpedDatabase source : sources) {
            String name = req.targetDatabase() != null ? req.targetDatabase() : source.name();
            if (name.equals("template0")) {
                throw new LifeboatException(ErrorKind.USAGE, "template0 cannot be restored into", "choose another target database");
            }
            boolean exists = target.exists(name);
            if (exists && !req.overwrite() && !target.isEmpty(name)) {
                conflicts.add(name);
            }
            List<StoredObject> objects = m.objects().stream().filter(o -> o.path().startsWith(source.directory() + "/")).toList();
            plan.add(new Planned(source, name, exists, objects));
        }
        if (!conflicts.isEmpty()) {
            throw new LifeboatException(ErrorKind.CONFLICT, (conflicts.size() == 1 ? "database '" + conflicts.get(0) + "'"
                    : "databases '" + String.join("', '", conflicts) + "'") + " on " + target.where()
                    + " already exist" + (conflicts.size() == 1 ? "s" : "") + " and " + (conflicts.size() == 1 ? "is" : "are")
                    + " not empty", "restore into a new name with --target-database NAME, or pass --overwrite to replace "
                    + "the objects in " + (conflicts.size() == 1 ? "it" : "them"));
        }
        return plan;
    }

    /** Downloads a database's table of contents (verified, as every object). */
    private void fetchToc(BackupManifest m, Planned p, Spool spool) {
        List<StoredObject> toc = p.objects.stream().filter(o -> isToc(p, o)).toList();
        if (toc.size() != 1) {
            throw new LifeboatException(ErrorKind.CORRUPT, "backup " + m.id() + " has no table of contents (toc.dat) for "
                    + p.source.name(), "the manifest lists the database's directory without pg_dump's toc.dat");
        }
        new DumpDownload(catalog, pipeline, progress).run(m, toc, spool.dir(), 1);
        io.lifeboat.Trace.mark("toc downloaded");
    }

    /** Reads a database's definition and the tablespaces it uses from its table of contents. */
    private void inspect(Planned p, Spool spool, PgRestore pgRestore, LogicalRestoreRequest req) {
        // two pg_restore runs over toc.dat, side by side (the schema script of thousands of tables takes a while)
        java.util.concurrent.CompletableFuture<Set<String>> used = req.noTablespaces()
                ? java.util.concurrent.CompletableFuture.completedFuture(Set.of())
                : java.util.concurrent.CompletableFuture.supplyAsync(() -> pgRestore.tablespaces(p.dir(spool)));
        DatabaseDefinition d;
        try {
            d = pgRestore.definition(p.dir(spool), p.source.name(), spool.dir()).renamed(p.target);
        } catch (RuntimeException e) {
            Parallel.settle(used);
            throw e;
        }
        io.lifeboat.Trace.mark("definition read");
        p.definition = req.noTablespaces() ? d.withoutTablespace() : d;
        p.tablespaces = new TreeSet<>(Parallel.join(used));
        io.lifeboat.Trace.mark("tablespaces read");
        if (!p.exists) {
            p.definition.tablespace().ifPresent(p.tablespaces::add);
        }
    }

    /**
     * Refuses a restore that needs tablespaces the target lacks: before anything changes (counting
     * those the globals script is about to create), and again after the globals ran, before any
     * database is touched. On a scratch server they are made under its directory instead.
     *
     * @param globals      tablespaces of the globals script (name to original location), if it runs
     * @param globalsLog   once the globals script has run: the log with its output; null before
     */
    private void checkTablespaces(List<Planned> plan, RestoreTarget target, LogicalRestoreRequest req,
                                  Map<String, String> globals, Path globalsLog) {
        boolean afterGlobals = globalsLog != null || globals.isEmpty();
        Set<String> present = target.tablespaces();
        Map<String, List<String>> missing = new TreeMap<>();
        for (Planned p : plan) {
            for (String t : p.tablespaces) {
                if (!present.contains(t) && (afterGlobals || !globals.containsKey(t))) {
                    missing.computeIfAbsent(t, k -> new ArrayList<>()).add(p.source.name());
                }
            }
        }
        if (missing.isEmpty()) {
            return;
        }
        if (req.scratchTablespaces() != null) {
            if (afterGlobals) {
                createScratchTablespaces(target, missing.keySet(), req.scratchTablespaces());
            }
            return;
        }
        List<String> parts = new ArrayList<>();
        missing.forEach((t, dbs) -> parts.add(t + " (used by " + String.join(", ", dbs) + ")"));
        List<String> failedGlobals = missing.keySet().stream().filter(globals::containsKey)
                .map(t -> t + " at '" + globals.get(t) + "'").toList();
        throw new LifeboatException(ErrorKind.NOT_FOUND, "the target server " + target.where() + " has no tablespace"
                + (missing.size() == 1 ? " " : "s ") + String.join(", ", parts) + "; no database was restored"
                + (failedGlobals.isEmpty() ? "" : " (the roles were; the globals script could not create "
                + String.join(", ", failedGlobals) + ": see " + globalsLog + ")"),
                "create " + (missing.size() == 1 ? "it" : "them") + " first (CREATE TABLESPACE name LOCATION 'an empty "
                        + "directory owned by the server'), or pass --no-tablespaces to put everything into the default "
                        + "tablespace");
    }

    private void createScratchTablespaces(RestoreTarget target, Set<String> names, Path under) {
        try (PgSession s = target.session()) {
            for (String t : names) {
                Path dir = scratchTablespace(under, t);
                s.execute("CREATE TABLESPACE " + PgSession.quoteIdent(t) + " LOCATION " + PgSession.quoteLiteral(dir.toString()));
                log.accept("tablespace " + t + " created in " + dir);
            }
        }
    }

    /** A new directory for one tablespace on a scratch server, owned by the server's user. */
    private static Path scratchTablespace(Path under, String name) {
        try {
            Path dir = Files.createDirectories(under).resolve("ts-" + name.replaceAll("[^A-Za-z0-9_.-]", "_")
                    + "-" + Integer.toHexString(name.hashCode()));
            Files.createDirectories(dir);
            ScratchCluster.giveToServerUser(under);
            return dir;
        } catch (IOException e) {
            throw new LifeboatException(ErrorKind.RESOURCE, "cannot create a scratch tablespace directory under " + under
                    + ": " + e.getMessage(), "check free space and permissions", e);
        }
    }

    private PgRestoreOutcome restoreOne(BackupManifest m, Planned p, Spool spool, PgRestore pgRestore,
                                        DatabaseCreation creation, LogicalRestoreRequest req, RestoreLog restoreLog) {
        if (p.download == null) {
            startDownload(m, p, spool, req);
        }
        // In a database it creates, the restore runs pg_restore's pre-data section (read from toc.dat
        // alone) while the data files download, and the rest once every file is verified; should one
        // fail, the database is dropped. An existing database is not touched before every file is
        // verified (and --clean drops objects across all sections, so it is one run).
        boolean early = !p.exists;
        // the lists are read from toc.dat while the server creates the database
        java.util.concurrent.CompletableFuture<PgRestore.Split> lists = early
                ? java.util.concurrent.CompletableFuture.supplyAsync(() -> pgRestore.split(p.dir(spool), spool.dir())) : null;
        log.accept("restoring " + p.source.name() + " into '" + p.target + "' with " + pgRestore.path() + " -j" + req.jobs()
                + (early ? " (its schema while its " + (p.objects.size() - 1) + " objects download and are verified)" : ""));
        restoreLog.section((p.exists ? "into the existing database " : "creating database ") + p.target + " from "
                + p.source.name());
        PgRestoreOutcome.Reader outcome = new PgRestoreOutcome.Reader();
        List<String> differs = p.exists ? creation.target().differences(p.target, p.definition.createOptions()) : List.of();
        if (!differs.isEmpty()) {
            log.accept("warning: database '" + p.target + "' exists on the target with " + String.join(", ", differs)
                    + "; it is restored into as it is (only a new database gets the backup's)");
        }
        try {
            if (!p.exists) {
                creation.create(p.definition, outcome::statementFailed);
            }
            creation.applyProperties(p.definition, outcome::statementFailed);
        } catch (RuntimeException e) {
            if (lists != null) {
                Parallel.settle(lists); // it writes into the spool, which goes next
            }
            throw e;
        }
        io.lifeboat.Trace.mark("created");
        PgRestore.Split split = lists == null ? null : Parallel.join(lists);
        PgConnectionSettings into = creation.target().admin().withDatabase(p.target);
        PgRestore.Options options = new PgRestore.Options(req.jobs(), p.exists && req.overwrite(), req.noOwner(),
                req.noTablespaces());
        if (split != null && split.schemaEntries() > 0) {
            restoreLog.section("pg_restore of " + p.source.name() + " into " + p.target + ": pre-data section");
            // one job: pg_restore runs the pre-data section alone in any case
            int exit = pgRestore.restore(into, p.dir(spool), options.withList(split.schema(), 1), outcome, restoreLog::line);
            io.lifeboat.Trace.mark("pre-data done");
            restoreLog.line("pg_restore exit " + exit);
            outcome.runEnded(exit);
        }
        try {
            p.download.await();
        } catch (RuntimeException e) {
            if (early) {
                restoreLog.section("a dump file of " + p.source.name() + " did not arrive intact: dropping " + p.target);
                creation.dropCreated(p.target, log);
            }
            throw e;
        }
        log.accept("all " + p.objects.size() + " objects of " + p.source.name() + " verified");
        if (!outcome.stopped()) {
            restoreLog.section("pg_restore of " + p.source.name() + " into " + p.target + (split != null ? ": the rest" : ""));
            int exit;
            try (ConsumedDataFiles consumed = new ConsumedDataFiles(p.dir(spool))) {
                exit = pgRestore.restore(into, p.dir(spool), split != null ? options.withList(split.rest(), req.jobs()) : options,
                        outcome, line -> {
                            restoreLog.line(line);
                            consumed.accept(line);
                        });
            }
            io.lifeboat.Trace.mark("pg_restore done");
            restoreLog.line("pg_restore exit " + exit);
            outcome.runEnded(exit);
        }
        restoreLog.section("privileges of " + p.target);
        creation.applyPrivileges(p.definition, outcome::statementFailed);
        io.lifeboat.Trace.mark("privileges");
        ScratchCluster.deleteTree(p.dir(spool));
        io.lifeboat.Trace.mark("spool deleted");
        return outcome.finish("database '" + p.target + "'", restoreLog.path());
    }

    private static LifeboatException failure(List<PgRestoreOutcome> failed, List<Restored> done, PgConnectionSettings conn) {
        LifeboatException first = failed.get(0).failure(conn);
        if (done.size() == 1) {
            return first;
        }
        List<String> each = new ArrayList<>();
        for (Restored r : done) {
            each.add(r.targetDatabase() + ": " + (r.errors() == 0 ? "ok" : r.errors() + " errors"));
        }
        return new LifeboatException(first.kind(), failed.size() + " of " + done.size() + " databases did not restore cleanly ("
                + String.join(", ", each) + "); " + first.getMessage(), first.hint());
    }

    private void fetchTo(BackupManifest m, StoredObject o, Path file) {
        new DumpDownload(catalog, pipeline, progress).fetchTo(m, o, file);
    }

    private String fetchText(BackupManifest m, StoredObject o) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        try {
            pipeline.fetch(catalog.layout().backupObject(m.id(), o.path()), o, out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /**
     * Runs the roles and tablespaces script with psql; statements that fail (roles that exist) are
     * reported, not fatal. On a scratch server its tablespaces go under the scratch directory.
     */
    private void restoreGlobals(PgBinaries binaries, RestoreTarget target, Spool spool, String script, Path scratchTablespaces,
                                RestoreLog restoreLog) {
        String run = scratchTablespaces == null ? script
                : GlobalsScript.relocateTablespaces(script, t -> scratchTablespace(scratchTablespaces, t));
        Path file = spool.dir().resolve("globals.sql");
        try {
            Files.writeString(file, run);
        } catch (IOException e) {
            throw new LifeboatException(ErrorKind.RESOURCE, "cannot write " + file + ": " + e.getMessage(), null, e);
        }
        restoreLog.section("globals (roles and tablespaces)");
        PgBinaries.Tool psql = binaries.newest("psql");
        List<String> cmd = List.of(psql.path().toString(), "-X", "-q", "-v", "ON_ERROR_STOP=0", "-f", file.toString());
        ExternalProcess.Result r = new ExternalProcess(cmd, target.admin().libpqEnvironment()).onStderrLine(restoreLog::line).run();
        long errors = r.stderr().lines().filter(l -> l.contains("ERROR:")).count();
        long harmless = r.stderr().lines().filter(l -> l.contains("ERROR:") && l.contains("already exists")).count();
        if (errors > harmless) {
            log.accept("warning: " + (errors - harmless) + " statements of the globals script failed on PostgreSQL "
                    + target.version() + " (see " + restoreLog.path() + "): " + ExternalProcess.lastLines(r.stderr(), 3));
        }
    }
}
