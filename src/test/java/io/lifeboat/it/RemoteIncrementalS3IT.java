package io.lifeboat.it;

import io.lifeboat.catalog.Json;
import io.lifeboat.postgres.ContentChecksum;
import io.lifeboat.postgres.PgConnectionSettings;
import io.lifeboat.postgres.PgSession;
import io.lifeboat.postgres.ScratchCluster;
import io.lifeboat.postgres.ServerControl;
import io.lifeboat.storage.EmbeddedS3Server;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * PostgreSQL 17's own incremental backups over the replication protocol (UPLOAD_MANIFEST +
 * BASE_BACKUP INCREMENTAL, summarize_wal = on), on a real PostgreSQL 17 cluster (the zonky server
 * binaries) through a real S3 server (s3proxy): a full backup and two incrementals with a
 * truncated, a dropped, a new table and large TOASTed values changed between them; the newest and
 * the middle backup restored straight from the repository, started, and compared table by table.
 */
class RemoteIncrementalS3IT {
    @Test
    void aChainOfServerIncrementalsRestoresItsNewestAndMiddleBackups() throws Exception {
        Path work = Files.createTempDirectory("lifeboat-rincr-");
        Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path bin = OtherPostgresVersion.binDir();
        List<Path> restored = new ArrayList<>();
        try (EmbeddedS3Server s3 = EmbeddedS3Server.start(work.resolve("s3"));
             ScratchCluster pg = ScratchCluster.create(work, ScratchCluster.Options.defaults().withBinDir(bin)
                     .withConf("summarize_wal = on")).start()) {
            s3.createBucket("backups");
            String cfg = config(work, pg.port(), s3).toString();
            try (PgSession s = pg.session("postgres")) {
                s.execute("CREATE TABLE kept (id int PRIMARY KEY, v text)");
                s.execute("INSERT INTO kept SELECT g, md5(g::text) FROM generate_series(1, 20000) g");
                s.execute("CREATE TABLE emptied AS SELECT g AS id FROM generate_series(1, 10000) g");
                s.execute("CREATE TABLE dropped AS SELECT g AS id FROM generate_series(1, 5000) g");
                s.execute("CREATE TABLE toasted (id int, big text)");
                s.execute("INSERT INTO toasted SELECT 1, string_agg(md5(random()::text), '') FROM generate_series(1, 30000)");
                s.execute("CHECKPOINT");
            }
            Map<String, Map<String, ContentChecksum.Entry>> content = new LinkedHashMap<>();
            Map<?, ?> full = backup(cfg);
            assertThat(full.get("source")).isEqualTo("remote");
            assertThat(full.get("incremental")).isEqualTo(false);
            content.put((String) full.get("id"), checksums(pg));

            try (PgSession s = pg.session("postgres")) {
                s.execute("UPDATE kept SET v = 'changed' WHERE id <= 100");
                s.execute("TRUNCATE emptied");
                s.execute("INSERT INTO emptied VALUES (1), (2)");
                s.execute("DROP TABLE dropped");
                s.execute("CREATE TABLE fresh AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 3000) g");
                s.execute("INSERT INTO toasted SELECT 2, string_agg(md5(random()::text), '') FROM generate_series(1, 30000)");
            }
            Map<?, ?> first = backup(cfg, "--incremental");
            assertThat(first.get("incremental")).as(first.toString()).isEqualTo(true);
            assertThat(first.get("parent")).isEqualTo(full.get("id"));
            assertThat(((Number) first.get("filesStoredInPart")).longValue()).isPositive();
            assertThat(((Number) first.get("storedBytes")).longValue()).as("stored by the incremental")
                    .isLessThan(((Number) full.get("storedBytes")).longValue() / 2);
            content.put((String) first.get("id"), checksums(pg));

            try (PgSession s = pg.session("postgres")) {
                s.execute("DELETE FROM kept WHERE id > 15000");
                s.execute("VACUUM kept"); // truncates its file
                s.execute("UPDATE kept SET v = 'again' WHERE id % 500 = 0");
                s.execute("INSERT INTO fresh SELECT g, md5(g::text) FROM generate_series(3001, 9000) g"); // extends it
                s.execute("UPDATE toasted SET big = big || 'x' WHERE id = 1");
            }
            Map<?, ?> second = backup(cfg, "--incremental");
            assertThat(second.get("parent")).isEqualTo(first.get("id"));
            assertThat((List<Object>) second.get("chain")).containsExactly(full.get("id"), first.get("id"));
            content.put((String) second.get("id"), checksums(pg));

            Cli.Result list = Cli.run("list", "--config", cfg);
            assertThat(list.out()).as(list.toString()).contains("incremental of " + first.get("id"));
            Cli.Result expire = Cli.run("expire", "--config", cfg, "--keep-physical", "1", "--dry-run", "--json");
            assertThat(expire.exit()).as(expire.toString()).isZero();
            List<?> decisions = (List<?>) Json.MAPPER.readValue(expire.out(), Map.class).get("backups");
            assertThat(decisions).allSatisfy(d -> assertThat(((Map<?, ?>) d).get("keep")).isEqualTo(true));
            assertThat(decisions.toString()).contains("in the chain of " + second.get("id"));
            Cli.Result verify = Cli.run("verify", "--config", cfg, "--json", "--backup", (String) second.get("id"));
            assertThat(verify.exit()).as(verify.toString()).isZero();
            List<?> checked = (List<?>) ((Map<?, ?>) ((List<?>) Json.MAPPER.readValue(verify.out(), Map.class)
                    .get("repositories")).get(0)).get("backups");
            assertThat(checked.stream().map(b -> (Object) ((Map<?, ?>) b).get("id")).toList())
                    .containsExactly(full.get("id"), first.get("id"), second.get("id"));

            pg.stop("fast");
            for (String id : List.of((String) second.get("id"), (String) first.get("id"))) {
                Path dir = work.resolve("restored-" + id);
                restored.add(dir);
                Cli.Result r = Cli.run("restore", "--config", cfg, "--json", "--backup", id, "--data-directory",
                        dir.toString(), "--bin-dir", bin.toString(), "--start", "--port",
                        Integer.toString(ScratchCluster.freePort()));
                assertThat(r.exit()).as(r.toString()).isZero();
                Map<?, ?> res = Json.MAPPER.readValue(r.out(), Map.class);
                Map<?, ?> server = (Map<?, ?>) res.get("server");
                assertThat(server.get("state")).isEqualTo("in production");
                // No pg_verifybackup 17 here: the chain's backup_manifest (sizes, CRC-32C of the put-together files).
                assertThat((String) res.get("verification")).startsWith("passed (Lifeboat's own check: ");
                try (PgSession s = PgSession.open(new PgConnectionSettings("127.0.0.1", (Integer) server.get("port"),
                        "postgres", "postgres", null, null))) {
                    assertThat(ContentChecksum.differences(content.get(id), ContentChecksum.of(s))).as(id).isEmpty();
                    assertThat(s.queryValue("SELECT to_regclass('dropped')::text")).isEmpty();
                }
                new ServerControl(bin, dir, ScratchCluster.OS_USER).stop("fast");
            }
        } finally {
            for (Path d : restored) {
                if (Files.exists(d.resolve("postmaster.pid"))) {
                    new ServerControl(bin, d, ScratchCluster.OS_USER).stop("immediate");
                }
            }
            ScratchCluster.deleteTree(work);
        }
    }

