package io.lifeboat.it;

import io.lifeboat.postgres.PgSession;
import io.lifeboat.postgres.ScratchCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
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
            Path config = twoRepositories(pg, repo, b, other.resolve("lifeboat.yml"));
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

    /**
     * A flipped byte and a truncation in archived segments that recovery needs: verify reads the
     * archive, names both segments as corrupt, and says up to where point-in-time recovery still goes.
     */
    @Test
    void damagedArchivedWalIsFoundAndEndsPointInTimeRecovery() throws Exception {
        Path work = Files.createTempDirectory("lifeboat-verify-wal-");
        Files.setPosixFilePermissions(work, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        Path walRepo = Files.createDirectory(work.resolve("repo"));
        Files.createDirectories(walRepo.resolve("vw/wal"));
        ScratchCluster.giveToServerUser(walRepo);
        ScratchCluster pg = ScratchCluster.create(work, ScratchCluster.Options.defaults());
        String[] c = {"--repo", "file://" + walRepo, "--cluster", "vw", "--allow-same-server", "--pg-host", "127.0.0.1",
                "--pg-port", Integer.toString(pg.port()), "--pg-user", "postgres"};
        pg.appendConf("archive_mode = on", "archive_command = '" + LauncherProperty.LAUNCHER + " wal-push "
                + String.join(" ", c) + " %p'");
        try (LauncherProperty p = LauncherProperty.set()) {
            pg.start();
            try (PgSession s = pg.session("postgres")) {
                s.execute("CREATE TABLE t (i int, pad text)");
                s.execute("INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 10000) g");
            }
            Cli.Result b = Cli.run(KilledBackupIT.concat("backup", c, "--type", "physical"));
            assertThat(b.exit()).as(b.toString()).isZero();
            String id = b.out().strip();
            List<String> after = new java.util.ArrayList<>();
            try (PgSession s = pg.session("postgres")) {
                for (int i = 0; i < 4; i++) {
                    s.execute("INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 20000) g");
                    after.add(Archiving.switchAndAwait(s));
                }
            }
            Cli.Result clean = Cli.run(KilledBackupIT.concat("verify", c));
            assertThat(clean.exit()).as(clean.toString()).isZero();
            assertThat(clean.out()).containsPattern("ok +archived WAL: \\d+ copies read and checked");

            Path flipped = archived(walRepo, after.get(1));
            byte[] bytes = Files.readAllBytes(flipped);
            bytes[bytes.length / 2] ^= 0x20;
            Files.write(flipped, bytes);
            Path cut = archived(walRepo, after.get(3));
            Files.write(cut, java.util.Arrays.copyOf(Files.readAllBytes(cut), (int) Files.size(cut) - 100));

            Cli.Result v = Cli.run(KilledBackupIT.concat("verify", c));
            assertThat(v.exit()).as(v.toString()).isEqualTo(8);
            String firstBad = io.lifeboat.postgres.WalSegmentName.parse(after.get(1)).startLsn().toString();
            assertThat(v.out()).contains("archived WAL " + after.get(1) + " is corrupt")
                    .contains("archived WAL " + after.get(3) + " is corrupt")
                    .contains("corrupt " + after.get(1) + " (1 segment) after backup " + id)
                    .contains("point-in-time recovery from " + id + " ends at " + firstBad);
            assertThat(v.err()).contains("can be recovered up to " + firstBad);

            Cli.Result j = Cli.run(KilledBackupIT.concat("verify", c, "--json"));
            Map<?, ?> doc = io.lifeboat.catalog.Json.MAPPER.readValue(j.out(), Map.class);
            Map<?, ?> repoDoc = (Map<?, ?>) ((List<?>) doc.get("repositories")).get(0);
            List<?> bad = (List<?>) ((Map<?, ?>) repoDoc.get("walCheck")).get("bad");
            assertThat(bad).extracting(x -> ((Map<?, ?>) x).get("name") + " " + ((Map<?, ?>) x).get("verdict"))
                    .containsExactly(after.get(1) + " corrupt", after.get(3) + " corrupt");
            Map<?, ?> wal = (Map<?, ?>) ((Map<?, ?>) ((List<?>) repoDoc.get("backups")).get(0)).get("wal");
            assertThat(wal.get("recoverableTo")).isEqualTo(firstBad);
            // A sample may miss them; it says it is one.
            Cli.Result sample = Cli.run(KilledBackupIT.concat("verify", c, "--wal-sample", "1"));
            assertThat(sample.out()).contains("1 of ").contains("(a random sample)");
        } finally {
            pg.close();
            ScratchCluster.deleteTree(work);
        }
    }

    private static Path archived(Path repo, String segment) throws IOException {
        try (Stream<Path> s = Files.walk(repo)) {
            return s.filter(p -> p.getFileName().toString().startsWith(segment + ".sha256-")).findFirst().orElseThrow();
        }
    }

    @Test
    void aLostManifestIsAProblemInOneRepositoryAndInSeveral(@TempDir Path other) throws Exception {
        try (ScratchCluster pg = ScratchCluster.create(null, ScratchCluster.Options.defaults()).start()) {
            Path b = Files.createDirectory(other.resolve("b"));
            Path config = twoRepositories(pg, repo, b, other.resolve("lifeboat.yml"));
            Cli.Result backup = Cli.run("backup", "--config", config.toString(), "--type", "logical", "--database", "postgres");
            assertThat(backup.exit()).as(backup.toString()).isZero();
            String id = backup.out().strip();
            Files.delete(b.resolve("v/backups/" + id + "/manifest.json"));
            Cli.Result v = Cli.run("verify", "--config", config.toString());
            assertThat(v.exit()).as(v.toString()).isEqualTo(8);
            assertThat(v.out()).contains("backup " + id + " has no manifest here (unfinished) but is complete in repository 'a'");
            assertThat(v.err()).contains("repository 'b'");

            // One repository: the backup is unfinished; older than the grace time it is a problem, not a quiet "ok".
            Files.delete(repo.resolve("v/backups/" + id + "/manifest.json"));
            String[] only = {"--repo", "file://" + repo, "--cluster", "v", "--allow-same-server"};
            Cli.Result young = Cli.run(KilledBackupIT.concat("verify", only));
            assertThat(young.exit()).as(young.toString()).isZero();
            assertThat(young.out()).contains("note: backup " + id + " is unfinished");
            try (Stream<Path> s = Files.walk(repo.resolve("v/backups/" + id))) {
                for (Path f : s.toList()) {
                    Files.setLastModifiedTime(f, java.nio.file.attribute.FileTime.from(
                            java.time.Instant.now().minus(java.time.Duration.ofDays(2))));
                }
            }
            Cli.Result old = Cli.run(KilledBackupIT.concat("verify", only));
            assertThat(old.exit()).as(old.toString()).isEqualTo(8);
            assertThat(old.out()).contains("backup " + id + " is unfinished").contains("beyond the unfinished-grace of 1d");
        }
    }

    /** A configuration of cluster v on this server with two file repositories, 'a' and 'b'. */
    static Path twoRepositories(ScratchCluster pg, Path a, Path b, Path file) throws IOException {
        return Files.writeString(file, """
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
                """.formatted(pg.port(), a, b));
    }
}
