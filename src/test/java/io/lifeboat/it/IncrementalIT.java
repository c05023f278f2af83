package io.lifeboat.it;

import io.lifeboat.catalog.Json;
import io.lifeboat.postgres.ContentChecksum;
import io.lifeboat.postgres.PgConnectionSettings;
import io.lifeboat.postgres.PgSession;
import io.lifeboat.postgres.ScratchCluster;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Block-level incremental backups with --source local on a real PostgreSQL 15 cluster: a chain of
 * a full backup and incrementals that store only what changed, each backup of the chain restored
 * straight from the repository and started with every table's content as it was, pg_verifybackup
 * passing on the put-together directory; delta restores into a restored copy; a server whose page
 * LSNs cannot be trusted gets full backups.
 */
class IncrementalIT {

    @Test
    void aChainRestoresEachOfItsBackupsAndDeltaRestoresRewriteOnlyWhatDiffers() throws Exception {
        try (RestoreScratch w = RestoreScratch.create("incr-chain");
             ScratchCluster pg = ScratchCluster.create(w.work, ScratchCluster.Options.defaults()
                     .withConf("wal_log_hints = on")).start()) {
            Path tsDir = Files.createDirectory(w.work.resolve("ts"));
            ScratchCluster.giveToServerUser(tsDir);
            String tsOid = PhysicalRoundTripIT.fill(pg, tsDir);
            List<String> common = LocalSourceIT.common(pg, w.repo, "inc");
            Map<String, Map<String, Map<String, ContentChecksum.Entry>>> content = new LinkedHashMap<>();

            Map<?, ?> full = backup(common, "--full");
            assertThat(full.get("incremental")).isEqualTo(false);
            content.put((String) full.get("id"), PhysicalRoundTripIT.checksums(pg));

            try (PgSession s = pg.session("shop")) {
                s.execute("UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid <= 3000");
                s.execute("CREATE TABLE fresh AS SELECT g AS id FROM generate_series(1, 500) g");
                s.execute("UPDATE events SET payload = 'changed' WHERE id <= 500");
            }
            Map<?, ?> first = backup(common, "--incremental");
            assertThat(first.get("incremental")).isEqualTo(true);
            assertThat(first.get("parent")).isEqualTo(full.get("id"));
            assertThat(((Number) first.get("filesStoredInPart")).longValue()).isPositive();
            assertThat(((Number) first.get("blocksStored")).longValue()).as("blocks stored by the incremental")
                    .isLessThan(((Number) full.get("blocksStored")).longValue() / 10);
            content.put((String) first.get("id"), PhysicalRoundTripIT.checksums(pg));

            try (PgSession s = pg.session("shop")) {
                s.execute("DELETE FROM pgbench_accounts WHERE aid > 250000");
                s.execute("VACUUM pgbench_accounts"); // truncates the relation
                s.execute("VACUUM FULL pgbench_branches");
                s.execute("TRUNCATE pgbench_history");
                s.execute("INSERT INTO fresh SELECT g FROM generate_series(501, 20000) g"); // extends it
            }
            Map<?, ?> second = backup(common, "--incremental");
            assertThat(second.get("parent")).isEqualTo(first.get("id"));
            assertThat((List<Object>) second.get("chain")).containsExactly(full.get("id"), first.get("id"));
            content.put((String) second.get("id"), PhysicalRoundTripIT.checksums(pg));

            Cli.Result list = Cli.run(LocalSourceIT.args(common, "list"));
            assertThat(list.out()).contains("incremental of " + first.get("id"));

            // Each backup of the chain, restored into a new directory and started.
            Path copy = null;
            for (String id : content.keySet()) {
                Path dir = w.dataDirectory("restored-" + id);
                Map<?, ?> r = restore(common, id, dir, "--tablespace-map", tsOid + "=" + w.work.resolve("ts-" + id));
                assertThat((String) r.get("verification")).as(id).startsWith("passed (pg_verifybackup 15");
                assertSameContent(content.get(id), (Integer) ((Map<?, ?>) r.get("server")).get("port"), id);
                RestoreScratch.stop(dir);
                copy = dir;
            }

            // Delta: the copy of the newest backup is turned back into the first incremental, then the full one.
            for (String id : List.of((String) first.get("id"), (String) full.get("id"), (String) second.get("id"))) {
                Map<?, ?> r = restore(common, id, copy, "--delta", "--tablespace-map",
                        tsOid + "=" + w.work.resolve("ts-" + second.get("id")));
                assertThat((String) r.get("verification")).as(id).startsWith("passed (pg_verifybackup 15");
                assertSameContent(content.get(id), (Integer) ((Map<?, ?>) r.get("server")).get("port"), "delta " + id);
                RestoreScratch.stop(copy);
            }
        }
    }

    @Test
    void withoutHintBitLoggingAnIncrementalIsAFullBackupAndSaysWhy() throws Exception {
        try (RestoreScratch w = RestoreScratch.create("incr-nohints");
             ScratchCluster pg = ScratchCluster.create(w.work, ScratchCluster.Options.defaults()).start()) {
            try (PgSession s = pg.session("postgres")) {
                s.execute("CREATE TABLE t AS SELECT g FROM generate_series(1, 1000) g");
            }
            List<String> common = LocalSourceIT.common(pg, w.repo, "nh");
            Cli.Result none = Cli.run(LocalSourceIT.args(common, "backup", "--type", "physical", "--source", "local",
                    "--incremental", "--include-wal"));
            assertThat(none.exit()).as(none.toString()).isZero();
            assertThat(none.err()).contains("this backup is a full backup: there is no earlier backup taken with --source local");
            Cli.Result again = Cli.run(LocalSourceIT.args(common, "backup", "--type", "physical", "--source", "local",
                    "--incremental", "--include-wal"));
            assertThat(again.exit()).as(again.toString()).isZero();
            assertThat(again.err()).contains("this backup is a full backup: page LSNs do not show every change")
                    .contains("wal_log_hints");
        }
    }

    static Map<?, ?> backup(List<String> common, String kind) throws Exception {
        Cli.Result b = Cli.run(LocalSourceIT.args(common, "backup", "--json", "--type", "physical", "--source", "local",
                "--include-wal", "--jobs", "2", kind));
        assertThat(b.exit()).as(b.toString()).isZero();
        return Json.MAPPER.readValue(b.out(), Map.class);
    }

    static Map<?, ?> restore(List<String> common, String id, Path dir, String... more) throws Exception {
        List<String> a = new java.util.ArrayList<>(List.of("--json", "--backup", id, "--data-directory", dir.toString(),
                "--start", "--port", Integer.toString(ScratchCluster.freePort())));
        a.addAll(List.of(more));
        Cli.Result r = Cli.run(LocalSourceIT.args(common, "restore", a.toArray(String[]::new)));
        assertThat(r.exit()).as(r.toString()).isZero();
        return Json.MAPPER.readValue(r.out(), Map.class);
    }

    static void assertSameContent(Map<String, Map<String, ContentChecksum.Entry>> expected, int port, String what) {
        for (String db : expected.keySet()) {
            try (PgSession s = PgSession.open(new PgConnectionSettings("127.0.0.1", port, "postgres", db, null, null))) {
                assertThat(ContentChecksum.differences(expected.get(db), ContentChecksum.of(s))).as(what + " " + db).isEmpty();
            }
        }
    }
}
