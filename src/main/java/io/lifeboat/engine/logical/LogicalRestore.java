package io.lifeboat.engine.logical;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.BackupManifest;
import io.lifeboat.catalog.BackupType;
import io.lifeboat.catalog.Catalog;
import io.lifeboat.catalog.StoredObject;
import io.lifeboat.config.ClusterConfig;
import io.lifeboat.engine.ObjectPipeline;
import io.lifeboat.engine.Progress;
import io.lifeboat.engine.Spool;
import io.lifeboat.postgres.ExternalProcess;
import io.lifeboat.postgres.PgBinaries;
import io.lifeboat.postgres.PgConnectionSettings;
import io.lifeboat.postgres.PgSession;
import io.lifeboat.postgres.PgToolFailure;
import io.lifeboat.postgres.PgVersion;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Restores one database of a logical backup into a new (or explicitly overwritten) database:
 * every object is downloaded and verified before pg_restore -jN sees a byte.
 */
public final class LogicalRestore {
    private final ClusterConfig cluster;
    private final Catalog catalog;
    private final ObjectPipeline pipeline;
    private final Progress progress;
    private final Consumer<String> log;

    public LogicalRestore(ClusterConfig cluster, Catalog catalog, ObjectPipeline pipeline, Progress progress,
                          Consumer<String> log) {
        this.cluster = cluster;
        this.catalog = catalog;
        this.pipeline = pipeline;
        this.progress = progress;
        this.log = log;
    }

    public record Result(BackupManifest backup, String sourceDatabase, String targetDatabase, boolean created,
                         Duration duration) {
    }

    public Result run(LogicalRestoreRequest req) {
        Instant start = Instant.now();
        Catalog.prepareManifestReader();
        BackupManifest m = catalog.manifestOrNewest(req.backup(), BackupType.LOGICAL);
        io.lifeboat.Trace.mark("manifest read");
        if (m.type() != BackupType.LOGICAL) {
            throw new LifeboatException(ErrorKind.USAGE, "backup " + m.id() + " is a " + m.type().id() + " backup",
                    "restore it with --type physical, or pick a logical backup (`lifeboat list`)");
        }
        BackupManifest.DumpedDatabase source = pickDatabase(m, req.sourceDatabase());
        String targetDb = req.targetDatabase() != null ? req.targetDatabase() : source.name();
        PgConnectionSettings admin = req.target();
        PgConnectionSettings target = admin.withDatabase(targetDb);

        PgVersion server;
        boolean exists;
        try (PgSession s = PgSession.open(admin)) {
            server = s.serverVersion();
            exists = s.queryValue("SELECT 1 FROM pg_database WHERE datname = " + PgSession.quoteLiteral(targetDb)).isPresent();
        }
        PgVersion dumpVersion = PgVersion.parseToolOutput("(PostgreSQL) " + m.logical().pgDumpVersion());
        PgBinaries binaries = new PgBinaries(cluster.binDir());
        PgBinaries.Tool pgRestore = binaries.forMajor("pg_restore", Math.max(dumpVersion.major(), 10),
                "to read an archive written by pg_dump " + dumpVersion.major());
        if (server.major() < new PgVersion(m.pgVersionNum()).major()) {
            log.accept("warning: restoring a dump of PostgreSQL " + new PgVersion(m.pgVersionNum()).major() + " into an older "
                    + "server (" + server.major() + "); objects using newer features will fail");
        }
        if (exists && !req.overwrite() && !isEmpty(target)) {
            throw new LifeboatException(ErrorKind.CONFLICT, "database '" + targetDb + "' on " + admin.host() + ":" + admin.port()
                    + " already exists and is not empty", "restore into a new name with --target-database NAME, or pass "
                    + "--overwrite to replace the objects in it");
        }

        List<StoredObject> objects = m.objects().stream().filter(o -> o.path().startsWith(source.directory() + "/")).toList();
        StoredObject globals = m.logical().globals() == null ? null : m.objects().stream()
                .filter(o -> o.path().equals(m.logical().globals())).findFirst().orElse(null);
        if (req.globals() && globals == null) {
            throw new LifeboatException(ErrorKind.NOT_FOUND, "backup " + m.id() + " has no globals (roles, tablespaces)",
                    "it was taken with --no-globals; restore without --globals");
        }
        pipeline.checkReadable(catalog, m);
        long needed = objects.stream().mapToLong(StoredObject::rawSize).sum();
        try (Spool spool = Spool.create(cluster.spoolDir(), m.id() + "-restore-" + source.directory(),
                req.checkSpace() ? needed : -1, log)) {
            io.lifeboat.Trace.mark("target inspected");
            new DumpDownload(catalog, pipeline, progress).run(m, objects, spool.dir(), req.jobs());
            io.lifeboat.Trace.mark("downloaded and verified");
            Path dumpDir = spool.dir().resolve(source.directory());
            Path globalsFile = null;
            if (req.globals()) {
                globalsFile = spool.dir().resolve("globals.sql");
                fetchTo(m, globals, globalsFile);
            }
            log.accept("all " + objects.size() + " objects of " + source.name() + " verified; restoring into '" + targetDb
                    + "' on " + admin.host() + ":" + admin.port() + " with " + pgRestore.path() + " -j" + req.jobs());
            if (globalsFile != null) {
                restoreGlobals(binaries, admin, globalsFile, server);
            }
            boolean created = false;
            if (!exists) {
                try (PgSession s = PgSession.open(admin)) {
                    s.execute("CREATE DATABASE " + PgSession.quoteIdent(targetDb) + " TEMPLATE template0");
                }
                created = true;
            }
            List<String> cmd = new ArrayList<>(List.of(pgRestore.path().toString(), "--format=directory",
                    "--jobs=" + req.jobs(), "--dbname=" + targetDb));
            if (exists && req.overwrite()) {
                cmd.addAll(List.of("--clean", "--if-exists"));
            }
            if (req.noOwner()) {
                cmd.addAll(List.of("--no-owner", "--no-privileges"));
            }
            cmd.add(dumpDir.toString());
            ExternalProcess.Result r = new ExternalProcess(cmd, target.libpqEnvironment()).run();
            io.lifeboat.Trace.mark("pg_restore done");
            if (!r.ok()) {
                LifeboatException e = PgToolFailure.of("pg_restore", "database '" + targetDb + "'", r, target);
                if (r.stderr().contains("role") && r.stderr().contains("does not exist")) {
                    throw new LifeboatException(e.kind(), e.getMessage(), "the target server lacks roles the dump "
                            + "refers to: restore with --globals, or with --no-owner");
                }
                throw e;
            }
            Duration took = Duration.between(start, Instant.now());
            log.accept("restored " + source.name() + " from " + m.id() + " into '" + targetDb + "' in " + took.toMillis() / 1000.0 + " s");
            return new Result(m, source.name(), targetDb, created, took);
        }
    }

