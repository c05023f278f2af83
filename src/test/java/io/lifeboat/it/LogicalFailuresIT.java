package io.lifeboat.it;

import io.lifeboat.catalog.Json;
import io.lifeboat.postgres.ExternalProcess;
import io.lifeboat.postgres.PgBinaries;
import io.lifeboat.postgres.PgSession;
import io.lifeboat.postgres.ScratchCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Bad input and faults around logical backups: each gives a clear message and its documented exit
 * code, and nothing already stored is harmed.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LogicalFailuresIT {
    static final String PASSWORD = "s3cr3t-pw";
    ScratchCluster pg;
    Path repo;
    Path pgpass;
    String backupId;

    @BeforeAll
    void start() throws IOException {
        pg = ScratchCluster.create(null, ScratchCluster.Options.defaults().withPassword(PASSWORD)).start();
        repo = Files.createTempDirectory("lifeboat-it-fail-");
        pgpass = writePgpass(PASSWORD);
        try (PgSession s = pg.session("postgres")) {
            s.execute("CREATE DATABASE app");
        }
        PgBinaries.Tool pgbench = new PgBinaries(pg.binDir()).newest("pgbench");
        new ExternalProcess(List.of(pgbench.path().toString(), "-i", "-q", "-s", "1"), pg.connection("app").libpqEnvironment())
                .runChecked("pgbench -i");
        Cli.Result r = Cli.run(args("backup", pgpass, "--json", "--type", "logical", "--database", "app"));
        assertThat(r.exit()).as(r.toString()).isZero();
        backupId = (String) readJson(r.out()).get("id");
    }

    @AfterAll
    void stop() {
        if (pg != null) {
            pg.close();
        }
        ScratchCluster.deleteTree(repo);
    }

    Path writePgpass(String password) throws IOException {
        Path f = Files.createTempFile("pgpass", "");
        f.toFile().deleteOnExit();
        Files.writeString(f, "*:*:*:postgres:" + password + "\n");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
        return f;
    }

    String[] args(String command, Path passFile, String... more) {
        List<String> a = new ArrayList<>(List.of(command, "--pg-host", "127.0.0.1", "--pg-port", Integer.toString(pg.port()),
                "--pg-user", "postgres", "--pg-password-file", passFile.toString(), "--repo", "file://" + repo,
                "--cluster", "fail", "--allow-same-server"));
        a.addAll(Arrays.asList(more));
        return a.toArray(String[]::new);
    }

    static Map<?, ?> readJson(String s) {
        try {
            return Json.MAPPER.readValue(s, Map.class);
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + s, e);
        }
    }

    List<Path> storedFiles() throws IOException {
        try (Stream<Path> s = Files.walk(repo)) {
            return s.filter(Files::isRegularFile).sorted().toList();
        }
    }

    @Test
    void unknownDatabase() {
        Cli.Result r = Cli.run(args("backup", pgpass, "--type", "logical", "--database", "nope"));
        assertThat(r.exit()).as(r.toString()).isEqualTo(7);
        assertThat(r.err()).contains("database 'nope' does not exist");
    }

    @Test
    void wrongPasswordNeverShowsThePassword() throws IOException {
        Path wrong = writePgpass("not-the-password");
        Cli.Result r = Cli.run(args("backup", wrong, "--type", "logical", "--database", "app"));
        assertThat(r.exit()).as(r.toString()).isEqualTo(5);
        assertThat(r.err()).contains("refused login as 'postgres'").doesNotContain("not-the-password").doesNotContain(PASSWORD);
    }

    @Test
    void serverUnreachable() throws IOException {
        int closed;
        try (ServerSocket s = new ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        List<String> a = new ArrayList<>(List.of(args("backup", pgpass, "--type", "logical")));
        a.set(a.indexOf(Integer.toString(pg.port())), Integer.toString(closed));
        Cli.Result r = Cli.run(a.toArray(String[]::new));
        assertThat(r.exit()).as(r.toString()).isEqualTo(5);
        assertThat(r.err()).contains("cannot connect to PostgreSQL at 127.0.0.1:" + closed).contains("hint:");
    }

    @Test
    void restoreRefusesANonEmptyDatabaseAndLeavesItAlone() {
        Cli.Result r = Cli.run(args("restore", pgpass, "--backup", backupId, "--target-database", "app"));
        assertThat(r.exit()).as(r.toString()).isEqualTo(9);
        assertThat(r.err()).contains("'app'").contains("not empty").contains("--overwrite");
        try (PgSession s = pg.session("app")) {
            assertThat(s.queryValue("SELECT count(*) FROM pgbench_accounts")).contains("100000");
        }
        Cli.Result over = Cli.run(args("restore", pgpass, "--backup", backupId, "--target-database", "app", "--overwrite"));
        assertThat(over.exit()).as(over.toString()).isZero();
    }

    @Test
    void corruptedAndTruncatedObjectsAreNamedAndNothingIsRestored() throws IOException {
        Cli.Result b = Cli.run(args("backup", pgpass, "--json", "--type", "logical", "--database", "app"));
        assertThat(b.exit()).as(b.toString()).isZero();
        String id = (String) readJson(b.out()).get("id");
        Path biggest = storedFiles().stream().filter(p -> p.toString().contains(id) && p.toString().endsWith(".dat.zst"))
                .max((x, y) -> Long.compare(x.toFile().length(), y.toFile().length())).orElseThrow();
        byte[] original = Files.readAllBytes(biggest);
        byte[] flipped = original.clone();
        flipped[flipped.length / 2] ^= 0x01;
        Files.write(biggest, flipped);
        Cli.Result r = Cli.run(args("restore", pgpass, "--backup", id, "--target-database", "never1"));
        assertThat(r.exit()).as(r.toString()).isEqualTo(8);
        assertThat(r.err()).contains(biggest.getFileName().toString()).contains(id);
        Files.write(biggest, Arrays.copyOf(original, original.length / 3));
        Cli.Result t = Cli.run(args("restore", pgpass, "--backup", id, "--target-database", "never2"));
        assertThat(t.exit()).as(t.toString()).isEqualTo(8);
        assertThat(t.err()).contains(biggest.getFileName().toString());
        try (PgSession s = pg.session("postgres")) {
            assertThat(s.queryValue("SELECT count(*) FROM pg_database WHERE datname LIKE 'never%'")).contains("0");
        }
        Files.write(biggest, original);
        Cli.Result ok = Cli.run(args("restore", pgpass, "--backup", id, "--target-database", "healed"));
        assertThat(ok.exit()).as(ok.toString()).isZero();
    }

    @Test
    void spoolWithoutEnoughSpace() throws IOException {
        Assumptions.assumeTrue(ExternalProcess.runningAsRoot(), "needs root to mount a small tmpfs");
        Path small = Files.createTempDirectory("lifeboat-small-");
        ExternalProcess.Result m = new ExternalProcess(List.of("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", small.toString()),
                Map.of()).run();
        Assumptions.assumeTrue(m.ok(), "cannot mount tmpfs: " + m.stderr());
        try {
            List<Path> before = storedFiles();
            Cli.Result r = Cli.run(args("backup", pgpass, "--type", "logical", "--database", "app", "--spool-directory",
                    small.toString()));
            assertThat(r.exit()).as(r.toString()).isEqualTo(10);
            assertThat(r.err()).contains(small.toString()).contains("free");
            // Told to skip the estimate, pg_dump itself runs out of space (uncompressed, the dump is ~13 MB): same
            // kind, and no backup is left half-made.
            Cli.Result forced = Cli.run(args("backup", pgpass, "--type", "logical", "--database", "app", "--spool-directory",
                    small.toString(), "--skip-space-check", "--dump-compression", "none"));
            assertThat(forced.exit()).as(forced.toString()).isEqualTo(10);
            assertThat(forced.err()).contains("space");
            List<Path> after = storedFiles();
            assertThat(after).containsAll(before);
            assertThat(after.stream().filter(p -> !before.contains(p) && !p.getFileName().toString().equals("cluster.json")))
                    .isEmpty();
        } finally {
            new ExternalProcess(List.of("umount", small.toString()), Map.of()).run();
            Files.deleteIfExists(small);
        }
    }

    @Test
    void malformedConfigNamesTheLine() throws IOException {
        Path cfg = Files.createTempFile("lifeboat", ".yml");
        cfg.toFile().deleteOnExit();
        Files.writeString(cfg, "clusters:\n  fail:\n    repositories:\n      - uri: s3://b/p\n        compresion: zstd\n");
        Cli.Result r = Cli.run("list", "--config", cfg.toString());
        assertThat(r.exit()).as(r.toString()).isEqualTo(3);
        assertThat(r.err()).contains("line 5").contains("compresion");
    }

    @Test
    void unknownBackupAndBadIds() {
        Cli.Result r = Cli.run(args("restore", pgpass, "--backup", "20200101T000000Z-L"));
        assertThat(r.exit()).as(r.toString()).isEqualTo(7);
        Cli.Result bad = Cli.run(args("show", pgpass, "not-an-id"));
        assertThat(bad.exit()).isEqualTo(2);
        Cli.Result opt = Cli.run("backup", "--type", "logical", "--no-such-flag");
        assertThat(opt.exit()).isEqualTo(2);
    }
}
