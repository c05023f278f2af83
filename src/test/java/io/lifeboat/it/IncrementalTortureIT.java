package io.lifeboat.it;

import io.lifeboat.postgres.ContentChecksum;
import io.lifeboat.postgres.ExternalProcess;
import io.lifeboat.postgres.PgBinaries;
import io.lifeboat.postgres.PgConnectionSettings;
import io.lifeboat.postgres.PgSession;
import io.lifeboat.postgres.ScratchCluster;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The torture test of block-level incrementals: a full backup and six incrementals of a real
 * PostgreSQL 15 cluster (wal_log_hints on, autovacuum running) over a workload of everything that
 * trips page-LSN incrementals up: VACUUM FULL, CLUSTER, TRUNCATE, DROP and CREATE of a table with
 * the same name, CREATE DATABASE with both strategies (FILE_COPY copies pages with their old LSNs),
 * DROP DATABASE and a new database in the dropped one's directory (its OID used again, its files
 * copied from template1 with their old LSNs where the parent has the dropped database's), ALTER TABLE and ALTER DATABASE SET TABLESPACE (and back again), large TOASTed
 * values rewritten, an unlogged table, sequences, relation truncation by VACUUM and extension after
 * it, index builds. After each backup (no writes meanwhile) every table's content checksum and
 * pg_dumpall are recorded; then every backup of the chain is restored straight from the repository
 * (pg_verifybackup checks each put-together file's CRC), started, and compared, and amcheck checks
 * every btree index against its table and every heap and its TOAST.
 */
class IncrementalTortureIT {
    private static final int INCREMENTALS = 6;

    @Test
    void everyBackupOfAChainOfSixIncrementalsRestoresToExactlyWhatWasBackedUp() throws Exception {
        try (RestoreScratch w = RestoreScratch.create("torture");
             ScratchCluster pg = ScratchCluster.create(w.work, ScratchCluster.Options.defaults()
                     .withConf("wal_log_hints = on", "autovacuum_naptime = 1s", "shared_buffers = 16MB")).start()) {
            Path ts1 = Files.createDirectory(w.work.resolve("ts1"));
            Path ts2 = Files.createDirectory(w.work.resolve("ts2"));
            ScratchCluster.giveToServerUser(ts1);
            ScratchCluster.giveToServerUser(ts2);
            sql(pg, "postgres", "CREATE TABLESPACE ts1 LOCATION '" + ts1 + "'", "CREATE TABLESPACE ts2 LOCATION '" + ts2 + "'",
                    "CREATE DATABASE torture");
            Map<String, String> spaces = new LinkedHashMap<>();
            try (PgSession s = pg.session("postgres")) {
                for (List<String> r : s.query("SELECT spcname, oid::text FROM pg_tablespace WHERE spcname LIKE 'ts_'")) {
                    spaces.put(r.get(0), r.get(1));
                }
            }
            setUp(pg);
            List<String> common = LocalSourceIT.common(pg, w.repo, "torture");
            List<Recorded> chain = new ArrayList<>();
            chain.add(backup(pg, common, "--full", ts1, ts2));
            for (int step = 1; step <= INCREMENTALS; step++) {
                workload(pg, step);
                chain.add(backup(pg, common, "--incremental", ts1, ts2));
                assertThat(chain.get(step).summary.get("parent")).isEqualTo(chain.get(step - 1).id);
                // Every block the page LSN left to the chain had the chain's bytes (the CRC backstop never fired).
                assertThat(chain.get(step).summary.get("notes")).as("notes of " + chain.get(step).id).isNull();
            }

            int tables = 0;
            int checks = 0;
            for (Recorded b : chain) {
                Path dir = w.dataDirectory("r-" + b.id);
                Path r1 = w.work.resolve("r-" + b.id + "-ts1");
                Path r2 = w.work.resolve("r-" + b.id + "-ts2");
                Map<?, ?> r = IncrementalIT.restore(common, b.id, dir, "--tablespace-map", spaces.get("ts1") + "=" + r1,
                        "--tablespace-map", spaces.get("ts2") + "=" + r2, "--no-sync");
                assertThat((String) r.get("verification")).as(b.id).startsWith("passed (pg_verifybackup 15");
                int port = (Integer) ((Map<?, ?>) r.get("server")).get("port");
                Map<String, Map<String, ContentChecksum.Entry>> now = checksums(port, b.checksums.keySet());
                for (String db : b.checksums.keySet()) {
                    assertThat(ContentChecksum.differences(b.checksums.get(db), now.get(db))).as(b.id + " " + db).isEmpty();
                    tables += b.checksums.get(db).size();
                    checks++;
                }
                String dump = dumpAll(pg, port).replace(r1.toString(), "<ts1>").replace(r2.toString(), "<ts2>");
                if (!dump.equals(b.dump)) {
                    Files.writeString(Path.of("/tmp/lifeboat-torture-expected.sql"), b.dump);
                    Files.writeString(Path.of("/tmp/lifeboat-torture-actual.sql"), dump);
                }
                assertThat(dump).as("pg_dumpall of " + b.id).isEqualTo(b.dump);
                checks++;
                for (String db : b.checksums.keySet()) {
                    checks += amcheck(port, db, b.id);
                }
                RestoreScratch.stop(dir);
                ScratchCluster.deleteTree(dir);
                ScratchCluster.deleteTree(r1);
                ScratchCluster.deleteTree(r2);
            }
            System.out.println("incremental torture test: " + chain.size() + " backups (1 full, " + INCREMENTALS
                    + " incremental) restored, " + tables + " table checksums compared, " + checks + " checks passed");
            for (Recorded b : chain) {
                System.out.println("  " + b.id + ": " + b.summary.get("blocksStored") + " blocks stored, "
                        + b.summary.get("filesStoredWhole") + " files whole, " + b.summary.get("filesStoredInPart")
                        + " in part (" + b.summary.get("filesNotRead") + " of them not read), " + b.summary.get("storedBytes")
                        + " bytes stored");
            }
        }
    }

    private record Recorded(String id, Map<?, ?> summary, Map<String, Map<String, ContentChecksum.Entry>> checksums,
                            String dump) {
    }

    private static void setUp(ScratchCluster pg) {
        // A table in template1: every database created from it has a copy at the same path (relfilenodes are
        // copied), so a database re-created in a reused OID's directory gets back the template's pages, old LSNs
        // and all, where the parent has the pages the dropped database had changed.
        sql(pg, "template1", "CREATE TABLE tmpl (id int PRIMARY KEY, v text)",
                "INSERT INTO tmpl SELECT g, 'template ' || g FROM generate_series(1, 3000) g", "VACUUM tmpl");
        sql(pg, "torture",
                "CREATE TABLE accounts (id int PRIMARY KEY, balance int, note text)",
                "INSERT INTO accounts SELECT g, 0, md5(g::text) FROM generate_series(1, 40000) g",
                "CREATE INDEX accounts_note ON accounts (note)",
                "CREATE TABLE docs (id int PRIMARY KEY, body text)",
                "INSERT INTO docs SELECT g, (SELECT string_agg(md5(g::text || '-' || i::text), '') FROM generate_series(1, 2500) i) "
                        + "FROM generate_series(1, 30) g",
                "CREATE UNLOGGED TABLE scratch (id int, v text)",
                "INSERT INTO scratch SELECT g, repeat('s', 100) FROM generate_series(1, 3000) g",
                "CREATE SEQUENCE seq",
                "SELECT nextval('seq') FROM generate_series(1, 10)",
                "CREATE TABLE victim (id int PRIMARY KEY, v text)",
                "INSERT INTO victim SELECT g, 'first ' || g FROM generate_series(1, 4000) g",
                "CREATE TABLE big (id int, v text)",
                "INSERT INTO big SELECT g, repeat('b', 200) FROM generate_series(1, 20000) g",
                "CREATE TABLE moving (id int PRIMARY KEY, v text)",
                "INSERT INTO moving SELECT g, 'm' || g FROM generate_series(1, 4000) g",
                "CREATE TABLE in_ts (id int, v text) TABLESPACE ts1",
                "INSERT INTO in_ts SELECT g, 't' || g FROM generate_series(1, 4000) g",
                "SELECT count(*) FROM accounts");
    }

    /** One round of changes between two backups. */
    private static void workload(ScratchCluster pg, int step) {
        switch (step) {
            case 1 -> {
                sql(pg, "torture",
                        "UPDATE accounts SET balance = balance + 1 WHERE id % 200 = 0",
                        "INSERT INTO docs SELECT g, (SELECT string_agg(md5(g::text || '+' || i::text), '') FROM "
                                + "generate_series(1, 2500) i) FROM generate_series(31, 35) g",
                        "SELECT nextval('seq') FROM generate_series(1, 5)",
                        "INSERT INTO scratch SELECT g, 'more' FROM generate_series(1, 500) g",
                        "UPDATE in_ts SET v = v || '!' WHERE id <= 100",
                        "SELECT count(*) FROM accounts");
                sql(pg, "postgres", "CREATE DATABASE db_wal STRATEGY WAL_LOG");
                sql(pg, "db_wal", "CREATE TABLE w (id int PRIMARY KEY, v text)",
                        "INSERT INTO w SELECT g, 'wal ' || g FROM generate_series(1, 3000) g",
                        "UPDATE tmpl SET v = 'changed in db_wal ' || id");
            }
            case 2 -> {
                sql(pg, "torture",
                        "VACUUM FULL accounts",
                        "CLUSTER docs USING docs_pkey",
                        "TRUNCATE victim",
                        "DROP TABLE victim",
                        "CREATE TABLE victim (id int PRIMARY KEY, v text)",
                        "INSERT INTO victim SELECT g, 'second ' || g FROM generate_series(1, 3000) g",
                        "ALTER TABLE moving SET TABLESPACE ts1");
                // FILE_COPY copies db_wal's files as they are: their pages keep LSNs from before the parent.
                sql(pg, "postgres", "CREATE DATABASE db_copy TEMPLATE db_wal STRATEGY FILE_COPY");
            }
            case 3 -> {
                sql(pg, "torture",
                        "DELETE FROM big WHERE id > 6000",
                        "VACUUM big", // truncates the relation's tail
                        "INSERT INTO big SELECT g, repeat('x', 250) FROM generate_series(100001, 125000) g", // and extends it
                        "UPDATE docs SET body = reverse(body) WHERE id <= 5");
                sql(pg, "postgres", "ALTER DATABASE db_copy SET TABLESPACE ts2");
            }
            case 4 -> {
                sql(pg, "torture",
                        "ALTER TABLE moving SET TABLESPACE pg_default",
                        "SELECT nextval('seq') FROM generate_series(1, 100)",
                        "TRUNCATE big",
                        "INSERT INTO big SELECT g, repeat('y', 150) FROM generate_series(1, 8000) g");
                // DROP DATABASE, and a database of the same name again, copied file by file from template1 into
                // the same directory: it gets the dropped database's OID (as it can once the OID counter wraps).
                // The parent holds that directory with other files of the same names; template1's pages carry
                // LSNs from before the parent started.
                String oid;
                try (PgSession s = pg.session("postgres")) {
                    oid = s.queryValue("SELECT oid::text FROM pg_database WHERE datname = 'db_wal'").orElseThrow();
                }
                sql(pg, "postgres", "DROP DATABASE db_wal", "CREATE DATABASE db_wal OID = " + oid + " STRATEGY FILE_COPY");
                sql(pg, "db_wal", "CREATE TABLE w (id int PRIMARY KEY, v text)",
                        "INSERT INTO w SELECT g, 'again ' || g FROM generate_series(1, 1000) g");
            }
            case 5 -> {
                // Back to where it was in backup 2: the same path, a new directory of copied files.
                sql(pg, "postgres", "ALTER DATABASE db_copy SET TABLESPACE pg_default");
                sql(pg, "torture",
                        "VACUUM ANALYZE",
                        "CREATE INDEX CONCURRENTLY big_id ON big (id)",
                        "UPDATE accounts SET note = upper(note) WHERE id BETWEEN 1000 AND 1400",
                        "SELECT count(*) FROM accounts");
            }
            case 6 -> {
                sql(pg, "torture",
                        "DELETE FROM accounts WHERE id % 7 = 0",
                        "VACUUM accounts",
                        "INSERT INTO accounts SELECT g, 1, md5(g::text) FROM generate_series(40001, 42000) g",
                        "ALTER TABLE in_ts SET TABLESPACE ts2",
                        "UPDATE docs SET body = body || 'tail' WHERE id % 3 = 0",
                        "DROP TABLE moving",
                        "CREATE TABLE moving (id int PRIMARY KEY, v text) TABLESPACE ts1",
                        "INSERT INTO moving SELECT g, 'third ' || g FROM generate_series(1, 2000) g");
                sql(pg, "db_copy", "UPDATE w SET v = v || '*' WHERE id % 10 = 0");
            }
            default -> throw new IllegalArgumentException("no step " + step);
        }
    }

    private static Recorded backup(ScratchCluster pg, List<String> common, String kind, Path ts1, Path ts2)
            throws Exception {
        Map<?, ?> summary = IncrementalIT.backup(common, kind);
        List<String> databases = new ArrayList<>();
        try (PgSession s = pg.session("postgres")) {
            s.query("SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY 1")
                    .forEach(r -> databases.add(r.get(0)));
        }
        Map<String, Map<String, ContentChecksum.Entry>> checksums = checksums(pg.port(), databases);
        String dump = dumpAll(pg, pg.port()).replace(ts1.toString(), "<ts1>").replace(ts2.toString(), "<ts2>");
        return new Recorded((String) summary.get("id"), summary, checksums, dump);
    }

    /** Every database's content; unlogged tables as a restore has them: empty. */
    private static Map<String, Map<String, ContentChecksum.Entry>> checksums(int port, java.util.Collection<String> dbs) {
        Map<String, Map<String, ContentChecksum.Entry>> out = new LinkedHashMap<>();
        for (String db : dbs) {
            try (PgSession s = PgSession.open(new PgConnectionSettings("127.0.0.1", port, "postgres", db, null, null))) {
                Map<String, ContentChecksum.Entry> c = new LinkedHashMap<>(ContentChecksum.of(s));
                for (List<String> u : s.query("SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN "
                        + "pg_namespace n ON n.oid = c.relnamespace WHERE c.relpersistence = 'u' AND c.relkind = 'r'")) {
                    c.put("table " + u.get(0), new ContentChecksum.Entry(0, "d41d8cd98f00b204e9800998ecf8427e"));
                }
                out.put(db, c);
            }
        }
        return out;
    }

    private static String dumpAll(ScratchCluster pg, int port) {
        PgBinaries.Tool dumpall = new PgBinaries(pg.binDir()).newest("pg_dumpall");
        Map<String, String> env = new PgConnectionSettings("127.0.0.1", port, "postgres", "postgres", null, null)
                .libpqEnvironment();
        // \restrict lines carry a random key of each run (pg_dump's guard against psql meta-commands).
        return new ExternalProcess(List.of(dumpall.path().toString(), "--no-unlogged-table-data"), env)
                .runChecked("pg_dumpall").stdout().replaceAll("(?m)^\\\\(un)?restrict \\S+$", "");
    }

    /** amcheck on every btree index (with its table's tuples) and every heap with its TOAST; returns how many checks. */
    private static int amcheck(int port, String db, String backup) {
        int n = 0;
        try (PgSession s = PgSession.open(new PgConnectionSettings("127.0.0.1", port, "postgres", db, null, null))) {
            s.execute("CREATE EXTENSION IF NOT EXISTS amcheck");
            for (List<String> i : s.query("SELECT c.oid::regclass::text FROM pg_index x JOIN pg_class c ON c.oid = "
                    + "x.indexrelid JOIN pg_am a ON a.oid = c.relam WHERE a.amname = 'btree' AND x.indisvalid "
                    + "AND c.relpersistence = 'p'")) {
                s.queryValue("SELECT bt_index_check(" + PgSession.quoteLiteral(i.get(0)) + "::regclass, true)");
                n++;
            }
            for (List<String> t : s.query("SELECT oid::regclass::text FROM pg_class WHERE relkind IN ('r', 'm') "
                    + "AND relpersistence = 'p'")) {
                List<List<String>> problems = s.query("SELECT blkno, offnum, msg FROM verify_heapam("
                        + PgSession.quoteLiteral(t.get(0)) + "::regclass, check_toast => true)");
                assertThat(problems).as("verify_heapam of " + t.get(0) + " in " + db + " restored from " + backup).isEmpty();
                n++;
            }
        }
        return n;
    }

    private static void sql(ScratchCluster pg, String db, String... statements) {
        try (PgSession s = pg.session(db)) {
            for (String st : statements) {
                s.execute(st);
            }
        }
    }
}
