package io.lifeboat.it;

import io.lifeboat.codec.Digest;
import io.lifeboat.postgres.PgSession;
import io.lifeboat.postgres.ScratchCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** archive_command = lifeboat wal-push on a real cluster; wal-fetch; check; conflicts and outages. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WalArchivingIT {
    ScratchCluster pg;
    Path repo;
    String[] common;

    @BeforeAll
    void start() throws Exception {
        repo = Files.createTempDirectory("lifeboat-wal-repo-");
        ScratchCluster.giveToServerUser(repo);
        pg = ScratchCluster.create(null, ScratchCluster.Options.defaults());
        Path launcher = Path.of("bin", "lifeboat").toAbsolutePath();
        common = new String[] {"--repo", "file://" + repo, "--cluster", "w", "--allow-same-server", "--pg-host", "127.0.0.1",
                "--pg-port", Integer.toString(pg.port()), "--pg-user", "postgres"};
        pg.appendConf("archive_mode = on", "archive_command = '" + launcher + " wal-push " + String.join(" ", common) + " %p'");
        pg.start();
        try (PgSession s = pg.session("postgres")) {
            s.execute("CREATE TABLE t (i int, pad text)");
            for (int i = 0; i < 4; i++) {
                s.execute("INSERT INTO t SELECT g, repeat('x', 200) FROM generate_series(1, 20000) g");
                s.queryValue("SELECT pg_switch_wal()");
            }
            long deadline = System.nanoTime() + 90_000_000_000L;
            while (System.nanoTime() < deadline && Long.parseLong(s.queryValue("SELECT archived_count FROM pg_stat_archiver")
                    .orElse("0")) < 4) {
                Thread.sleep(200);
            }
        }
    }

    @AfterAll
    void stop() {
        if (pg != null) {
            pg.close();
        }
        ScratchCluster.deleteTree(repo);
    }

    List<Path> archived() throws IOException {
        try (Stream<Path> s = Files.walk(repo.resolve("w/wal"))) {
            return s.filter(Files::isRegularFile).sorted().toList();
        }
    }

    @Test
    void segmentsAreArchivedWithoutFailures() throws Exception {
        try (PgSession s = pg.session("postgres")) {
            assertThat(Long.parseLong(s.queryValue("SELECT archived_count FROM pg_stat_archiver").orElseThrow())).isGreaterThanOrEqualTo(4);
            assertThat(s.queryValue("SELECT failed_count FROM pg_stat_archiver")).contains("0");
        }
        assertThat(archived()).hasSizeGreaterThanOrEqualTo(4)
                .allMatch(p -> p.getFileName().toString().matches("[0-9A-F]{24}\\.sha256-[0-9a-f]{64}\\.zst"));
    }

    @Test
    void walFetchServesVerifiedSegmentsAndSignalsTheEnd() throws Exception {
        Path first = archived().get(0);
        String name = first.getFileName().toString().substring(0, 24);
        Path pgWal = Files.createDirectories(Files.createTempDirectory("lifeboat-fetch-").resolve("pg_wal"));
        Cli.Result r = Cli.run(KilledBackupIT.concat("wal-fetch", common, name, pgWal.resolve("RECOVERYXLOG").toString()));
        assertThat(r.exit()).as(r.toString()).isZero();
        String hash = first.getFileName().toString().substring(32, 96);
        assertThat(Digest.sha256(Files.readAllBytes(pgWal.resolve("RECOVERYXLOG")))).isEqualTo(hash);
        assertThat(Files.size(pgWal.resolve("RECOVERYXLOG"))).isEqualTo(16L * 1024 * 1024);

        Cli.Result missing = Cli.run(KilledBackupIT.concat("wal-fetch", common, "0000000100000099000000FF",
                pgWal.resolve("RECOVERYXLOG2").toString()));
        assertThat(missing.exit()).isEqualTo(44); // the JVM's "not in the archive", which bin/lifeboat turns into 1
        assertThat(missing.err()).isEmpty();
        ScratchCluster.deleteTree(pgWal.getParent());
    }

    @Test
    void differentContentUnderAnArchivedNameIsRefused() throws Exception {
        String name = archived().get(0).getFileName().toString().substring(0, 24);
        Path fake = Files.createDirectories(Files.createTempDirectory("lifeboat-other-").resolve("pg_wal")).resolve(name);
        Files.write(fake, new byte[16 * 1024 * 1024]);
        Cli.Result r = Cli.run(KilledBackupIT.concat("wal-push", common, fake.toString()));
        assertThat(r.exit()).as(r.toString()).isEqualTo(9);
        assertThat(r.err()).contains(name).contains("different content");
        ScratchCluster.deleteTree(fake.getParent().getParent());
    }

    @Test
    void storageOutageFailsPushAndStopsRecoveryInsteadOfEndingIt() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        Path cfg = Files.createTempFile("lifeboat", ".yml");
        Files.writeString(cfg, "clusters:\n  w:\n    postgres:\n      host: 127.0.0.1\n      port: " + pg.port()
                + "\n    repositories:\n      - uri: s3://b/p?endpoint=http://127.0.0.1:" + closed + "&path-style=true\n"
                + "        access-key-id: a\n        secret-access-key: b\n        allow-same-server: true\n");
        Path pgWal = Files.createDirectories(Files.createTempDirectory("lifeboat-down-").resolve("pg_wal"));
        Path seg = pgWal.resolve("000000010000000000000001");
        Files.write(seg, new byte[1024]);
        Cli.Result push = Cli.run("wal-push", "--config", cfg.toString(), seg.toString());
        assertThat(push.exit()).as(push.toString()).isEqualTo(6);
        Cli.Result fetch = Cli.run("wal-fetch", "--config", cfg.toString(), "000000010000000000000001",
                pgWal.resolve("RECOVERYXLOG").toString());
        assertThat(fetch.exit()).as(fetch.toString()).isEqualTo(200);
        assertThat(fetch.err()).contains("cannot reach S3 endpoint");
        ScratchCluster.deleteTree(pgWal.getParent());
        Files.delete(cfg);
    }

    @Test
    void checkPassesEndToEnd() {
        Cli.Result r = Cli.run(KilledBackupIT.concat("check", common, "--archive-timeout", "60"));
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).contains("archiving end to end").contains("reached the repository");
    }
}
