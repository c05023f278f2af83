package io.lifeboat.it;

import io.lifeboat.catalog.Json;
import io.lifeboat.postgres.PgConnectionSettings;
import io.lifeboat.postgres.PgSession;
import io.lifeboat.postgres.ScratchCluster;
import io.lifeboat.postgres.TimelineHistory;
import io.lifeboat.postgres.TimelineId;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two physical backups of one cluster and the timelines test restores leave in its archive: each
 * restore picks the backup that reaches its target and the timeline that holds its backup, and
 * history files whose switch points go down (as PostgreSQL writes them) are read, by verify too.
 *
 * <pre>
 *   timeline 1: B1 .. m1 m2(xid) m3 rp3 m4 X .. B2 .. m5 P m6 F(end)
 *   timeline 2: from X (a test restore of B1 to X, promoted, archived): before B2
 *   timeline 3: from F (B2 restored to the end, promoted, archived)
 *   timeline 4: follows 3, stopped at P before F: its history says 1 at F, then 3 at P
 * </pre>
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TimelinesIT {
    ScratchCluster pg;
    RestoreScratch scratch;
    Path work;
    Path repo;
    List<String> common;
    String b1;
    String b2;
    String xid2;
    String lsnX;
    String lsnP;
    LauncherProperty launcher;

    @BeforeAll
    void setUp() throws Exception {
        launcher = LauncherProperty.set();
        scratch = RestoreScratch.create("timelines", "tl");
        work = scratch.work;
        repo = scratch.repo;
        pg = ScratchCluster.create(work, ScratchCluster.Options.defaults());
        common = List.of("--repo", "file://" + repo, "--cluster", "tl", "--allow-same-server", "--pg-host", "127.0.0.1",
                "--pg-port", Integer.toString(pg.port()), "--pg-user", "postgres");
        pg.appendConf("archive_mode = on", "archive_command = '" + LauncherProperty.LAUNCHER + " wal-push "
                + String.join(" ", common) + " %p'");
        pg.start();
        try (PgSession s = pg.session("postgres")) {
            s.execute("CREATE TABLE markers (id int PRIMARY KEY)");
            b1 = backup();
            s.execute("INSERT INTO markers VALUES (1)");
            s.connection().setAutoCommit(false);
            s.execute("INSERT INTO markers VALUES (2)");
            xid2 = s.queryValue("SELECT txid_current()::text").orElseThrow();
            s.connection().commit();
            s.connection().setAutoCommit(true);
            s.execute("INSERT INTO markers VALUES (3)");
            s.queryValue("SELECT pg_create_restore_point('rp3')");
            s.execute("INSERT INTO markers VALUES (4)");
            lsnX = s.queryValue("SELECT pg_current_wal_insert_lsn()::text").orElseThrow();
            Archiving.switchAndAwait(s);
            b2 = backup();
            s.execute("INSERT INTO markers VALUES (5)");
            lsnP = s.queryValue("SELECT pg_current_wal_insert_lsn()::text").orElseThrow();
            Archiving.switchAndAwait(s);
            s.execute("INSERT INTO markers VALUES (6)");
            Archiving.switchAndAwait(s);
        }
        pg.stop(); // timeline 1 is complete in the archive
    }

    String backup() throws Exception {
        Cli.Result b = Cli.run(PhysicalArchiveRecoveryIT.args(common, "backup", "--type", "physical", "--json"));
        assertThat(b.exit()).as(b.toString()).isZero();
        return (String) Json.MAPPER.readValue(b.out(), Map.class).get("id");
    }

    @AfterAll
    void tearDown() {
        scratch.stopAll();
        if (pg != null) {
            pg.close();
        }
        launcher.close();
        scratch.close();
    }

    static void stop(Path dir) {
        RestoreScratch.stop(dir);
    }

    record Restored(Path dir, int port, Cli.Result result, Map<?, ?> json) {
        PgSession session() {
            return PgSession.open(new PgConnectionSettings("127.0.0.1", port, "postgres", "postgres", null, null));
        }

        List<Integer> markers() {
            try (PgSession s = session()) {
                return s.query("SELECT id FROM markers ORDER BY id").stream().map(r -> Integer.parseInt(r.get(0))).toList();
            }
        }

        String recoverySetting(String key) {
            return (String) ((Map<?, ?>) json.get("recovery")).get(key);
        }
    }

    Restored restore(String name, String... more) throws Exception {
        Path dir = scratch.dataDirectory(name);
        int port = ScratchCluster.freePort();
        List<String> args = new ArrayList<>(List.of("--json", "--type", "physical", "--data-directory", dir.toString(),
                "--start", "--port", Integer.toString(port)));
        args.addAll(Arrays.asList(more));
        Cli.Result r = Cli.run(PhysicalArchiveRecoveryIT.args(common, "restore", args.toArray(String[]::new)));
        assertThat(r.exit()).as(r.toString()).isZero();
        return new Restored(dir, port, r, Json.MAPPER.readValue(r.out(), Map.class));
    }

    /** Makes a promoted copy's new timeline reach the archive (its history file and a segment). */
    void archiveTimelineOf(Restored r) throws Exception {
        try (PgSession s = r.session()) {
            Archiving.switchAndAwait(s);
        }
        stop(r.dir());
    }

    @Test
    @Order(1)
    void xidAndRestorePointTargetsStartFromABackupThatReachesThem() throws Exception {
        // Without --backup the newest backup (B2, taken after both targets) was restored, and recovery failed.
        Restored xid = restore("xid", "--target-xid", xid2, "--target-action", "pause");
        assertThat(xid.json().get("backup")).isEqualTo(b1);
        assertThat(xid.markers()).containsExactly(1, 2);
        stop(xid.dir());
        Restored name = restore("name", "--target-name", "rp3", "--target-action", "pause");
        assertThat(name.json().get("backup")).isEqualTo(b1);
        assertThat(name.markers()).containsExactly(1, 2, 3);
        stop(name.dir());
        // a transaction that had finished before the oldest backup ended: refused before anything is restored
        Cli.Result early = Cli.run(PhysicalArchiveRecoveryIT.args(common, "restore", "--type", "physical",
                "--data-directory", work.resolve("never").toString(), "--target-xid", "3"));
        assertThat(early.exit()).as(early.toString()).isEqualTo(7);
        assertThat(work.resolve("never")).doesNotExist();
    }

    @Test
    @Order(2)
    void aPromotedTestRestoreDoesNotBreakRestoresOfLaterBackups() throws Exception {
        // A test restore of B1 to X, promoted, and its timeline archived (this copy was to be the new primary).
        Restored test = restore("test-restore", "--backup", b1, "--target-lsn", lsnX, "--archive-mode", "preserve");
        assertThat(test.markers()).containsExactly(1, 2, 3, 4);
        archiveTimelineOf(test);
        assertThat(Files.list(repo.resolve("tl/wal")).map(p -> p.getFileName().toString()))
                .anyMatch(n -> n.startsWith("00000002.history."));

        // The newest backup, B2, began after timeline 2 branched off: PostgreSQL's 'latest' (2) refused to start
        // ("requested timeline 2 is not a child of this server's history"); timeline 1 holds B2.
        Restored newest = restore("newest");
        assertThat(newest.json().get("backup")).isEqualTo(b2);
        assertThat(newest.recoverySetting("recovery_target_timeline")).isEqualTo("1");
        assertThat(newest.markers()).containsExactly(1, 2, 3, 4, 5, 6);
        assertThat(((Number) ((Map<?, ?>) newest.json().get("server")).get("timeline")).intValue()).isEqualTo(3);
        stop(newest.dir());

    }

    @Test
    @Order(3)
    void historiesWhoseSwitchPointsGoDownAreReadAsPostgresqlReadsThem() throws Exception {
        // B2 to the end of timeline 1 (F), promoted to timeline 3 and archived.
        Restored end = restore("to-the-end", "--backup", b2, "--archive-mode", "preserve");
        assertThat(end.recoverySetting("recovery_target_timeline")).isEqualTo("1");
        archiveTimelineOf(end);
        // B2 to P, before F, along timeline 3 (which holds B2): PostgreSQL writes 00000004.history with F, then P.
        Restored pitr = restore("before-the-fork", "--backup", b2, "--target-lsn", lsnP, "--archive-mode", "preserve");
        assertThat(pitr.recoverySetting("recovery_target_timeline")).isEqualTo("3");
        assertThat(pitr.markers()).containsExactly(1, 2, 3, 4, 5);
        TimelineHistory h = TimelineHistory.parse(TimelineId.of(4),
                Files.readString(pitr.dir().resolve("pg_wal/00000004.history")));
        assertThat(h.ancestors()).hasSize(2);
        assertThat(h.ancestors().get(1).at()).isLessThan(h.ancestors().get(0).at());
        archiveTimelineOf(pitr);

        // verify called 00000004.history damaged (exit 8)
        Cli.Result v = Cli.run(PhysicalArchiveRecoveryIT.args(common, "verify", "--backup", b2, "--json"));
        assertThat(v.exit()).as(v.toString()).isZero();
        Map<?, ?> wal = (Map<?, ?>) ((Map<?, ?>) ((List<?>) Json.MAPPER.readValue(v.out(), Map.class).get("backups")).get(0))
                .get("wal");
        assertThat(((Number) wal.get("timeline")).intValue()).isEqualTo(4);

        // and a default restore of B2 follows timeline 4: timeline 1 up to P, then 4
        Restored again = restore("along-4", "--backup", b2);
        assertThat(again.recoverySetting("recovery_target_timeline")).isEqualTo("4");
        assertThat(again.markers()).containsExactly(1, 2, 3, 4, 5);
        stop(again.dir());
    }
}
