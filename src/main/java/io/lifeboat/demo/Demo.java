package io.lifeboat.demo;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.BackupManifest;
import io.lifeboat.codec.Compression;
import io.lifeboat.config.ClusterConfig;
import io.lifeboat.config.RepositoryConfig;
import io.lifeboat.config.RepositoryUri;
import io.lifeboat.engine.ObjectPipeline;
import io.lifeboat.engine.Progress;
import io.lifeboat.engine.RepositoryAccess;
import io.lifeboat.engine.Spool;
import io.lifeboat.engine.logical.LogicalBackup;
import io.lifeboat.engine.logical.LogicalBackupRequest;
import io.lifeboat.engine.logical.LogicalRestore;
import io.lifeboat.engine.logical.LogicalRestoreRequest;
import io.lifeboat.engine.verify.DrillRecord;
import io.lifeboat.engine.verify.RestoreDrill;
import io.lifeboat.catalog.BackupEntry;
import io.lifeboat.postgres.ContentChecksum;
import io.lifeboat.postgres.ExternalProcess;
import io.lifeboat.postgres.PgBinaries;
import io.lifeboat.postgres.PgSession;
import io.lifeboat.postgres.ScratchCluster;
import io.lifeboat.storage.EmbeddedS3Server;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The demo: a full backup → disaster → restore cycle on a scratch PostgreSQL cluster and an
 * embedded S3 server, proven by comparing every table's content before and after.
 */
public final class Demo {
    public record Step(String name, boolean ok, double seconds, String detail) {
    }

    public record Report(List<Step> steps, boolean ok, Path workDir) {
    }

    private final Path parent;
    private final int scale;
    private final boolean keep;
    private final Consumer<String> say;
    private final Progress progress;
    private final List<Step> steps = new ArrayList<>();

    /**
     * @param parent where the work directory goes (null: system temp)
     * @param scale  pgbench scale factor of the demo database
     * @param keep   leave the cluster data and the S3 directory behind for inspection
     */
    private DemoKey key;

    public Demo(Path parent, int scale, boolean keep, Consumer<String> say, Progress progress) {
        this.parent = parent;
        this.scale = scale;
        this.keep = keep;
        this.say = say;
        this.progress = progress;
    }

