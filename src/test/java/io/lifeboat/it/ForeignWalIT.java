package io.lifeboat.it;

import io.lifeboat.postgres.PgSession;
import io.lifeboat.postgres.ScratchCluster;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two real clusters, one repository prefix: the second one's archive_command pushes into the
 * first one's prefix. Its WAL is refused (exit 9, the server keeps it and retries) and nothing of
 * it is stored; it was archived with exit 0.
 */
class ForeignWalIT {
    @Test
    void walOfASecondClusterIsRefusedAndNothingOfItStored() throws Exception {
        RestoreScratch scratch = RestoreScratch.create("foreign", "a");
        Path work = scratch.work;
        Path repo = scratch.repo;
        ScratchCluster a = ScratchCluster.create(work, ScratchCluster.Options.defaults());
        ScratchCluster b = ScratchCluster.create(work, ScratchCluster.Options.defaults());
        List<String> intoA = List.of("--repo", "file://" + repo, "--cluster", "a", "--allow-same-server");
        String push = "archive_command = '" + LauncherProperty.LAUNCHER + " wal-push " + String.join(" ", intoA) + " %p'";
        try {
            a.appendConf("archive_mode = on", push);
            a.start();
            Cli.Result backup = Cli.run(PhysicalArchiveRecoveryIT.args(List.of("--repo", "file://" + repo, "--cluster", "a",
                    "--allow-same-server", "--pg-host", "127.0.0.1", "--pg-port", Integer.toString(a.port()), "--pg-user",
                    "postgres"), "backup", "--type", "physical"));
            assertThat(backup.exit()).as(backup.toString()).isZero(); // cluster.json: a's system identifier
            a.stop();
            List<Path> before = stored(repo.resolve("a/wal"));

            // b first moves past the segment names a has archived (not archiving yet): the only thing that can
            // refuse its WAL is whose it is, not a name a already used.
            b.start();
            try (PgSession s = b.session("postgres")) {
                for (int i = 0; i < 8; i++) {
                    s.execute("CREATE TABLE t" + i + " (i int)");
                    s.queryValue("SELECT pg_switch_wal()");
                }
            }
            b.stop();
            b.appendConf("archive_mode = on", push);
            b.start();
            String systemB;
            try (PgSession s = b.session("postgres")) {
                systemB = s.systemIdentifier().orElseThrow();
                s.execute("CREATE TABLE after (i int)");
                s.queryValue("SELECT pg_switch_wal()");
                long deadline = System.nanoTime() + 60_000_000_000L;
                while (System.nanoTime() < deadline && Long.parseLong(s.queryValue(
                        "SELECT failed_count FROM pg_stat_archiver").orElse("0")) < 2) {
                    Thread.sleep(200);
                }
                assertThat(s.queryValue("SELECT failed_count FROM pg_stat_archiver").map(Long::parseLong).orElse(0L))
                        .as(b.readLog()).isGreaterThanOrEqualTo(2);
                assertThat(s.queryValue("SELECT archived_count FROM pg_stat_archiver")).contains("0");
                String failed = s.queryValue("SELECT last_failed_wal FROM pg_stat_archiver").orElseThrow();
                assertThat(failed.compareTo(before.get(before.size() - 1).getFileName().toString())).isPositive();
                // The same by hand: exit 9, both systems named.
                Cli.Result r = Cli.run(PhysicalArchiveRecoveryIT.args(intoA, "wal-push",
                        b.dataDir().resolve("pg_wal").resolve(failed).toString()));
                assertThat(r.exit()).as(r.toString()).isEqualTo(9);
                assertThat(r.err()).contains(failed, systemB, "nothing was stored");
            }
            assertThat(b.readLog()).contains("was written by the cluster with system identifier " + systemB);
            assertThat(stored(repo.resolve("a/wal"))).isEqualTo(before);
        } finally {
            b.close();
            a.close();
            scratch.close();
        }
    }

    static List<Path> stored(Path dir) throws Exception {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).sorted().toList();
        }
    }
}
