package io.lifeboat.it;

import io.lifeboat.catalog.Json;
import io.lifeboat.postgres.ContentChecksum;
import io.lifeboat.postgres.PgSession;
import io.lifeboat.postgres.ScratchCluster;
import io.lifeboat.storage.EmbeddedS3Server;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A physical round trip with another major version (the server binaries from the zonky artifact:
 * PostgreSQL 17, while the Debian tools are 15: the backup needs no PostgreSQL client programs at
 * all) through a real S3 server (s3proxy), configured by a lifeboat.yml holding the credentials.
 */
class PhysicalOtherVersionS3IT {
    @Test
    void otherMajorVersionThroughS3() throws Exception {
        Path work = Files.createTempDirectory("lifeboat-phys17-");
        Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path tsDir = Files.createDirectory(work.resolve("ts"));
        ScratchCluster.giveToServerUser(tsDir);
        Path bin = OtherPostgresVersion.binDir();
        try (EmbeddedS3Server s3 = EmbeddedS3Server.start(work.resolve("s3"));
             ScratchCluster pg = ScratchCluster.create(work, ScratchCluster.Options.defaults().withBinDir(bin)).start()) {
            s3.createBucket("backups");
            int major;
            String oid;
            try (PgSession s = pg.session("postgres")) {
                major = s.serverVersion().major();
                s.execute("CREATE TABLESPACE extra LOCATION '" + tsDir + "'");
                s.execute("CREATE TABLE moved (id int, t text) TABLESPACE extra");
                s.execute("INSERT INTO moved SELECT g, repeat(md5(g::text), 3) FROM generate_series(1, 30000) g");
                s.execute("CREATE TABLE numbers AS SELECT g AS n, g * 2 AS m FROM generate_series(1, 200000) g");
                oid = s.queryValue("SELECT oid::text FROM pg_tablespace WHERE spcname = 'extra'").orElseThrow();
            }
            assertThat(major).isNotEqualTo(15);
            Map<String, ContentChecksum.Entry> before;
            try (PgSession s = pg.session("postgres")) {
                before = ContentChecksum.of(s);
            }
            Path cfg = work.resolve("lifeboat.yml");
            Files.writeString(cfg, """
                    clusters:
                      v%d:
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
                    """.formatted(major, pg.port(), s3.endpoint(), s3.accessKey(), s3.secretKey()));

            Cli.Result b = Cli.run("backup", "--config", cfg.toString(), "--json", "--type", "physical", "--include-wal");
            assertThat(b.exit()).as(b.toString()).isZero();
            assertThat(b.out() + b.err()).doesNotContain(s3.secretKey());
            Map<?, ?> summary = Json.MAPPER.readValue(b.out(), Map.class);
            String id = (String) summary.get("id");
            assertThat(((Number) summary.get("pgVersionNum")).intValue() / 10000).isEqualTo(major);
            try (Stream<Path> files = Files.walk(work.resolve("s3/backups"))) {
                assertThat(files.map(Path::toString).filter(p -> p.contains("physical/v" + major + "/backups/" + id)
                        && p.endsWith(".zst"))).isNotEmpty();
            }

            pg.stop("immediate");
            ScratchCluster.deleteTree(pg.dataDir());
            ScratchCluster.deleteTree(tsDir);
            Cli.Result r = Cli.run("restore", "--config", cfg.toString(), "--json", "--backup", id, "--data-directory",
                    pg.dataDir().toString(), "--bin-dir", bin.toString(), "--start");
            assertThat(r.exit()).as(r.toString()).isZero();
            Map<?, ?> restored = Json.MAPPER.readValue(r.out(), Map.class);
            // pg_verifybackup of that version is not installed here; Lifeboat checks the files itself and says so.
            assertThat((String) restored.get("verification")).startsWith("passed (Lifeboat's own check: ")
                    .contains("no pg_verifybackup " + major);
            assertThat(((Map<?, ?>) restored.get("server")).get("state")).isEqualTo("in production");
            assertThat(Files.readSymbolicLink(pg.dataDir().resolve("pg_tblspc/" + oid))).isEqualTo(tsDir);
            try (PgSession s = pg.session("postgres")) {
                assertThat(s.serverVersion().major()).isEqualTo(major);
                assertThat(ContentChecksum.differences(before, ContentChecksum.of(s))).isEmpty();
            }
            pg.stop("immediate");
        } finally {
            ScratchCluster.deleteTree(work);
        }
    }
}