    public Report run() throws Exception {
        Path work = parent == null ? Files.createTempDirectory("lifeboat-demo-")
                : Files.createTempDirectory(Files.createDirectories(parent), "lifeboat-demo-");
        // The scratch server runs as 'postgres' when we are root: it must be able to pass through.
        Files.setPosixFilePermissions(work, java.nio.file.attribute.PosixFilePermissions.fromString("rwx--x--x"));
        say.accept("Lifeboat demo in " + work);
        say.accept("The database server and the repository are on this one machine here, so the demo opts out of the "
                + "off-server guard (allow-same-server). Never do that for real backups.");
        EmbeddedS3Server s3 = null;
        ScratchCluster pg = null;
        try {
            s3 = timed("start an embedded S3 server (s3proxy)", work.resolve("s3"), EmbeddedS3Server::start);
            s3.createBucket("lifeboat-demo");
            say.accept("  S3 endpoint " + s3.endpoint() + ", bucket lifeboat-demo");
            String launcher = System.getProperty("lifeboat.launcher");
            Path configFile = work.resolve("lifeboat.yml");
            EmbeddedS3Server server = s3;
            DemoKey key = timed("create an age key pair: the database host gets only the public key", work, DemoKey::create);
            this.key = key;
            say.accept("  recipient " + key.recipient() + " in lifeboat.yml; identity (private key) in " + key.identity()
                    + ", used only to restore");
            pg = timed("start a scratch PostgreSQL cluster, archiving WAL to S3 (archive_command = lifeboat wal-push)", work,
                    w -> {
                        ScratchCluster c = ScratchCluster.create(w, ScratchCluster.Options.defaults());
                        writeConfig(configFile, c, server, key.recipient());
                        if (launcher != null) {
                            c.appendConf("archive_mode = on", "archive_command = '" + launcher + " wal-push --config "
                                    + configFile + " --cluster demo %p'");
                        }
                        return c.start();
                    });
            say.accept("  PostgreSQL on 127.0.0.1:" + pg.port() + ", data in " + pg.dataDir());
            ScratchCluster cluster = pg;
            timed("create database 'shop': pgbench scale " + scale + " + varied types, non-ASCII text, large objects", null,
                    x -> {
                        fill(cluster);
                        return null;
                    });
            Map<String, ContentChecksum.Entry> before;
            try (PgSession s = pg.session("shop")) {
                before = ContentChecksum.of(s);
            }
            say.accept("  " + before.size() + " tables, sequences and large-object sets fingerprinted");

            ClusterConfig config = clusterConfig(pg, s3, work);
            BackupManifest backup;
            try (RepositoryAccess repo = RepositoryAccess.open(config, say)) {
                backup = timed("logical backup to S3 (pg_dump -Fd -j" + config.jobs() + ", uploaded while it writes, checksummed)", null,
                        x -> new LogicalBackup(config, repo.catalog(), repo.pipeline(), progress, m -> { })
                                .run(new LogicalBackupRequest(List.of("shop"), false, true, config.jobs(), true,
                                        io.lifeboat.engine.logical.DumpCompression.AUTO)));
                say.accept("  backup " + backup.id() + ": " + Spool.human(backup.rawBytes()) + " dumped, "
                        + Spool.human(backup.storedBytes()) + " stored in " + backup.objects().size() + " objects, "
                        + "each encrypted (" + backup.objects().get(0).path() + ")");
                timed("without the identity, a restore is refused before it writes anything", null, x -> {
                    ObjectPipeline publicKeyOnly = new ObjectPipeline(repo.storage(), Compression.ZSTD, 3,
                            new io.lifeboat.codec.AgeEncryption(List.of(key.recipient()), null));
                    try {
                        publicKeyOnly.checkReadable(repo.catalog(), backup);
                    } catch (LifeboatException e) {
                        if (e.kind() == ErrorKind.KEY) {
                            say.accept("  refused: " + e.getMessage());
                            return null;
                        }
                        throw e;
                    }
                    throw new IllegalStateException("an encrypted backup was readable without its identity");
                });

                timed("disaster: DROP DATABASE shop", null, x -> {
                    try (PgSession s = cluster.session("postgres")) {
                        s.execute("DROP DATABASE shop");
                    }
                    return null;
                });
                timed("restore from S3: verify checksums, pg_restore -j" + config.jobs() + " into a new 'shop'", null,
                        x -> new LogicalRestore(config, repo.catalog(), repo.pipeline(), progress, m -> { })
                                .run(new LogicalRestoreRequest(backup.id(), "shop", "shop", config.postgres(), false, false,
                                        false, config.jobs(), true)));
            }
            Map<String, ContentChecksum.Entry> after;
            try (PgSession s = pg.session("shop")) {
                after = ContentChecksum.of(s);
            }
            List<String> diff = ContentChecksum.differences(before, after);
            steps.add(new Step("compare every table's content checksum", diff.isEmpty(), 0,
                    diff.isEmpty() ? before.size() + " of " + before.size() + " identical" : "differ: " + diff));
            say.accept((diff.isEmpty() ? "ok   " : "FAIL ") + "compare every table's content checksum: "
                    + steps.get(steps.size() - 1).detail());

            try (RepositoryAccess repo = RepositoryAccess.open(config, m -> { })) {
                DrillRecord drill = timed("restore drill: restore the backup into a second scratch cluster, amcheck it, "
                        + "record the result", null, x -> new RestoreDrill(config, repo.catalog(), repo.pipeline(), m -> { })
                        .run(backup, work));
                drill.checks().forEach((k, v) -> say.accept("  " + k + ": " + v));
                if (!drill.ok()) {
                    steps.add(new Step("restore drill", false, drill.restoreSeconds(), String.join("; ", drill.problems())));
                }
                say.accept("  lifeboat list now says:");
                List<BackupEntry> entries = repo.catalog().list();
                for (BackupEntry e : entries) {
                    RestoreDrill.latest(repo.catalog(), e.id()).ifPresent(d -> say.accept("  " + e.id() + "  "
                            + (d.ok() ? "proven restorable at " + d.time().truncatedTo(java.time.temporal.ChronoUnit.SECONDS)
                            + ", restore took " + Math.round(d.restoreSeconds()) + " s" : "restore drill FAILED")));
                }
            }
            if (launcher != null) {
                agent(pg, s3, work, launcher);
                physicalAndPointInTime(pg, config, configFile, launcher, before);
                if (keep) {
                    keepDashboard(pg, s3, work, launcher); // returns only if the agent does not start
                }
            } else {
                say.accept("(physical backup and point-in-time recovery skipped: run the demo through bin/lifeboat)");
            }
            return new Report(List.copyOf(steps), steps.stream().allMatch(Step::ok), work);
        } finally {
            if (pg != null) {
                if (keep) {
                    pg.stop();
                } else {
                    pg.close();
                }
            }
            if (s3 != null) {
                s3.close();
            }
            if (!keep) {
                ScratchCluster.deleteTree(work);
            }
        }
    }

