package io.lifeboat.it;

import io.lifeboat.postgres.ExternalProcess;
import io.lifeboat.postgres.PgBinaries;
import io.lifeboat.postgres.PgSession;
import io.lifeboat.postgres.ScratchCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** kill -9 in the middle of a backup: the backup is listed unfinished, never restored, and can be deleted. */
class KilledBackupIT {
    @TempDir
    Path repo;

    @Test
    void aKilledBackupIsUnfinishedNotComplete() throws Exception {
        Path launcher = Path.of("bin", "lifeboat").toAbsolutePath();
        assertThat(Path.of("target", "lifeboat.jar")).as("built by mvn package before the ITs").exists();
        try (ScratchCluster pg = ScratchCluster.create(null, ScratchCluster.Options.defaults()).start()) {
            PgBinaries.Tool pgbench = new PgBinaries(pg.binDir()).newest("pgbench");
            new ExternalProcess(List.of(pgbench.path().toString(), "-i", "-q", "-s", "10"), pg.connection("postgres")
                    .libpqEnvironment()).runChecked("pgbench -i");
            String[] common = {"--pg-host", "127.0.0.1", "--pg-port", Integer.toString(pg.port()), "--pg-user", "postgres",
                    "--repo", "file://" + repo, "--cluster", "k", "--allow-same-server", "--jobs", "1"};
            // zstd by Lifeboat with one job makes the backup slow enough to be caught in the middle.
            List<String> cmd = new java.util.ArrayList<>(List.of(launcher.toString(), "backup", "--type", "logical",
                    "--dump-compression", "none", "--no-globals"));
            cmd.addAll(List.of(common));
            Process backup = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            Path backups = repo.resolve("k/backups");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!hasDataObject(backups) && backup.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(backup.isAlive()).as("backup still running when its first object is stored").isTrue();
            backup.destroyForcibly();
            backup.waitFor();
            // The orphaned pg_dump may still run: stop it so it does not race the rest of the test.
            new ExternalProcess(List.of("pkill", "-f", "pg_dump --format=directory.*" + pg.port()), Map.of()).run();

            Cli.Result list = Cli.run(concat("list", common));
            assertThat(list.exit()).as(list.toString()).isZero();
            assertThat(list.out()).contains("unfinished").doesNotContain(" complete ");
            String id = list.out().lines().filter(l -> l.contains("unfinished")).findFirst().orElseThrow().split("\\s+")[0];

            Cli.Result restore = Cli.run(concat("restore", common, "--backup", id, "--target-database", "never"));
            assertThat(restore.exit()).as(restore.toString()).isEqualTo(9);
            assertThat(restore.err()).contains("unfinished");

            Cli.Result del = Cli.run(concat("delete", common, id));
            assertThat(del.exit()).as(del.toString()).isZero();
            assertThat(Cli.run(concat("list", common)).out()).doesNotContain(id);

            // And the next backup works.
            Cli.Result again = Cli.run(concat("backup", common, "--type", "logical"));
            assertThat(again.exit()).as(again.toString()).isZero();
            try (PgSession s = pg.session("postgres")) {
                assertThat(s.queryValue("SELECT count(*) FROM pg_database WHERE datname = 'never'")).contains("0");
            }
        }
    }

    private static boolean hasDataObject(Path dir) throws Exception {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            return s.anyMatch(p -> p.getFileName().toString().endsWith(".dat.zst") && !p.getFileName().toString().startsWith("."));
        }
    }

    static String[] concat(String command, String[] common, String... more) {
        return Stream.concat(Stream.concat(Stream.of(command), Stream.of(common)), Stream.of(more)).toArray(String[]::new);
    }
}
