package io.lifeboat.engine.logical;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.BackupId;
import io.lifeboat.catalog.BackupManifest;
import io.lifeboat.catalog.BackupType;
import io.lifeboat.catalog.Catalog;
import io.lifeboat.catalog.StoredObject;
import io.lifeboat.config.ClusterConfig;
import io.lifeboat.engine.ObjectPipeline;
import io.lifeboat.engine.Parallel;
import io.lifeboat.engine.Progress;
import io.lifeboat.engine.ProgressInputStream;
import io.lifeboat.engine.Spool;
import io.lifeboat.postgres.ExternalProcess;
import io.lifeboat.postgres.PgBinaries;
import io.lifeboat.postgres.PgConnectionSettings;
import io.lifeboat.postgres.PgSession;
import io.lifeboat.postgres.PgToolFailure;
import io.lifeboat.postgres.PgVersion;
import io.lifeboat.postgres.SessionSource;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * A logical backup: pg_dump -Fd -jN of each database into a private spool, then every file of the
 * dump compressed, checksummed and uploaded in parallel, then the manifest. The dump is taken
 * uncompressed (-Z0) because zstd in our pipeline is both faster and smaller than pg_dump's gzip.
 */
public final class LogicalBackup {
    private static final long LARGE_FILE = 128L * 1024 * 1024;

    private final ClusterConfig cluster;
    private final Catalog catalog;
    private final ObjectPipeline pipeline;
    private final Progress progress;
    private final Consumer<String> log;
    private final SessionSource sessions;

    public LogicalBackup(ClusterConfig cluster, Catalog catalog, ObjectPipeline pipeline, Progress progress,
                         Consumer<String> log) {
        this(cluster, catalog, pipeline, progress, log, SessionSource.DIRECT);
    }

    /** @param sessions where the backup's first session comes from (one opened ahead of the command) */
    public LogicalBackup(ClusterConfig cluster, Catalog catalog, ObjectPipeline pipeline, Progress progress,
                         Consumer<String> log, SessionSource sessions) {
        this.sessions = sessions;
        this.cluster = cluster;
        this.catalog = catalog;
        this.pipeline = pipeline;
        this.progress = progress;
        this.log = log;
    }