    private interface Action<T> {
        T run(Path arg) throws Exception;
    }

    private <T> T timed(String name, Path arg, Action<T> action) {
        Instant start = Instant.now();
        try {
            T result = action.run(arg);
            double s = Duration.between(start, Instant.now()).toMillis() / 1000.0;
            steps.add(new Step(name, true, s, ""));
            say.accept(String.format("ok   %-90s %6.1f s", name, s));
            return result;
        } catch (LifeboatException e) {
            steps.add(new Step(name, false, Duration.between(start, Instant.now()).toMillis() / 1000.0, e.getMessage()));
            say.accept("FAIL " + name);
            throw e;
        } catch (Exception e) {
            say.accept("FAIL " + name);
            throw new LifeboatException(ErrorKind.GENERAL, "demo step '" + name + "' failed: " + e, null, e);
        }
    }

    /** The demo's lifeboat.yml, which the server's archive_command reads (readable by postgres, nobody else). */
    private static void writeConfig(Path file, ScratchCluster pg, EmbeddedS3Server s3, String recipient) throws IOException {
        Files.writeString(file, clusterYaml(pg, s3, recipient, null, ""));
        Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        ScratchCluster.giveToServerUser(file);
    }

    /**
     * `lifeboat agent` as its own process: it streams WAL over a replication slot (side by side with
     * archive_command: the same segments are stored once), stores the unfinished segment as a
     * partial within its flush interval, runs a scheduled restore drill, and `lifeboat status` shows it.
     */
    private void agent(ScratchCluster pg, EmbeddedS3Server s3, Path work, String launcher) throws Exception {
        int port = ScratchCluster.freePort();
        Path cfg = agentConfig(pg, s3, work, port, "      schedules:\n        drill: '* * * * *'\n");
        Path log = work.resolve("agent.log");
        Process agent = startAgent(launcher, cfg, log);
        try {
            timed("lifeboat agent: stream WAL over a replication slot (created for it) into S3", null,
                    x -> awaitLog(log, "streaming WAL from", 60));
            timed("the agent's dashboard answers: fleet, timeline, restore planner (JSON under /api/)", null, x -> {
                awaitLog(log, "dashboard on http", 30);
                java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(
                        java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port
                                + "/api/clusters")).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() != 200 || !r.body().contains("\"demo\"")) {
                    throw new IllegalStateException("the dashboard answered " + r.statusCode() + ": " + r.body());
                }
                return null;
            });
            say.accept("  dashboard: http://127.0.0.1:" + port + "/" + (keep ? ""
                    : " (run the demo with --keep to keep it up)"));
            timed("commit marker C: within the 2 s flush interval it is in S3, in the unfinished segment's partial copy", null,
                    x -> {
                        long before = Files.readString(log).split("stored partial", -1).length;
                        try (PgSession s = pg.session("postgres")) {
                            s.execute("CREATE TABLE agent_markers (name text)");
                            s.execute("INSERT INTO agent_markers VALUES ('C')");
                        }
                        long deadline = System.nanoTime() + 30_000_000_000L;
                        while (Files.readString(log).split("stored partial", -1).length <= before) {
                            if (System.nanoTime() > deadline) {
                                throw new IllegalStateException("no partial segment stored within 30 s: " + Files.readString(log));
                            }
                            Thread.sleep(100);
                        }
                        return null;
                    });
            timed("a scheduled restore drill (cron '* * * * *') runs in the agent and is recorded in the repository", null,
                    x -> awaitLog(log, "drill job (succeeded|failed)", 150));
            Thread.sleep(6000); // the agent's lease and watcher catch up with the drill
            ExternalProcess.Result st = new ExternalProcess(List.of(launcher, "status", "--config", cfg.toString()), Map.of()).run();
            say.accept("  lifeboat status:");
            st.stdout().lines().forEach(l -> say.accept("    " + l));
            if (!Files.readString(log).contains("drill job succeeded")) {
                steps.add(new Step("scheduled restore drill", false, 0, "see " + log));
            }
        } finally {
            agent.destroy(); // SIGTERM: the agent stores what it received and stops
            if (!agent.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)) {
                agent.destroyForcibly();
            }
            say.accept("  agent stopped (exit " + agent.waitFor() + ")");
        }
    }

    /**
     * The agent's lifeboat.yml: the dashboard on a loopback port (drills from the planner allowed), the
     * stream, and {@code schedules} (indented YAML, may be empty).
     */
    private Path agentConfig(ScratchCluster pg, EmbeddedS3Server s3, Path work, int port, String schedules)
            throws IOException {
        Path cfg = work.resolve("agent.yml");
        Files.writeString(cfg, "agent:\n  http:\n    listen: 127.0.0.1:" + port + "\n    drills: true\n"
                + clusterYaml(pg, s3, key.recipient(), key.identity(), "    agent:\n      stream:\n        flush-interval: 2s\n"
                + schedules));
        Files.setPosixFilePermissions(cfg, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        return cfg;
    }

    private static Process startAgent(String launcher, Path cfg, Path log) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(launcher, "agent", "--config", cfg.toString()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().put("LIFEBOAT_AGENT_DEBUG", "1");
        pb.environment().put("LIFEBOAT_JAVA_OPTS", "-Dlifeboat.agent.watch-seconds=5 -Dlifeboat.dashboard.refresh-seconds=5");
        return pb.start();
    }

    /**
     * With --keep: the agent serves the restored cluster again and its dashboard stays up, with the
     * S3 server and PostgreSQL, until Ctrl-C (a shutdown hook stops the three).
     */
    private void keepDashboard(ScratchCluster pg, EmbeddedS3Server s3, Path work, String launcher) throws Exception {
        int port = ScratchCluster.freePort();
        Path cfg = agentConfig(pg, s3, work, port, "");
        Path log = work.resolve("agent-kept.log");
        Process agent = startAgent(launcher, cfg, log);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            agent.destroy(); // SIGTERM: the agent stores what it received and stops
            try {
                if (!agent.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)) {
                    agent.destroyForcibly();
                }
            } catch (InterruptedException e) {
                agent.destroyForcibly();
            }
            pg.stop();
            s3.close();
        }, "lifeboat-demo-stop"));
        try {
            awaitLog(log, "dashboard on http", 60);
        } catch (Exception e) {
            say.accept("warning: the agent did not start its dashboard: " + e.getMessage());
            return;
        }
        boolean ok = steps.stream().allMatch(Step::ok);
        say.accept(ok ? "demo passed: the restored database is identical to the original" : "demo FAILED: see the steps above");
        say.accept("");
        say.accept("dashboard: http://127.0.0.1:" + port + "/   (the agent serves the restored cluster 'demo'; its log: " + log
                + ")");
        say.accept("kept: " + work + "; PostgreSQL on 127.0.0.1:" + pg.port() + ", S3 on " + s3.endpoint());
        say.accept("press Ctrl-C to stop the agent, PostgreSQL and S3");
        Thread.currentThread().join();
    }

    private static Void awaitLog(Path log, String regex, int seconds) throws Exception {
        java.util.regex.Pattern p = java.util.regex.Pattern.compile(regex);
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        while (!p.matcher(Files.exists(log) ? Files.readString(log) : "").find()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the agent did not log '" + regex + "' within " + seconds + " s: "
                        + Files.readString(log));
            }
            Thread.sleep(200);
        }
        return null;
    }

    /** The demo cluster in lifeboat.yml: the server, the S3 repository, encryption, and {@code more} (indented). */
    private static String clusterYaml(ScratchCluster pg, EmbeddedS3Server s3, String recipient, Path identity, String more) {
        return """
                clusters:
                  demo:
                    postgres:
                      host: 127.0.0.1
                      port: %d
                      user: postgres
                    repositories:
                      - name: demo-s3
                        uri: s3://lifeboat-demo/backups?endpoint=%s&region=us-east-1&path-style=true
                        access-key-id: %s
                        secret-access-key: %s
                        allow-same-server: true
                    encryption:
                      recipients:
                        - %s
                """.formatted(pg.port(), s3.endpoint(), s3.accessKey(), s3.secretKey(), recipient)
                + (identity == null ? "" : "      identity-file: " + identity + "\n") + more;
    }

    private void physicalAndPointInTime(ScratchCluster pg, ClusterConfig config, Path configFile, String launcher,
                                        Map<String, ContentChecksum.Entry> shop) throws Exception {
        try (RepositoryAccess repo = RepositoryAccess.open(config, m -> { })) {
            BackupManifest physical = timed("physical backup of the whole cluster to S3 (replication protocol, parallel "
                    + "zstd chunks)", null, x -> new io.lifeboat.engine.physical.PhysicalBackup(config, repo.catalog(),
                    repo.pipeline(), progress, m -> { }).run(io.lifeboat.engine.physical.PhysicalBackupRequest.defaults(config.jobs())));
            say.accept("  backup " + physical.id() + ": " + Spool.human(physical.rawBytes()) + " read, "
                    + Spool.human(physical.storedBytes()) + " stored");
            String[] target = new String[1];
            timed("writes under pgbench load; commit marker A, note the time, commit marker B", null, x -> {
                PgBinaries.Tool pgbench = new PgBinaries(pg.binDir()).newest("pgbench");
                ProcessBuilder load = new ProcessBuilder(pgbench.path().toString(), "-n", "-c", "2", "-T", "4", "shop")
                        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
                load.environment().putAll(pg.connection("shop").libpqEnvironment());
                Process running = load.start();
                try (PgSession s = pg.session("postgres")) {
                    s.execute("CREATE TABLE demo_markers (name text PRIMARY KEY, at timestamptz DEFAULT clock_timestamp())");
                    Thread.sleep(1000);
                    s.execute("INSERT INTO demo_markers (name) VALUES ('A')");
                    target[0] = s.queryValue("SELECT clock_timestamp()::text").orElseThrow();
                    Thread.sleep(1000);
                    s.execute("INSERT INTO demo_markers (name) VALUES ('B')");
                }
                running.waitFor();
                try (PgSession s = pg.session("postgres")) {
                    String last = s.queryValue("SELECT pg_walfile_name(pg_switch_wal())").orElseThrow();
                    long deadline = System.nanoTime() + 60_000_000_000L;
                    while (s.queryValue("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver").orElse("")
                            .compareTo(last) < 0) {
                        if (System.nanoTime() > deadline) {
                            throw new LifeboatException(ErrorKind.STORAGE, "WAL " + last + " was not archived within 60 s",
                                    "see the server log in " + pg.baseDir());
                        }
                        Thread.sleep(200);
                    }
                }
                return null;
            });
            say.accept("  target time: " + target[0] + " (between A and B)");
            String fetch = launcher + " wal-fetch --config " + configFile + " --cluster demo --identity-file "
                    + key.identity() + " %f %p";
            DrillRecord drill = timed("restore drill of the physical backup: scratch cluster, pg_verifybackup, replay the "
                    + "archived WAL to its end, amcheck", null, x -> new RestoreDrill(config, repo.catalog(), repo.pipeline(),
                    m -> { }, fetch).run(physical, pg.baseDir().getParent()));
            drill.checks().forEach((k, v) -> say.accept("  " + k + ": " + v));
            if (!drill.ok()) {
                steps.add(new Step("physical restore drill", false, drill.restoreSeconds(), String.join("; ", drill.problems())));
            } else {
                say.accept("  " + physical.id() + "  proven restorable at " + drill.time().truncatedTo(
                        java.time.temporal.ChronoUnit.SECONDS) + ", restore took " + Math.round(drill.restoreSeconds())
                        + " s, recovered to " + drill.recoveredTo());
            }
            timed("disaster: stop the server and delete its data directory", null, x -> {
                pg.stop("immediate");
                ScratchCluster.deleteTree(pg.dataDir());
                return null;
            });
            io.lifeboat.postgres.RecoveryTarget time = io.lifeboat.postgres.RecoveryTarget.time(target[0]);
            io.lifeboat.engine.physical.PhysicalRestore.Result restored = timed("point-in-time restore from S3: base backup + "
                    + "archived WAL up to the target time, start", null, x -> new io.lifeboat.engine.physical.PhysicalRestore(
                    config, repo.catalog(), repo.pipeline(), progress, m -> { }).run(new io.lifeboat.engine.physical.PhysicalRestoreRequest(
                    physical.id(), pg.dataDir(), List.of(), new io.lifeboat.postgres.RecoverySettings(fetch, time.setting(),
                    "promote", null), fetch, null, true, true, pg.port(), java.time.Duration.ofMinutes(5), config.jobs(), true,
                    true)));
            say.accept("  " + restored.verification() + "; recovery stopped at " + restored.started().recoveryTarget());
        }
        List<String> markers;
        Map<String, ContentChecksum.Entry> shopAfter;
        try (PgSession s = pg.session("postgres")) {
            markers = s.query("SELECT name FROM demo_markers ORDER BY name").stream().map(r -> r.get(0)).toList();
        }
        boolean markersOk = markers.equals(List.of("A"));
        steps.add(new Step("point in time: marker A is there, marker B (committed after the target) is not", markersOk, 0,
                "markers " + markers));
        say.accept((markersOk ? "ok   " : "FAIL ") + "point in time: marker A is there, B is not: " + markers);
        try (PgSession s = pg.session("shop")) {
            shopAfter = ContentChecksum.of(s);
        }
        long unchanged = shop.keySet().stream().filter(k -> !k.contains("pgbench")).filter(k -> java.util.Objects.equals(
                shop.get(k), shopAfter.get(k))).count();
        long expected = shop.keySet().stream().filter(k -> !k.contains("pgbench")).count();
        steps.add(new Step("tables untouched by the load are identical after the physical restore", unchanged == expected, 0,
                unchanged + " of " + expected));
        say.accept((unchanged == expected ? "ok   " : "FAIL ") + "tables untouched by the load are identical: " + unchanged
                + " of " + expected);
    }

    private void fill(ScratchCluster pg) throws IOException {
        try (PgSession s = pg.session("postgres")) {
            s.execute("CREATE DATABASE shop");
        }
        PgBinaries.Tool pgbench = new PgBinaries(pg.binDir()).newest("pgbench");
        new ExternalProcess(List.of(pgbench.path().toString(), "-i", "-q", "-s", Integer.toString(scale), "--foreign-keys"),
                pg.connection("shop").libpqEnvironment()).runChecked("pgbench -i");
        try (InputStream in = Demo.class.getResourceAsStream("shop.sql"); PgSession s = pg.session("shop")) {
            s.execute(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    private ClusterConfig clusterConfig(ScratchCluster pg, EmbeddedS3Server s3, Path work) {
        String uri = "s3://lifeboat-demo/backups?endpoint=" + s3.endpoint() + "&region=us-east-1&path-style=true";
        RepositoryConfig repo = new RepositoryConfig("demo-s3", RepositoryUri.parse(uri), uri, Compression.ZSTD,
                Compression.ZSTD.defaultLevel(), true, s3.accessKey(), s3.secretKey(), 16, 8);
        return new ClusterConfig("demo", pg.connection("postgres"), List.of(repo),
                Math.max(2, Runtime.getRuntime().availableProcessors()), work.resolve("spool"), pg.binDir(), pg.dataDir(),
                null, false, new io.lifeboat.config.EncryptionConfig(List.of(key.recipient()), key.identity()), 1);
    }

    /** The demo's age key pair; the identity is readable by the server's user, whose restore_command decrypts WAL. */
    private record DemoKey(String recipient, Path identity) {
        static DemoKey create(Path work) throws Exception {
            java.security.KeyPair pair = new com.exceptionfactory.jagged.x25519.X25519KeyPairGenerator().generateKeyPair();
            Path dir = Files.createDirectories(work.resolve("keys"));
            Path identity = dir.resolve("demo-identity.txt");
            Files.writeString(identity, "# public key: " + pair.getPublic() + "\n" + pair.getPrivate() + "\n");
            Files.setPosixFilePermissions(identity, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
            ScratchCluster.giveToServerUser(dir);
            ScratchCluster.giveToServerUser(identity);
            return new DemoKey(pair.getPublic().toString(), identity);
        }
    }
}