    @Test
    void summarizeWalOffDamagedParentsAndLostSummariesAreNamedOrGetAFullBackup() throws Exception {
        Path work = Files.createTempDirectory("lifeboat-rincr-bad-");
        Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path bin = OtherPostgresVersion.binDir();
        try (EmbeddedS3Server s3 = EmbeddedS3Server.start(work.resolve("s3"));
             ScratchCluster pg = ScratchCluster.create(work, ScratchCluster.Options.defaults().withBinDir(bin)).start()) {
            s3.createBucket("backups");
            String cfg = config(work, pg.port(), s3, "    full-every: 3\n").toString();
            try (PgSession s = pg.session("postgres")) {
                s.execute("CREATE TABLE t AS SELECT g AS id FROM generate_series(1, 5000) g");
            }
            backup(cfg, "--full");
            Cli.Result off = Cli.run("backup", "--config", cfg, "--type", "physical", "--include-wal", "--incremental");
            assertThat(off.exit()).as(off.toString()).isNotZero();
            assertThat(off.err()).contains("summarize_wal = off").contains("ALTER SYSTEM SET summarize_wal = on");
            Cli.Result check = Cli.run("check", "--config", cfg, "--archive-timeout", "1");
            assertThat(check.out()).as(check.toString()).containsPattern("FAIL +summarize_wal")
                    .contains("ALTER SYSTEM SET summarize_wal = on");

            try (PgSession s = pg.session("postgres")) {
                s.execute("ALTER SYSTEM SET summarize_wal = on");
                s.execute("SELECT pg_reload_conf()");
            }
            Map<?, ?> full = backup(cfg, "--full");
            check = Cli.run("check", "--config", cfg, "--archive-timeout", "1");
            assertThat(check.out()).as(check.toString()).containsPattern("ok +summarize_wal");

            // A damaged parent is refused, naming it; nothing is stored.
            Path index;
            try (var files = Files.walk(work.resolve("s3/backups"))) {
                index = files.filter(p -> p.toString().contains((String) full.get("id")) && p.getFileName().toString()
                        .startsWith("file-index.json")).findFirst().orElseThrow();
            }
            byte[] good = Files.readAllBytes(index);
            byte[] bad = good.clone();
            bad[bad.length / 2] ^= 0x5a;
            Files.write(index, bad);
            Cli.Result damaged = Cli.run("backup", "--config", cfg, "--type", "physical", "--include-wal", "--incremental");
            assertThat(damaged.exit()).as(damaged.toString()).isNotZero();
            assertThat(damaged.err()).contains((String) full.get("id"));
            Files.write(index, good);

            // The WAL summaries since the parent are gone: the server says so, and the backup is a full one, loudly.
            try (PgSession s = pg.session("postgres")) {
                s.execute("INSERT INTO t SELECT g FROM generate_series(1, 1000) g");
                // Delete only once the summarizer has summarized WAL past the parent (here: up to the segment switch):
                // on a fast machine it may otherwise write those summaries after the deletion, and the server then
                // has all it needs.
                String upTo = s.queryValue("SELECT pg_switch_wal()::text").orElseThrow();
                s.execute("CHECKPOINT");
                long deadline = System.nanoTime() + 60_000_000_000L;
                while (!s.queryValue("SELECT (summarized_lsn >= '" + upTo + "'::pg_lsn)::text FROM pg_get_wal_summarizer_state()")
                        .orElseThrow().equals("true")) {
                    assertThat(System.nanoTime()).as("the WAL summarizer reaches " + upTo + ": "
                            + s.queryValue("SELECT row(s.*)::text FROM pg_get_wal_summarizer_state() s").orElse("?"))
                            .isLessThan(deadline);
                    Thread.sleep(100);
                }
            }
            try (var files = Files.list(pg.dataDir().resolve("pg_wal/summaries"))) {
                for (Path p : files.toList()) {
                    Files.delete(p);
                }
            }
            try (PgSession s = pg.session("postgres")) {
                s.execute("INSERT INTO t SELECT g FROM generate_series(1, 1000) g");
            }
            Cli.Result lost = Cli.run("backup", "--config", cfg, "--json", "--type", "physical", "--include-wal",
                    "--incremental");
            assertThat(lost.exit()).as(lost.toString()).isZero();
            assertThat(lost.err()).contains("WAL summaries are required").contains("TAKING A FULL BACKUP INSTEAD");
            Map<?, ?> fallback = Json.MAPPER.readValue(lost.out(), Map.class);
            assertThat(fallback.get("incremental")).isEqualTo(false);

            // full-every (a number of incrementals) takes incrementals of it from now on.
            try (PgSession s = pg.session("postgres")) {
                s.execute("UPDATE t SET id = -id WHERE id < 10");
            }
            Map<?, ?> next = backup(cfg);
            assertThat(next.get("incremental")).isEqualTo(true);
            assertThat(next.get("parent")).isEqualTo(fallback.get("id"));
        } finally {
            ScratchCluster.deleteTree(work);
        }
    }

