package io.lifeboat.it;

import io.lifeboat.postgres.PgSession;
import io.lifeboat.postgres.ScratchCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** verify checks every object; --restore-test proves a backup restorable and `list` shows it. */
class VerifyIT {
    @TempDir
    Path repo;

    @Test
    void checksumsAndRestoreDrill() throws Exception {
        try (ScratchCluster pg = ScratchCluster.create(null, ScratchCluster.Options.defaults()).start()) {
            try (PgSession s = pg.session("postgres")) {
                s.execute("CREATE DATABASE shop");
                s.execute("CREATE ROLE shop_owner");
            }
            try (InputStream in = getClass().getClassLoader().getResourceAsStream("io/lifeboat/demo/shop.sql");
                 PgSession s = pg.session("shop")) {
                s.execute(new String(in.readAllBytes(), StandardCharsets.UTF_8));
                s.execute("ALTER TABLE orders OWNER TO shop_owner");
            }
            String[] c = {"--pg-host", "127.0.0.1", "--pg-port", Integer.toString(pg.port()), "--pg-user", "postgres",
                    "--repo", "file://" + repo, "--cluster", "v", "--allow-same-server"};
            Cli.Result b = Cli.run(KilledBackupIT.concat("backup", c, "--type", "logical", "--database", "shop"));
            assertThat(b.exit()).as(b.toString()).isZero();
            String id = b.out().strip();

            Cli.Result v = Cli.run(KilledBackupIT.concat("verify", c, "--restore-test"));
            assertThat(v.exit()).as(v.toString()).isZero();
            assertThat(v.out()).contains("ok      " + id).contains("proven restorable: " + id).contains("amcheck shop");
            assertThat(Cli.run(KilledBackupIT.concat("list", c)).out()).contains("proven restorable at");

            Path victim;
            try (Stream<Path> s = Files.walk(repo)) {
                victim = s.filter(p -> p.toString().contains(id) && p.toString().endsWith("toc.dat.zst")).findFirst().orElseThrow();
            }
            byte[] bytes = Files.readAllBytes(victim);
            bytes[bytes.length - 5] ^= 0x40;
            Files.write(victim, bytes);
            Cli.Result bad = Cli.run(KilledBackupIT.concat("verify", c));
            assertThat(bad.exit()).as(bad.toString()).isEqualTo(8);
            assertThat(bad.out()).contains("DAMAGED " + id).contains("toc.dat.zst");
        }
    }

    @Test
    void aRepositoryThatIsDownIsAStorageProblemNotDamage(@TempDir Path other) throws Exception {
        try (ScratchCluster pg = ScratchCluster.create(null, ScratchCluster.Options.defaults()).start()) {
            try (PgSession s = pg.session("postgres")) {
                s.execute("CREATE TABLE t AS SELECT g AS id FROM generate_series(1, 1000) g");
            }
            Path b = Files.createDirectory(other.resolve("b"));
            Path config = other.resolve("lifeboat.yml");
            Files.writeString(config, """
                    clusters:
                      v:
                        postgres:
                          host: 127.0.0.1
                          port: %d
                          user: postgres
                        repositories:
                          - name: a
                            uri: file://%s
                            allow-same-server: true
                          - name: b
                            uri: file://%s
                            allow-same-server: true
                    """.formatted(pg.port(), repo, b));
            Cli.Result backup = Cli.run("backup", "--config", config.toString(), "--type", "logical", "--database", "postgres");
            assertThat(backup.exit()).as(backup.toString()).isZero();
            String id = backup.out().strip();
            assertThat(Cli.run("verify", "--config", config.toString()).exit()).isZero();

            ScratchCluster.deleteTree(b); // the mount went away
            Cli.Result v = Cli.run("verify", "--config", config.toString());
            assertThat(v.exit()).as(v.toString()).isEqualTo(6);
            assertThat(v.out()).contains("ok      " + id);
            assertThat(v.out() + v.err()).contains("repository 'b'").contains("bring repository 'b'");
        }
    }

    @Test
    void aLogicalDrillThatFailsLeavesNoScratchDirectory(@TempDir Path scratch) throws Exception {
        // A scratch directory the server's OS user cannot enter: the scratch cluster's initdb (as root) or start fails.
        java.nio.file.Files.setPosixFilePermissions(scratch, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        org.junit.jupiter.api.Assumptions.assumeTrue(io.lifeboat.postgres.ExternalProcess.runningAsRoot(),
                "as root the server runs as another user, who cannot use this directory");
        try (ScratchCluster pg = ScratchCluster.create(null, ScratchCluster.Options.defaults()).start()) {
            try (PgSession s = pg.session("postgres")) {
                s.execute("CREATE TABLE t AS SELECT g AS id FROM generate_series(1, 100) g");
            }
            String[] c = {"--pg-host", "127.0.0.1", "--pg-port", Integer.toString(pg.port()), "--pg-user", "postgres",
                    "--repo", "file://" + repo, "--cluster", "v", "--allow-same-server"};
            Cli.Result b = Cli.run(KilledBackupIT.concat("backup", c, "--type", "logical", "--database", "postgres"));
            assertThat(b.exit()).as(b.toString()).isZero();
            Cli.Result v = Cli.run(KilledBackupIT.concat("verify", c, "--restore-test", "--scratch-directory",
                    scratch.toString()));
            assertThat(v.exit()).as(v.toString()).isNotZero();
            try (Stream<Path> left = Files.list(scratch)) {
                assertThat(left).as("the failed drill's scratch directory is removed").isEmpty();
            }
        }
    }
}
