package io.lifeboat.it;

import io.lifeboat.postgres.ExternalProcess;
import io.lifeboat.postgres.PgSession;
import io.lifeboat.postgres.ScratchCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * SIGINT and SIGTERM in the middle of a backup (both types) or a restore: exit 12 with a message,
 * the children stopped, the spool removed, and the unfinished backup's objects removed.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class InterruptedCommandsIT {
    ScratchCluster pg;
    Path work;
    Path repo;
    Path spool;

    @BeforeAll
    void start() throws IOException {
        assertThat(Path.of("target", "lifeboat.jar")).as("built by mvn package before the ITs").exists();
        work = Files.createTempDirectory("lifeboat-interrupt-");
        Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxr-xr-x"));
        repo = Files.createDirectory(work.resolve("repo"));
        spool = work.resolve("spool");
        pg = ScratchCluster.create(work, ScratchCluster.Options.defaults()).start();
        // Random text: gzip -9 takes seconds on it, and so do its COPY and its index in a restore.
        try (PgSession s = pg.session("postgres")) {
            s.execute("CREATE TABLE a AS SELECT g, md5(random()::text) || md5(random()::text) AS t "
                    + "FROM generate_series(1, 600000) g");
            s.execute("CREATE TABLE b AS SELECT * FROM a");
            s.execute("CREATE INDEX ON a (t)");
            s.execute("CREATE INDEX ON b (t)");
        }
    }

    @AfterAll
    void stop() {
        if (pg != null) {
            pg.close();
        }
        ScratchCluster.deleteTree(work);
    }

    private List<String> command(String command, String... more) {
        List<String> a = new ArrayList<>(List.of(Path.of("bin", "lifeboat").toAbsolutePath().toString(), command,
                "--pg-host", "127.0.0.1", "--pg-port", Integer.toString(pg.port()), "--pg-user", "postgres",
                "--repo", "file://" + repo, "--cluster", "int", "--allow-same-server", "--jobs", "2",
                "--spool-directory", spool.toString()));
        a.addAll(Arrays.asList(more));
        return a;
    }

    private String[] cli(String command, String... more) {
        List<String> a = command(command, more);
        return a.subList(1, a.size()).toArray(String[]::new);
    }

    @Test
    void sigtermDuringALogicalBackup() throws Exception {
        Interrupted r = interrupt(command("backup", "--type", "logical", "--dump-compression", "gzip:9"), "TERM",
                () -> !children("pg_dump").isEmpty());
        r.assertInterrupted("SIGTERM");
        assertThat(r.err).contains("removed the");
        assertThat(children("pg_dump")).isEmpty();
        assertNothingLeft();
    }

    @Test
    void sigintDuringALogicalBackup() throws Exception {
        Interrupted r = interrupt(command("backup", "--type", "logical", "--dump-compression", "gzip:9"), "INT",
                () -> !children("pg_dump").isEmpty());
        r.assertInterrupted("SIGINT");
        assertThat(children("pg_dump")).isEmpty();
        assertNothingLeft();
    }

    @Test
    void sigtermDuringAPhysicalBackup() throws Exception {
        // slowed down to 2 MiB/s: the stream is still running when its first chunk is stored
        Interrupted r = interrupt(command("backup", "--type", "physical", "--max-rate", "2048", "--include-wal"), "TERM",
                () -> storedFiles() > 0);
        r.assertInterrupted("SIGTERM");
        assertThat(r.err).contains("removed the");
        assertNothingLeft();
    }

    @Test
    void sigintDuringALogicalRestore() throws Exception {
        Cli.Result b = Cli.run(cli("backup", "--type", "logical", "--no-globals"));
        assertThat(b.exit()).as(b.toString()).isZero();
        String id = b.out().strip();
        Interrupted r = interrupt(command("restore", "--backup", id, "--target-database", "half"), "INT",
                () -> !children("pg_restore").isEmpty());
        r.assertInterrupted("SIGINT");
        assertThat(children("pg_restore")).isEmpty();
        assertThat(spoolEntries()).as("spool").isEmpty();
        assertThat(Cli.run(cli("delete", id)).exit()).isZero();
    }

    private record Interrupted(int exit, String err, long millis) {
        void assertInterrupted(String signal) {
            assertThat(exit).as(err).isEqualTo(12);
            assertThat(err).contains("interrupted by " + signal);
            assertThat(millis).as("time from the signal to the exit").isLessThan(20_000);
        }
    }

    /** Starts the command, sends the signal once {@code ready} holds, and waits for it to exit. */
    private Interrupted interrupt(List<String> cmd, String signal, BooleanSupplier ready) throws Exception {
        Path err = work.resolve("stderr-" + System.nanoTime());
        Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(err.toFile()).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (!ready.getAsBoolean() && p.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            Thread.sleep(300);
            assertThat(p.isAlive()).as("still running: " + Files.readString(err)).isTrue();
            long sent = System.nanoTime();
            new ExternalProcess(List.of("kill", "-" + signal, Long.toString(p.pid())), Map.of()).runChecked("kill");
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("exited after SIG" + signal).isTrue();
            return new Interrupted(p.exitValue(), Files.readString(err, StandardCharsets.UTF_8),
                    (System.nanoTime() - sent) / 1_000_000);
        } finally {
            p.destroyForcibly();
        }
    }

    private void assertNothingLeft() throws IOException {
        assertThat(spoolEntries()).as("spool").isEmpty();
        Cli.Result list = Cli.run(cli("list"));
        assertThat(list.out()).as(list.toString()).doesNotContain("unfinished");
        assertThat(storedFiles()).as("objects left in the repository").isZero();
    }

    private List<Path> spoolEntries() throws IOException {
        if (!Files.isDirectory(spool)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(spool)) {
            // logical restores keep pg_restore's output in logs/, which outlives every spool by design
            return s.filter(e -> !e.getFileName().toString().equals("logs")).toList();
        }
    }

    /** Files under the cluster's backups/ in the repository. */
    private long storedFiles() {
        Path backups = repo.resolve("int/backups");
        if (!Files.isDirectory(backups)) {
            return 0;
        }
        try (Stream<Path> s = Files.walk(backups)) {
            return s.filter(Files::isRegularFile).count();
        } catch (IOException | java.io.UncheckedIOException e) {
            return 0; // changing while we look
        }
    }

    /** Live processes of this program that talk to this test's server (PGPORT in their environment). */
    private List<ProcessHandle> children(String program) {
        try (Stream<ProcessHandle> all = ProcessHandle.allProcesses()) {
            return all.filter(p -> p.info().command().orElse("").endsWith("/" + program) && p.isAlive()
                    && port(p).equals(Integer.toString(pg.port()))).toList();
        }
    }

    private static String port(ProcessHandle p) {
        try {
            for (String kv : Files.readString(Path.of("/proc", Long.toString(p.pid()), "environ")).split("\0")) {
                if (kv.startsWith("PGPORT=")) {
                    return kv.substring(7);
                }
            }
        } catch (IOException | RuntimeException e) {
            // gone
        }
        return "";
    }
}