    public BackupManifest run(LogicalBackupRequest request) {
        Instant start = Instant.now();
        PgConnectionSettings conn = cluster.postgres();
        List<String> names;
        PgVersion server;
        String systemId;
        Map<String, Long> sizes = new LinkedHashMap<>();
        PgBinaries binaries = new PgBinaries(cluster.binDir());
        // Finding the installed pg_dump versions spawns processes: do it while we talk to the server.
        java.util.concurrent.CompletableFuture<List<PgBinaries.Tool>> dumps =
                java.util.concurrent.CompletableFuture.supplyAsync(() -> binaries.all("pg_dump"));
        // A free backup id is looked for (a listing) while we talk to the server, and at the same time
        // as cluster.json is checked below: two round trips at once, not one after the other.
        java.util.concurrent.CompletableFuture<BackupId> freeId =
                java.util.concurrent.CompletableFuture.supplyAsync(() -> catalog.newId(BackupType.LOGICAL, start));
        try (PgSession s = sessions.open(request.allDatabases() || request.databases().isEmpty() ? conn
                : conn.withDatabase(request.databases().get(0)))) {
            server = s.serverVersion();
            systemId = s.systemIdentifier().orElse(null);
            if (request.allDatabases()) {
                // As pg_dumpall: template1's user objects too (template0 is never changed), template1 first.
                names = s.query("SELECT datname FROM pg_database WHERE datallowconn AND datname <> 'template0' "
                        + "ORDER BY datname <> 'template1', datname")
                        .stream().map(r -> r.get(0)).toList();
            } else {
                names = request.databases().isEmpty() ? List.of(conn.database()) : List.copyOf(request.databases());
                List<String> present = s.query("SELECT datname FROM pg_database").stream().map(r -> r.get(0)).toList();
                for (String n : names) {
                    if (!present.contains(n)) {
                        throw new LifeboatException(ErrorKind.NOT_FOUND, "database '" + n + "' does not exist on "
                                + conn.host() + ":" + conn.port(), "check the name; `psql -l` lists the databases");
                    }
                }
            }
            for (String n : names) {
                sizes.put(n, Long.parseLong(s.queryValue("SELECT pg_database_size(" + PgSession.quoteLiteral(n) + ")")
                        .orElse("0")));
            }
        } catch (RuntimeException e) {
            Parallel.settle(freeId); // never left running against a storage about to close
            throw e;
        }
        io.lifeboat.Trace.mark("server inspected");
        PgBinaries.Tool pgDump;
        DumpCompression dumpCompression;
        try {
            dumps.join();
            io.lifeboat.Trace.mark("pg_dump chosen");
            pgDump = binaries.forMajor("pg_dump", server.major(), "to dump a PostgreSQL " + server.major() + " server");
            dumpCompression = request.dumpCompression().resolve(pgDump.version().major());
        } catch (RuntimeException e) {
            Parallel.settle(freeId);
            throw e;
        }
        // The repository may still be opening (an S3 client takes a while): pg_dump starts now, and
        // its files wait for the backup id only when they are ready to go up.
        String sysId = systemId;
        PgVersion srv = server;
        java.util.concurrent.CompletableFuture<BackupId> idFuture = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                catalog.ensureClusterInfo(sysId, srv.major());
            } finally {
                Parallel.settle(freeId);
            }
            BackupId newId = Parallel.join(freeId);
            io.lifeboat.Trace.mark("id chosen");
            log.accept("backup " + newId + ": dumping " + String.join(", ", names) + " from " + conn.host() + ":" + conn.port()
                    + " (PostgreSQL " + srv + ") with " + pgDump.path() + " -j" + request.jobs() + ", compression "
                    + dumpCompression);
            return newId;
        });
        java.util.function.Supplier<BackupId> idSupplier = () -> Parallel.join(idFuture);
        List<StoredObject> objects = new ArrayList<>();
        List<BackupManifest.DumpedDatabase> dumped = new ArrayList<>();
        boolean success = false;
        java.util.concurrent.CompletableFuture<StoredObject> globals = null;
        try {
            // Roles and tablespaces are dumped while the first database is: they are small and independent.
            globals = request.globals()
                    ? java.util.concurrent.CompletableFuture.supplyAsync(() -> dumpGlobals(binaries.forMajor("pg_dumpall",
                    server.major(), "to dump roles and tablespaces of a PostgreSQL " + server.major() + " server"), conn,
                    idSupplier))
                    : null;
            int index = 1;
            for (String db : names) {
                String dir = directoryName(index++, db);
                long needed = request.checkSpace() ? sizes.get(db) : -1;
                try (Spool spool = Spool.create(cluster.spoolDir(), "dump-" + start.toEpochMilli() + "-" + dir, needed, log)) {
                    Path out = spool.dir().resolve("dump");
                    objects.addAll(dumpAndUpload(pgDump, dumpCompression, conn.withDatabase(db), idSupplier, dir, out,
                            request.jobs(), sizes.get(db)));
                }
                dumped.add(new BackupManifest.DumpedDatabase(db, dir, sizes.get(db)));
            }
            String globalsPath = null;
            if (globals != null) {
                StoredObject g = Parallel.join(globals);
                objects.add(g);
                globalsPath = g.path();
            }
            BackupId id = idSupplier.get();
            Map<String, String> extra = new LinkedHashMap<>();
            extra.put("server", conn.host() + ":" + conn.port());
            extra.put("backupHost", hostName());
            extra.put("pgDump", pgDump.path().toString());
            boolean bundles = objects.stream().anyMatch(o -> BackupManifest.isBundle(ObjectPipeline.rawName(o)));
            BackupManifest m = new BackupManifest(bundles ? BackupManifest.BUNDLES_FORMAT_VERSION
                    : BackupManifest.FORMAT_VERSION, id, BackupType.LOGICAL, cluster.name(),
                    start, Instant.now(), server.number(), systemId, pipeline.compression().id(),
                    pipeline.encryption().scheme(), List.copyOf(objects),
                    new BackupManifest.LogicalDetails(List.copyOf(dumped), globalsPath, pgDump.version().toString(), request.jobs()),
                    null, extra);
            io.lifeboat.Trace.mark("objects stored");
            catalog.writeManifest(m);
            io.lifeboat.Trace.mark("manifest written");
            success = true;
            log.accept("backup " + id + " complete: " + objects.size() + " objects, " + Spool.human(m.rawBytes()) + " dumped, "
                    + Spool.human(m.storedBytes()) + " stored, in " + Duration.between(start, Instant.now()).toMillis() / 1000.0 + " s");
            return m;
        } finally {
            if (!success) {
                if (globals != null) {
                    // Let the concurrent globals upload settle, or it could land after the clean-up.
                    Parallel.settle(globals);
                }
                if (idFuture.isDone() && !idFuture.isCompletedExceptionally()) {
                    discard(idFuture.join());
                }
            }
        }
    }

    /** Best effort: a failed backup should not litter the repository (a killed one is listed as unfinished). */
    private void discard(BackupId id) {
        io.lifeboat.engine.Cleanup.discardBackup(catalog, id, log);
    }

    static String directoryName(int index, String db) {
        String safe = db.replaceAll("[^A-Za-z0-9_.-]", "_");
        if (safe.length() > 40) {
            safe = safe.substring(0, 40);
        }
        return "db" + index + "-" + safe;
    }

    private List<StoredObject> dumpAndUpload(PgBinaries.Tool pgDump, DumpCompression compression, PgConnectionSettings conn,
                                             java.util.function.Supplier<BackupId> ids, String dir, Path out, int jobs,
                                             long estimate) {
        List<String> cmd = List.of(pgDump.path().toString(), "--format=directory", "--jobs=" + jobs,
                "--compress=" + compression.pgDumpArgument(pgDump.version().major()),
                "--no-sync", "--file=" + out);
        ExternalProcess process = new ExternalProcess(cmd, conn.libpqEnvironment());
        if (!DumpStreamer.supported()) {
            ExternalProcess.Result r = process.run();
            if (!r.ok()) {
                throw PgToolFailure.of("pg_dump", "database '" + conn.database() + "'", r, conn);
            }
            return upload(ids.get(), dir, out, jobs);
        }
        Process p = process.start();
        StringBuilder err = new StringBuilder();
        Thread errReader = new Thread(() -> {
            try {
                err.append(new String(p.getErrorStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
            } catch (IOException ignored) {
                // reported through the exit code
            }
        }, "pg_dump-stderr");
        errReader.setDaemon(true);
        errReader.start();
        progress.start("dump+upload " + dir, estimate);
        try {
            p.getOutputStream().close();
            List<StoredObject> stored = new DumpStreamer(out, p, this::pipelineFor, dir + "/",
                    path -> catalogKey(ids.get(), path), jobs, progress, true).run();
            int code = p.waitFor();
            errReader.join();
            if (code != 0) {
                throw PgToolFailure.of("pg_dump", "database '" + conn.database() + "'",
                        new ExternalProcess.Result(code, "", err.toString()), conn);
            }
            return stored;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            p.destroy();
            Thread.currentThread().interrupt();
            throw new LifeboatException(ErrorKind.INTERRUPTED, "interrupted while dumping " + conn.database());
        } finally {
            progress.finish();
        }
    }

    private List<StoredObject> upload(BackupId id, String dir, Path out, int jobs) {
        List<Path> files;
        try (Stream<Path> s = Files.walk(out)) {
            files = s.filter(Files::isRegularFile).sorted((a, b) -> Long.compare(size(b), size(a))).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        long total = files.stream().mapToLong(LogicalBackup::size).sum();
        progress.start("upload " + dir, total);
        try {
            List<Parallel.Task<StoredObject>> tasks = new ArrayList<>();
            for (Path f : files) {
                String rel = dir + "/" + out.relativize(f).toString().replace('\\', '/');
                ObjectPipeline filePipeline = pipelineFor(rel);
                String path = filePipeline.storedName(rel);
                // The biggest files go first; give them zstd threads so the tail is not one long file.
                int workers = size(f) >= LARGE_FILE ? 2 : 0;
                tasks.add(() -> {
                    try (InputStream in = new ProgressInputStream(Files.newInputStream(f), progress)) {
                        return filePipeline.store(catalogKey(id, path), path, in, workers);
                    }
                });
            }
            return Parallel.run(jobs, tasks);
        } finally {
            progress.finish();
        }
    }

    /** Files pg_dump already compressed are stored as they are: compressing them again costs time and saves nothing. */
    private ObjectPipeline pipelineFor(String fileName) {
        boolean compressed = fileName.endsWith(".gz") || fileName.endsWith(".zst") || fileName.endsWith(".lz4");
        return compressed ? pipeline.withCompression(io.lifeboat.codec.Compression.NONE) : pipeline;
    }

    private String catalogKey(BackupId id, String path) {
        return catalog.layout().backupObject(id, path);
    }

    private StoredObject dumpGlobals(PgBinaries.Tool dumpall, PgConnectionSettings conn,
                                     java.util.function.Supplier<BackupId> ids) {
        try {
            return dumpGlobals(dumpall, conn, ids, false);
        } catch (LifeboatException e) {
            if (e.kind() != ErrorKind.DATABASE) {
                throw e;
            }
            // Non-superusers cannot read pg_authid; roles without their passwords are still worth having.
            log.accept("warning: cannot dump role passwords (" + e.getMessage() + "); storing roles without passwords");
            return dumpGlobals(dumpall, conn, ids, true);
        }
    }

    private StoredObject dumpGlobals(PgBinaries.Tool dumpall, PgConnectionSettings conn,
                                     java.util.function.Supplier<BackupId> ids, boolean noPasswords) {
        List<String> cmd = new ArrayList<>(List.of(dumpall.path().toString(), "--globals-only"));
        if (noPasswords) {
            cmd.add("--no-role-passwords");
        }
        ExternalProcess p = new ExternalProcess(cmd, conn.libpqEnvironment());
        Process proc = p.start();
        String path = pipeline.storedName("globals.sql");
        StringBuilder err = new StringBuilder();
        Thread errReader = new Thread(() -> {
            try {
                err.append(new String(proc.getErrorStream().readAllBytes()));
            } catch (IOException ignored) {
                // reported through the exit code
            }
        });
        errReader.start();
        try (ObjectPipeline.Upload u = pipeline.open(catalogKey(ids.get(), path), path, 0)) {
            proc.getOutputStream().close();
            proc.getInputStream().transferTo(u.stream());
            int code = proc.waitFor();
            errReader.join();
            if (code != 0) {
                throw PgToolFailure.of("pg_dumpall", "globals", new ExternalProcess.Result(code, "", err.toString()), conn);
            }
            return u.finish();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            proc.destroy();
            Thread.currentThread().interrupt();
            throw new LifeboatException(ErrorKind.INTERRUPTED, "interrupted while dumping globals");
        }
    }

    private static long size(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            return 0;
        }
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "unknown";
        }
    }
}
