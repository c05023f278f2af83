package io.lifeboat.it;

import io.lifeboat.postgres.ExternalProcess;
import io.lifeboat.postgres.PgConnectionSettings;
import io.lifeboat.postgres.PgSession;
import io.lifeboat.postgres.ScratchCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A restored copy never touches production unless asked to: it does not archive into production's
 * repository (archive_mode = off) and does not follow production as a standby, even when the
 * backup was taken from one; --archive-mode preserve and --standby are the explicit ways back.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RestoredCopyIsolationIT {
    RestoreScratch scratch;
    Path work;
    Path repo;
    ScratchCluster primary;
    LauncherProperty launcher;
    Cli.Result last;

    @BeforeAll
    void setUp() throws Exception {
        scratch = RestoreScratch.create("isolation", "prod");
        work = scratch.work;
        repo = scratch.repo;
        launcher = LauncherProperty.set();
        primary = ScratchCluster.create(work, ScratchCluster.Options.defaults());
        primary.appendConf("archive_mode = on", "archive_command = '" + LauncherProperty.LAUNCHER + " wal-push "
                + String.join(" ", where("prod", primary.port())) + " %p'");
        primary.start();
        try (PgSession s = primary.session("postgres")) {
            s.execute("CREATE TABLE t AS SELECT g AS i FROM generate_series(1, 1000) g");
        }
    }

    @AfterAll
    void tearDown() {
        scratch.stopAll();
        if (primary != null) {
            primary.close();
        }
        launcher.close();
        scratch.close();
    }

    List<String> where(String cluster, int port) {
        return List.of("--repo", "file://" + repo, "--cluster", cluster, "--allow-same-server", "--pg-host", "127.0.0.1",
                "--pg-port", Integer.toString(port), "--pg-user", "postgres");
    }

    /** restore --start of the newest physical backup of {@code cluster} into a new directory; returns its port. */
    int restore(String cluster, String name, String... more) throws Exception {
        Path dir = scratch.dataDirectory(name);
        int port = ScratchCluster.freePort();
        List<String> args = new ArrayList<>(List.of("--type", "physical", "--data-directory", dir.toString(),
                "--start", "--port", Integer.toString(port), "--start-timeout", "60"));
        args.addAll(List.of(more));
        Cli.Result r = Cli.run(PhysicalArchiveRecoveryIT.args(where(cluster, primary.port()), "restore",
                args.toArray(String[]::new)));
        assertThat(r.exit()).as(r.toString()).isZero();
        last = r;
        return port;
    }

    static PgSession session(int port) {
        return PgSession.open(new PgConnectionSettings("127.0.0.1", port, "postgres", "postgres", null, null));
    }

    static List<Path> files(Path dir) throws Exception {
        try (var s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).sorted().toList();
        }
    }

    @Test
    void aRestoredCopyDoesNotArchiveIntoProduction() throws Exception {
        Cli.Result b = Cli.run(PhysicalArchiveRecoveryIT.args(where("prod", primary.port()), "backup", "--type", "physical",
                "--include-wal"));
        assertThat(b.exit()).as(b.toString()).isZero();
        List<Path> before;
        try (PgSession s = primary.session("postgres")) {
            Archiving.switchAndAwait(s);
        }
        primary.stop(); // production quiet: whatever reaches its prefix from now on comes from the copy
        try {
            before = files(repo.resolve("prod/wal"));
            int port = restore("prod", "copy");
            String archiveMode;
            try (PgSession s = session(port)) {
                // the copy comes up on production's timeline 1 (the backup holds its WAL): its segments would
                // take names production's own WAL needs
                assertThat(s.queryValue("SELECT timeline_id FROM pg_control_checkpoint()")).contains("1");
                s.execute("INSERT INTO t SELECT g FROM generate_series(1, 1000) g");
                s.queryValue("SELECT pg_switch_wal()");
                s.execute("CHECKPOINT");
                Thread.sleep(3000);
                archiveMode = s.queryValue("SHOW archive_mode").orElseThrow();
            }
            assertThat(files(repo.resolve("prod/wal"))).as("production's WAL prefix").isEqualTo(before);
            assertThat(archiveMode).isEqualTo("off");
            assertThat(last.err()).contains("archiving is off in the restored server");
            assertThat(Files.readString(work.resolve("copy/postgresql.auto.conf"))).contains("archive_mode = 'off'");
            RestoreScratch.stop(work.resolve("copy"));

            // Asked for (this copy becomes the new primary): archiving as the backup had it.
            int kept = restore("prod", "new-primary", "--archive-mode", "preserve");
            try (PgSession s = session(kept)) {
                assertThat(s.queryValue("SHOW archive_mode")).contains("on");
            }
            RestoreScratch.stop(work.resolve("new-primary"));
        } finally {
            primary.start();
        }
    }

    @Test
    void aBackupTakenFromAStandbyRestoresAsAStandaloneServerUnlessAStandbyIsAskedFor() throws Exception {
        Path home = Files.createDirectories(work.resolve("sb"));
        ScratchCluster.giveToServerUser(home);
        Path standby = home.resolve("data");
        int standbyPort = ScratchCluster.freePort();
        Path bin = primary.binDir();
        List<String> asPostgres = List.of("runuser", "-u", ScratchCluster.OS_USER, "--");
        List<String> basebackup = new ArrayList<>(asPostgres);
        basebackup.addAll(List.of(bin.resolve("pg_basebackup").toString(), "-D", standby.toString(), "-R", "-X", "stream",
                "-h", "127.0.0.1", "-p", Integer.toString(primary.port()), "-U", "postgres", "-c", "fast"));
        new ExternalProcess(basebackup, Map.of()).runChecked("pg_basebackup -R");
        Files.writeString(standby.resolve("postgresql.auto.conf"), "port = " + standbyPort
                + "\nunix_socket_directories = '" + home + "'\narchive_mode = off\n", java.nio.file.StandardOpenOption.APPEND);
        List<String> start = new ArrayList<>(asPostgres);
        start.addAll(List.of(bin.resolve("pg_ctl").toString(), "-D", standby.toString(), "-l",
                home.resolve("standby.log").toString(), "-w", "start"));
        scratch.dataDirectory("sb/data");
        new ExternalProcess(start, Map.of()).runChecked("start the standby");
        try (PgSession s = session(standbyPort)) {
            assertThat(s.queryValue("SELECT pg_is_in_recovery()")).contains("t");
        }
        Cli.Result b = Cli.run(PhysicalArchiveRecoveryIT.args(where("sb", standbyPort), "backup", "--type", "physical",
                "--include-wal"));
        assertThat(b.exit()).as(b.toString()).isZero();

        int port = restore("sb", "from-standby");
        assertThat(last.err()).contains("the backup was taken from a standby");
        Path copy = work.resolve("from-standby");
        try (PgSession s = session(port)) {
            assertThat(s.queryValue("SELECT pg_is_in_recovery()")).contains("f");
            assertThat(s.queryValue("SHOW primary_conninfo")).contains("");
            assertThat(s.queryValue("SELECT count(*) FROM t")).contains("1000");
        }
        assertThat(copy.resolve("standby.signal")).doesNotExist();
        try (PgSession s = primary.session("postgres")) {
            assertThat(s.queryValue("SELECT count(*) FROM pg_stat_replication")).contains("1"); // the real standby only
        }
        RestoreScratch.stop(copy);

        // --standby: a standby of production again, as the backup was (primary_conninfo from the backup).
        int follower = restore("sb", "new-standby", "--standby");
        try (PgSession s = session(follower)) {
            assertThat(s.queryValue("SELECT pg_is_in_recovery()")).contains("t");
            assertThat(s.queryValue("SHOW primary_conninfo").orElse("")).contains("port=" + primary.port());
        }
        try (PgSession s = primary.session("postgres")) {
            s.execute("CREATE TABLE followed (i int)");
        }
        long deadline = System.nanoTime() + 60_000_000_000L;
        boolean seen = false;
        while (!seen && System.nanoTime() < deadline) {
            try (PgSession s = session(follower)) {
                seen = s.queryValue("SELECT to_regclass('followed') IS NOT NULL").orElse("f").equals("t");
            }
            Thread.sleep(200);
        }
        assertThat(seen).as("the restored standby replays production's changes").isTrue();
    }
}
