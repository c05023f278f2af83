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
            Cli.Result verify = Cli.run("verify", "--config", cfg);
            assertThat(verify.exit()).as(verify.toString()).isZero();

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
        Path cfg = work.resolve("lifeboat.yml");
        Files.writeString(cfg, """
                clusters:
                  v17:
                    postgres:
                      host: 127.0.0.1
                      port: %d
                      user: postgres
                    repositories:
                      - name: s3
                        uri: s3://backups/physical?endpoint=%s&region=us-east-1&path-style=true
                        access-key-id: %s
                        secret-access-key: %s
                        part-size-mib: 5
                        allow-same-server: true
                """.formatted(port, s3.endpoint(), s3.accessKey(), s3.secretKey()));
        return cfg;
    }
}
