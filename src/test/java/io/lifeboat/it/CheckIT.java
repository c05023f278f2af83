package io.lifeboat.it;

import io.lifeboat.catalog.Json;
import io.lifeboat.postgres.PgSession;
import io.lifeboat.postgres.ScratchCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * `lifeboat check` lists every check whatever fails first, says why a connection failed when it is
 * not the server (a name that does not resolve, no password), and proves archiving with a segment
 * that arrives after the check wrote it, not with an old one of the same name.
 */
class CheckIT {
    @TempDir
    Path repo;

    private static final List<String> ALL = List.of("connect", "wal_level", "archive_mode", "archive_command",
            "max_wal_senders", "replication role", "repository", "archiving end to end");

    @Test
    void everyCheckIsListedWhenTheServerIsDown() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        Cli.Result r = Cli.run("check", "--repo", "file://" + repo, "--cluster", "c", "--allow-same-server",
                "--pg-host", "127.0.0.1", "--pg-port", Integer.toString(closed));
        assertThat(r.exit()).as(r.toString()).isEqualTo(3);
        for (String c : ALL) {
            assertThat(r.out()).as(r.toString()).contains(c);
        }
        assertThat(r.out()).containsPattern("FAIL +connect").containsPattern("ok +repository")
                .containsPattern("skip +archive_mode").containsPattern("skip +archiving end to end");
        Cli.Result j = Cli.run("check", "--json", "--repo", "file://" + repo, "--cluster", "c", "--allow-same-server",
                "--pg-host", "127.0.0.1", "--pg-port", Integer.toString(closed));
        List<?> checks = (List<?>) Json.MAPPER.readValue(j.out(), Map.class).get("checks");
        assertThat(checks).hasSize(ALL.size());
    }

    @Test
    void aHostNameThatDoesNotResolveIsCalledThat() {
        Cli.Result r = Cli.run("check", "--repo", "file://" + repo, "--cluster", "c", "--allow-same-server",
                "--pg-host", "no-such-host.invalid");
        assertThat(r.exit()).as(r.toString()).isNotZero();
        assertThat(r.out()).contains("cannot resolve the PostgreSQL host name 'no-such-host.invalid'")
                .doesNotContain("check that the server runs");
    }

    @Test
    void aMissingPasswordIsCalledThatNotADownServer() throws Exception {
        try (ScratchCluster pg = ScratchCluster.create(null, ScratchCluster.Options.defaults().withPassword("s3cret"))
                .start()) {
            Path pgpass = repo.resolve("pgpass");
            Files.writeString(pgpass, "otherhost:5432:*:postgres:nope\n");
            Files.setPosixFilePermissions(pgpass, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
            Cli.Result r = Cli.run("check", "--repo", "file://" + repo, "--cluster", "c", "--allow-same-server",
                    "--pg-host", "127.0.0.1", "--pg-port", Integer.toString(pg.port()), "--pg-user", "postgres",
                    "--pg-password-file", pgpass.toString());
            assertThat(r.exit()).as(r.toString()).isNotZero();
            assertThat(r.out()).contains("asks for a password for 'postgres' and none was found")
                    .contains("pgpass file " + pgpass + " has no line for 127.0.0.1:" + pg.port())
                    .doesNotContain("check that the server runs");
            // With the line, the same command connects.
            Files.writeString(pgpass, "127.0.0.1:" + pg.port() + ":*:postgres:s3cret\n");
            Cli.Result ok = Cli.run("check", "--repo", "file://" + repo, "--cluster", "c", "--allow-same-server",
                    "--pg-host", "127.0.0.1", "--pg-port", Integer.toString(pg.port()), "--pg-user", "postgres",
                    "--pg-password-file", pgpass.toString());
            assertThat(ok.out()).as(ok.toString()).containsPattern("ok +connect");
        }
    }

    @Test
    void stuckArchivingIsNotProvedByASegmentArchivedBefore() throws Exception {
        ScratchCluster.giveToServerUser(repo);
        try (ScratchCluster pg = ScratchCluster.create(null, ScratchCluster.Options.defaults())) {
            Path launcher = LauncherProperty.LAUNCHER;
            String[] common = {"--repo", "file://" + repo, "--cluster", "c", "--allow-same-server", "--pg-host",
                    "127.0.0.1", "--pg-port", Integer.toString(pg.port()), "--pg-user", "postgres"};
            pg.appendConf("archive_mode = on", "archive_command = '" + launcher + " wal-push " + String.join(" ", common)
                    + " %p'");
            pg.start();
            try (PgSession s = pg.session("postgres")) {
                s.execute("CREATE TABLE t AS SELECT g FROM generate_series(1, 1000) g");
                Archiving.switchAndAwait(s);
                // Archiving breaks (the command still looks right), and nothing is written after the last switch:
                // the segment name the server reports is the one archived just before.
                s.execute("ALTER SYSTEM SET archive_command = '/bin/false wal-push %p'");
                s.queryValue("SELECT pg_reload_conf()");
                Thread.sleep(500);
            }
            Cli.Result stuck = Cli.run(KilledBackupIT.concat("check", common, "--archive-timeout", "5"));
            assertThat(stuck.exit()).as(stuck.toString()).isEqualTo(3);
            assertThat(stuck.out()).containsPattern("FAIL +archiving end to end");

            // A copy of the very segment being written is already there (another server archives into this prefix):
            // it proves nothing, and switching would only make this server's archiving fail on it.
            String current;
            String system;
            try (PgSession s = pg.session("postgres")) {
                s.queryValue("SELECT pg_logical_emit_message(false, 'test', 'x')");
                current = s.queryValue("SELECT pg_walfile_name(pg_current_wal_insert_lsn())").orElseThrow();
                system = s.queryValue("SELECT system_identifier::text FROM pg_control_system()").orElseThrow();
            }
            Path fake = Files.createDirectories(repo.resolveSibling(repo.getFileName() + "-other").resolve("pg_wal"))
                    .resolve(current);
            // of the same system (a restored copy, say): WAL of another system would be refused at the push already
            Files.write(fake, io.lifeboat.postgres.TestWal.withHeader(new byte[16 * 1024 * 1024], current, system));
            Cli.Result push = Cli.run(KilledBackupIT.concat("wal-push", common, fake.toString()));
            assertThat(push.exit()).as(push.toString()).isZero();
            Cli.Result foreign = Cli.run(KilledBackupIT.concat("check", common, "--archive-timeout", "5"));
            assertThat(foreign.exit()).as(foreign.toString()).isEqualTo(3);
            assertThat(foreign.out()).contains("already holds segment " + current);
            ScratchCluster.deleteTree(fake.getParent().getParent());
        }
    }
}
