package io.lifeboat.it;

import io.lifeboat.ErrorKind;
import io.lifeboat.catalog.Json;
import io.lifeboat.postgres.ContentChecksum;
import io.lifeboat.postgres.PgSession;
import io.lifeboat.postgres.ScratchCluster;
import io.lifeboat.storage.TestSshServer;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** A logical backup and WAL through an SFTP repository on a real SSH server, driven by lifeboat.yml. */
class SftpRepositoryIT {
    @Test
    void backupRestoreAndWalThroughSftp() throws Exception {
        Path work = Files.createTempDirectory("lifeboat-sftpit-");
        try (TestSshServer ssh = TestSshServer.start(work);
             ScratchCluster pg = ScratchCluster.create(null, ScratchCluster.Options.defaults()).start()) {
            Files.createDirectories(ssh.root().resolve("backups"));
            try (PgSession s = pg.session("postgres")) {
                s.execute("CREATE DATABASE app");
            }
            try (PgSession s = pg.session("app")) {
                s.execute("CREATE TABLE t (id int PRIMARY KEY, v text, b bytea)");
                s.execute("INSERT INTO t SELECT g, 'zeile ' || g || ' äöü', decode(md5(g::text), 'hex') FROM generate_series(1, 20000) g");
            }
            Map<String, ContentChecksum.Entry> before;
            try (PgSession s = pg.session("app")) {
                before = ContentChecksum.of(s);
            }
            String repo = """
                    clusters:
                      main:
                        postgres: {host: 127.0.0.1, port: %d, user: postgres}
                        repositories:
                          - name: offsite
                            uri: %s
                            identity-file: %s
                            known-hosts: %s
                            allow-same-server: %s
                    """;
            Path guarded = Files.writeString(work.resolve("guarded.yml"), repo.formatted(pg.port(), ssh.uri("backups"),
                    ssh.identity(), ssh.knownHosts(), false));
            Cli.Result refused = Cli.run("backup", "--config", guarded.toString(), "--type", "logical", "--database", "app");
            assertThat(refused.exit()).as(refused.toString()).isEqualTo(ErrorKind.SAME_SERVER.exitCode());
            assertThat(refused.err()).contains("'offsite'", "sftp://");

            Path cfg = Files.writeString(work.resolve("lifeboat.yml"), repo.formatted(pg.port(), ssh.uri("backups"),
                    ssh.identity(), ssh.knownHosts(), true));
            Cli.Result b = Cli.run("backup", "--config", cfg.toString(), "--json", "--type", "logical", "--database", "app");
            assertThat(b.exit()).as(b.toString()).isZero();
            String id = (String) Json.MAPPER.readValue(b.out(), Map.class).get("id");
            assertThat(ssh.root().resolve("backups/main/backups/" + id + "/manifest.json")).exists();
            try (var files = Files.walk(ssh.root())) {
                assertThat(files.map(Path::toString).filter(p -> p.contains(".lifeboat-tmp-")).toList()).isEmpty();
            }

            Cli.Result list = Cli.run("list", "--config", cfg.toString());
            assertThat(list.exit()).as(list.toString()).isZero();
            assertThat(list.out()).contains(id);
            Cli.Result r = Cli.run("restore", "--config", cfg.toString(), "--backup", id, "--target-database", "app2");
            assertThat(r.exit()).as(r.toString()).isZero();
            try (PgSession s = pg.session("app2")) {
                assertThat(ContentChecksum.differences(before, ContentChecksum.of(s))).isEmpty();
            }

            // WAL: push, the same again (already archived), fetch back
            Path pgWal = Files.createDirectories(work.resolve("data/pg_wal/archive_status"));
            byte[] seg = new byte[16 * 1024 * 1024];
            new Random(1).nextBytes(seg);
            // this cluster's WAL, as its page header says (cluster.json names its system since the backup)
            try (PgSession s = pg.session("postgres")) {
                io.lifeboat.postgres.TestWal.withHeader(seg, "000000010000000000000003", s.systemIdentifier().orElseThrow());
            }
            Path f = Files.write(pgWal.getParent().resolve("000000010000000000000003"), seg);
            assertThat(Cli.run("wal-push", "--config", cfg.toString(), f.toString()).exit()).isZero();
            assertThat(Cli.run("wal-push", "--config", cfg.toString(), f.toString()).exit()).isZero();
            Path back = work.resolve("data/back");
            Cli.Result fetch = Cli.run("wal-fetch", "--config", cfg.toString(), "000000010000000000000003", back.toString());
            assertThat(fetch.exit()).as(fetch.toString()).isZero();
            assertThat(Files.readAllBytes(back)).isEqualTo(seg);
            assertThat(Cli.run("wal-fetch", "--config", cfg.toString(), "000000010000000000000004",
                    work.resolve("data/none").toString()).exit()).isEqualTo(44); // end of the archive (bin/lifeboat: 1)
        } finally {
            ScratchCluster.deleteTree(work);
        }
    }
}