    @Test
    void beforePostgres17AnIncrementalOverTheReplicationProtocolPointsToSourceLocal() throws Exception {
        Path work = Files.createTempDirectory("lifeboat-rincr-15-");
        Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxr-xr-x"));
        try (EmbeddedS3Server s3 = EmbeddedS3Server.start(work.resolve("s3"));
             ScratchCluster pg = ScratchCluster.create(work, ScratchCluster.Options.defaults()).start()) {
            s3.createBucket("backups");
            String cfg = config(work, pg.port(), s3).toString();
            Cli.Result r = Cli.run("backup", "--config", cfg, "--type", "physical", "--include-wal", "--incremental");
            assertThat(r.exit()).as(r.toString()).isNotZero();
            assertThat(r.err()).contains("PostgreSQL 17 or newer").contains("--source local");
        } finally {
            ScratchCluster.deleteTree(work);
        }
    }

    private static Map<String, ContentChecksum.Entry> checksums(ScratchCluster pg) {
        try (PgSession s = pg.session("postgres")) {
            return ContentChecksum.of(s);
        }
    }

    static Map<?, ?> backup(String cfg, String... more) throws Exception {
        List<String> a = new ArrayList<>(List.of("backup", "--config", cfg, "--json", "--type", "physical", "--include-wal"));
        a.addAll(List.of(more));
        Cli.Result b = Cli.run(a.toArray(String[]::new));
        assertThat(b.exit()).as(b.toString()).isZero();
        return Json.MAPPER.readValue(b.out(), Map.class);
    }

    static Path config(Path work, int port, EmbeddedS3Server s3) throws Exception {
        return config(work, port, s3, "");
    }

    /** @param more lines added to the cluster's section (indented by four spaces) */
    static Path config(Path work, int port, EmbeddedS3Server s3, String more) throws Exception {
        Path cfg = work.resolve("lifeboat.yml");
        Files.writeString(cfg, """
                clusters:
                  v17:
                    postgres:
                      host: 127.0.0.1
                      port: %d
                      user: postgres
                      bin-dir: %s
                    repositories:
                      - name: s3
                        uri: s3://backups/physical?endpoint=%s&region=us-east-1&path-style=true
                        access-key-id: %s
                        secret-access-key: %s
                        part-size-mib: 5
                        allow-same-server: true
                """.formatted(port, OtherPostgresVersion.binDir(), s3.endpoint(), s3.accessKey(), s3.secretKey()) + more);
        return cfg;
    }
}