    private static BackupManifest.DumpedDatabase pickDatabase(BackupManifest m, String name) {
        List<BackupManifest.DumpedDatabase> dbs = m.logical().databases();
        if (name == null) {
            if (dbs.size() == 1) {
                return dbs.get(0);
            }
            throw new LifeboatException(ErrorKind.USAGE, "backup " + m.id() + " holds several databases ("
                    + String.join(", ", dbs.stream().map(BackupManifest.DumpedDatabase::name).toList()) + ")",
                    "choose one with --database NAME");
        }
        return dbs.stream().filter(d -> d.name().equals(name)).findFirst().orElseThrow(() ->
                new LifeboatException(ErrorKind.NOT_FOUND, "backup " + m.id() + " has no database '" + name + "'",
                        "it holds: " + String.join(", ", dbs.stream().map(BackupManifest.DumpedDatabase::name).toList())));
    }

    private static boolean isEmpty(PgConnectionSettings db) {
        try (PgSession s = PgSession.open(db)) {
            long n = Long.parseLong(s.queryValue("SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n "
                    + "ON n.oid = c.relnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') "
                    + "AND n.nspname NOT LIKE 'pg_toast%') + (SELECT count(*) FROM pg_largeobject_metadata)").orElse("0"));
            return n == 0;
        }
    }

    private void fetchTo(BackupManifest m, StoredObject o, Path file) {
        new DumpDownload(catalog, pipeline, progress).fetchTo(m, o, file);
    }

    private void restoreGlobals(PgBinaries binaries, PgConnectionSettings admin, Path file, PgVersion server) {
        PgBinaries.Tool psql = binaries.newest("psql");
        List<String> cmd = List.of(psql.path().toString(), "-X", "-q", "-v", "ON_ERROR_STOP=0", "-f", file.toString());
        ExternalProcess.Result r = new ExternalProcess(cmd, admin.libpqEnvironment()).run();
        long errors = r.stderr().lines().filter(l -> l.contains("ERROR:")).count();
        long harmless = r.stderr().lines().filter(l -> l.contains("ERROR:") && l.contains("already exists")).count();
        if (errors > harmless) {
            log.accept("warning: " + (errors - harmless) + " statements of the globals script failed on PostgreSQL " + server
                    + ": " + ExternalProcess.lastLines(r.stderr(), 3));
        }
    }
}
