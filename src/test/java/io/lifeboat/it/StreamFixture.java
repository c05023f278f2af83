package io.lifeboat.it;

import io.lifeboat.postgres.ExternalProcess;
import io.lifeboat.postgres.PgBinaries;
import io.lifeboat.postgres.PgSession;
import io.lifeboat.postgres.ScratchCluster;
import io.lifeboat.storage.EmbeddedS3Server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

/** What the agent's integration tests share: a work directory the server's user can read, a real S3 server, configs. */
final class StreamFixture implements AutoCloseable {
    final Path work;
    final EmbeddedS3Server s3;

    StreamFixture() throws IOException {
        work = Files.createTempDirectory("lifeboat-agent-it-");
        Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxr-xr-x"));
        s3 = EmbeddedS3Server.start(work.resolve("s3"));
        s3.createBucket("backups");
    }

    /** A lifeboat.yml for one cluster streaming from {@code pg}, readable by the server's user (restore_command reads it). */
    Path config(String cluster, int pgPort, String pgUser, String agentSection, String topSection) throws IOException {
        return config(cluster, pgPort, pgUser, agentSection, topSection, s3.endpoint().toString());
    }

    /** As above, with the repository reached through {@code endpoint} (e.g. a relay the test can take down). */
    Path config(String cluster, int pgPort, String pgUser, String agentSection, String topSection, String endpoint)
            throws IOException {
        Path f = work.resolve(cluster + "-" + System.nanoTime() + ".yml");
        Files.writeString(f, topSection + """
                clusters:
                  %s:
                    postgres:
                      host: 127.0.0.1
                      port: %d
                      user: %s
                    repositories:
                      - uri: s3://backups/lb?endpoint=%s&path-style=true&region=us-east-1
                        access-key-id: %s
                        secret-access-key: %s
                        allow-same-server: true
                    jobs: 2
                    agent:
                %s""".formatted(cluster, pgPort, pgUser, s3.endpoint(), s3.accessKey(), s3.secretKey(),
                agentSection.indent(6)).replace("endpoint=" + s3.endpoint(), "endpoint=" + endpoint));
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
        return f;
    }

    /** The stored WAL objects of a cluster (file names), from s3proxy's filesystem backend. */
    List<String> walObjects(String cluster) throws IOException {
        Path dir = work.resolve("s3").resolve("backups").resolve("lb").resolve(cluster).resolve("wal");
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /** The marker numbers present in the database. */
    static java.util.Set<Integer> markersIn(io.lifeboat.postgres.PgConnectionSettings conn) {
        java.util.Set<Integer> present = new java.util.HashSet<>();
        try (PgSession s = PgSession.open(conn)) {
            for (List<String> row : s.query("SELECT n FROM markers")) {
                present.add(Integer.parseInt(row.get(0)));
            }
        }
        return present;
    }

    static void pgbenchInit(ScratchCluster pg, int scale) {
        PgBinaries.Tool pgbench = new PgBinaries(pg.binDir()).newest("pgbench");
        new ExternalProcess(List.of(pgbench.path().toString(), "-i", "-q", "-s", Integer.toString(scale)),
                pg.connection("postgres").libpqEnvironment()).runChecked("pgbench -i");
    }

    static Process pgbench(ScratchCluster pg, int clients, int seconds) {
        PgBinaries.Tool pgbench = new PgBinaries(pg.binDir()).newest("pgbench");
        return new ExternalProcess(List.of(pgbench.path().toString(), "-n", "-c", Integer.toString(clients), "-T",
                Integer.toString(seconds)), pg.connection("postgres").libpqEnvironment()).start();
    }

    /**
     * Commits one marker row after another (autocommit) and records when each commit was
     * acknowledged, until stopped or the server goes away.
     */
    static final class Markers implements AutoCloseable {
        final Map<Integer, Long> acked = new ConcurrentHashMap<>();
        final long started = System.nanoTime();
        final AtomicBoolean stop = new AtomicBoolean();
        final Thread thread;

        Markers(ScratchCluster pg, long pauseMillis) {
            this(pg.connection("postgres"), pauseMillis, 1, null);
        }

        /** @param first the first marker number; @param setting a SET statement for the session, or null */
        Markers(io.lifeboat.postgres.PgConnectionSettings conn, long pauseMillis, int first, String setting) {
            try (PgSession s = PgSession.open(conn)) {
                s.execute("CREATE TABLE IF NOT EXISTS markers (n int PRIMARY KEY, at timestamptz DEFAULT now())");
            }
            thread = new Thread(() -> {
                try (PgSession s = PgSession.open(conn)) {
                    if (setting != null) {
                        s.execute(setting);
                    }
                    for (int n = first; !stop.get(); n++) {
                        s.execute("INSERT INTO markers (n) VALUES (" + n + ")");
                        acked.put(n, System.nanoTime());
                        if (pauseMillis > 0) {
                            Thread.sleep(pauseMillis);
                        }
                    }
                } catch (RuntimeException | InterruptedException e) {
                    // the server went away: what was acknowledged is recorded
                }
            }, "markers");
            thread.start();
        }

        @Override
        public void close() throws InterruptedException {
            stop.set(true);
            thread.join(30_000);
        }

        /** Mean time per acknowledged commit, in milliseconds (with no pause between commits). */
        double meanCommitMillis() {
            long last = acked.values().stream().mapToLong(Long::longValue).max().orElse(started);
            return acked.isEmpty() ? 0 : (last - started) / 1e6 / acked.size();
        }
    }

    @Override
    public void close() {
        s3.close();
        if (System.getProperty("lifeboat.keep-work") == null) {
            ScratchCluster.deleteTree(work);
        }
    }
}
