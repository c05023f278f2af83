package io.lifeboat.it;

import io.lifeboat.postgres.ExternalProcess;
import io.lifeboat.postgres.PgBinaries;
import io.lifeboat.postgres.PgConnectionSettings;
import io.lifeboat.postgres.PgSession;
import io.lifeboat.postgres.ScratchCluster;
import io.lifeboat.postgres.ServerControl;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import io.lifeboat.catalog.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Point-in-time recovery from a physical backup plus the WAL archive (wal-push/wal-fetch), under
 * concurrent pgbench writes: each target yields exactly the marker rows committed up to it; then a
 * second recovery follows the timeline that the first one created.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PointInTimeRecoveryIT {
    ScratchCluster pg;
    Path repo;
    Path restores;
    String[] common;
    String backupId;
    String time1;
    String lsn2;
    String xid3;

    @BeforeAll
    void setUp() throws Exception {
        // Restored servers call us back through restore_command: in-process runs name the real launcher.
        System.setProperty("lifeboat.launcher", Path.of("bin", "lifeboat").toAbsolutePath().toString());
        repo = Files.createTempDirectory("lifeboat-pitr-repo-");
        restores = Files.createTempDirectory("lifeboat-pitr-");
        Files.setPosixFilePermissions(restores, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        // The archiver (postgres) and these in-process backups (root) share one repository directory here;
        // on real machines each writes as its own user to its own server.
        Files.createDirectories(repo.resolve("pitr/wal"));
        ScratchCluster.giveToServerUser(repo);
        ScratchCluster.giveToServerUser(restores);
        pg = ScratchCluster.create(null, ScratchCluster.Options.defaults());
        common = new String[] {"--repo", "file://" + repo, "--cluster", "pitr", "--allow-same-server", "--pg-host", "127.0.0.1",
                "--pg-port", Integer.toString(pg.port()), "--pg-user", "postgres"};
        pg.appendConf("archive_mode = on", "archive_command = '" + Path.of("bin", "lifeboat").toAbsolutePath() + " wal-push "
                + String.join(" ", common) + " %p'");
        pg.start();
        PgBinaries.Tool pgbench = new PgBinaries(pg.binDir()).newest("pgbench");
        Map<String, String> env = pg.connection("postgres").libpqEnvironment();
        new ExternalProcess(List.of(pgbench.path().toString(), "-i", "-q", "-s", "2"), env).runChecked("pgbench -i");
        try (PgSession s = pg.session("postgres")) {
            s.execute("CREATE TABLE markers (id int PRIMARY KEY, at timestamptz DEFAULT clock_timestamp())");
        }
        Cli.Result b = Cli.run(KilledBackupIT.concat("backup", common, "--type", "physical"));
        assertThat(b.exit()).as(b.toString()).isZero();
        backupId = b.out().strip();

        ProcessBuilder load = new ProcessBuilder(pgbench.path().toString(), "-n", "-c", "2", "-T", "12", "postgres")
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        load.environment().putAll(env);
        Process running = load.start();
        try (PgSession s = pg.session("postgres")) {
            Thread.sleep(1000);
            s.execute("INSERT INTO markers (id) VALUES (1)");
            time1 = s.queryValue("SELECT clock_timestamp()::text").orElseThrow();
            Thread.sleep(1000);
            s.execute("INSERT INTO markers (id) VALUES (2)");
            lsn2 = s.queryValue("SELECT pg_current_wal_insert_lsn()::text").orElseThrow();
            Thread.sleep(500);
            s.connection().setAutoCommit(false);
            s.execute("INSERT INTO markers (id) VALUES (3)");
            xid3 = s.queryValue("SELECT txid_current()::text").orElseThrow();
            s.connection().commit();
            s.connection().setAutoCommit(true);
            Thread.sleep(500);
            s.execute("INSERT INTO markers (id) VALUES (4)");
            s.queryValue("SELECT pg_create_restore_point('rp4')");
            Thread.sleep(500);
            s.execute("INSERT INTO markers (id) VALUES (5)");
        }
        running.waitFor();
        switchAndWait(pg.connection("postgres"));
    }

    /** Switches WAL and waits until everything up to the switch is archived. */
    static void switchAndWait(PgConnectionSettings c) throws Exception {
        try (PgSession s = PgSession.open(c)) {
            String last = s.queryValue("SELECT pg_walfile_name(pg_switch_wal())").orElseThrow();
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (System.nanoTime() < deadline) {
                String archived = s.queryValue("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver").orElse("");
                if (!archived.isEmpty() && archived.compareTo(last) >= 0) {
                    return;
                }
                Thread.sleep(200);
            }
            throw new AssertionError("WAL up to " + last + " was not archived in time");
        }
    }

    @AfterAll
    void tearDown() {
        if (pg != null) {
            pg.close();
        }
        ScratchCluster.deleteTree(repo);
        ScratchCluster.deleteTree(restores);
    }

    static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** Restores with the given target options, starts, returns the marker ids, stops. */
    List<Integer> recover(String name, String... target) throws Exception {
        Path dir = restores.resolve(name);
        int port = freePort();
        List<String> args = new ArrayList<>(List.of(KilledBackupIT.concat("restore", common, "--type", "physical",
                "--data-directory", dir.toString(), "--start", "--port", Integer.toString(port))));
        args.addAll(List.of(target));
        Cli.Result r = Cli.run(args.toArray(String[]::new));
        assertThat(r.exit()).as(r.toString()).isZero();
        List<Integer> ids = new ArrayList<>();
        try (PgSession s = PgSession.open(new PgConnectionSettings("127.0.0.1", port, "postgres", "postgres", null, null))) {
            for (List<String> row : s.query("SELECT id FROM markers ORDER BY id")) {
                ids.add(Integer.parseInt(row.get(0)));
            }
            assertThat(s.queryValue("SELECT count(*) FROM pgbench_accounts")).contains("200000");
        }
        new ServerControl(pg.binDir(), dir, ScratchCluster.OS_USER).stop("fast");
        return ids;
    }

    @Test
    void eachTargetYieldsExactlyTheMarkersCommittedUpToIt() throws Exception {
        assertThat(recover("time", "--target-time", time1, "--target-action", "pause")).containsExactly(1);
        assertThat(recover("lsn", "--target-lsn", lsn2, "--target-action", "pause")).containsExactly(1, 2);
        assertThat(recover("xid", "--target-xid", xid3, "--target-action", "pause")).containsExactly(1, 2, 3);
        assertThat(recover("name", "--target-name", "rp4", "--target-action", "pause")).containsExactly(1, 2, 3, 4);
        assertThat(recover("immediate", "--backup", backupId, "--target", "immediate", "--target-action", "pause")).isEmpty();
        // To the end of timeline 1 (another test may have branched timeline 2 off it, which "latest" would follow).
        assertThat(recover("end", "--backup", backupId, "--target-timeline", "current")).containsExactly(1, 2, 3, 4, 5);
    }

    @Test
    void aSecondRecoveryFollowsTheNewTimeline() throws Exception {
        Path dir = restores.resolve("tl2");
        int port = freePort();
        Cli.Result r = Cli.run(KilledBackupIT.concat("restore", common, "--type", "physical", "--data-directory", dir.toString(),
                "--start", "--port", Integer.toString(port), "--target-name", "rp4",
                "--archive-mode", "preserve")); // this copy becomes the new primary: its timeline is archived
        assertThat(r.exit()).as(r.toString()).isZero();
        PgConnectionSettings tl2 = new PgConnectionSettings("127.0.0.1", port, "postgres", "postgres", null, null);
        try (PgSession s = PgSession.open(tl2)) {
            assertThat(s.queryValue("SELECT timeline_id FROM pg_control_checkpoint()")).isPresent();
            s.execute("INSERT INTO markers (id) VALUES (6)");
            s.queryValue("SELECT pg_create_restore_point('rp6')");
        }
        switchAndWait(tl2);
        new ServerControl(pg.binDir(), dir, ScratchCluster.OS_USER).stop("fast");
        try (var files = Files.walk(repo)) {
            assertThat(files.map(p -> p.getFileName().toString())).anyMatch(n -> n.matches("0000000[2-9]\\.history\\..*"));
        }
        assertThat(recover("tl2-again", "--backup", backupId, "--target-name", "rp6", "--target-action", "pause"))
                .containsExactly(1, 2, 3, 4, 6);

        // verify follows the timeline switch: no gap from the backup on, along a timeline that branched off 1.
        Cli.Result v = Cli.run(KilledBackupIT.concat("verify", common, "--backup", backupId, "--json"));
        assertThat(v.exit()).as(v.toString()).isZero();
        Map<?, ?> report = (Map<?, ?>) ((List<?>) Json.MAPPER.readValue(v.out(), Map.class).get("backups")).get(0);
        Map<?, ?> wal = (Map<?, ?>) report.get("wal");
        assertThat(wal.get("ok")).as(v.toString()).isEqualTo(true);
        assertThat(((Number) wal.get("timeline")).intValue()).as(v.toString()).isGreaterThanOrEqualTo(2);
    }

    @Test
    void aTargetBeforeTheOldestBackupIsRefused() {
        Cli.Result r = Cli.run(KilledBackupIT.concat("restore", common, "--type", "physical", "--data-directory",
                restores.resolve("never").toString(), "--target-time", "2001-01-01T00:00:00Z"));
        assertThat(r.exit()).as(r.toString()).isEqualTo(7);
        assertThat(r.err()).contains("before the end of the oldest physical backup");
        Cli.Result bad = Cli.run(KilledBackupIT.concat("restore", common, "--type", "physical", "--data-directory",
                restores.resolve("never").toString(), "--target-time", "yesterday"));
        assertThat(bad.exit()).isEqualTo(2);
    }
}
