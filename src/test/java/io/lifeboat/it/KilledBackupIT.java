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
            assertThat(awaitNoPgDump(pg.port())).as("pg_dump processes left after kill -9").isEmpty();

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

    /**
     * kill -9 of a logical backup, several times, each in the middle of its dump: no pg_dump lives on
     * (they get a parent-death signal), and the next run removes the spools the killed runs left.
     */
    @Test
    void killedBackupsLeaveNoPgDumpAndTheNextRunRemovesTheirSpools() throws Exception {
        Path launcher = Path.of("bin", "lifeboat").toAbsolutePath();
        Path spool = repo.resolve("spool");
        try (ScratchCluster pg = ScratchCluster.create(null, ScratchCluster.Options.defaults()).start()) {
            // Random text that gzip -9 works on for seconds: pg_dump is still busy well after its parent is killed.
            try (PgSession s = pg.session("postgres")) {
                s.execute("CREATE TABLE a AS SELECT g, md5(random()::text) || md5(random()::text) AS t "
                        + "FROM generate_series(1, 800000) g");
                s.execute("CREATE TABLE b AS SELECT * FROM a");
            }
            String[] common = {"--pg-host", "127.0.0.1", "--pg-port", Integer.toString(pg.port()), "--pg-user", "postgres",
                    "--repo", "file://" + repo.resolve("r"), "--cluster", "k", "--allow-same-server", "--jobs", "2",
                    "--spool-directory", spool.toString()};
            Files.createDirectories(repo.resolve("r"));
            java.util.Set<Path> seen = new java.util.HashSet<>();
            for (int run = 0; run < 3; run++) {
                List<String> cmd = new java.util.ArrayList<>(List.of(launcher.toString(), "backup", "--type", "logical",
                        "--dump-compression", "gzip:9", "--no-globals"));
                cmd.addAll(List.of(common));
                Process backup = new ProcessBuilder(cmd).redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (pgDumps(pg.port()).isEmpty() && backup.isAlive() && System.nanoTime() < deadline) {
                    Thread.sleep(10);
                }
                // a moment into the dump: pg_dump's workers are forked and writing
                Thread.sleep(200 + 150L * run);
                assertThat(backup.isAlive()).as("backup still running in the middle of its dump").isTrue();
                assertThat(pgDumps(pg.port())).as("pg_dump running in run " + run).isNotEmpty();
                backup.destroyForcibly();
                backup.waitFor();
                assertThat(awaitNoPgDump(pg.port())).as("pg_dump processes left after kill -9 of run " + run).isEmpty();
                // this run's spool stays (nothing ran to remove it); the one an earlier killed run left is gone
                try (Stream<Path> s = Files.list(spool)) {
                    List<Path> left = s.toList();
                    assertThat(left).as("spools after killed run " + run).hasSize(1);
                    assertThat(seen.add(left.get(0))).as("a new spool for run " + run).isTrue();
                }
            }

            Cli.Result again = Cli.run(concat("backup", common, "--type", "logical", "--no-globals",
                    "--dump-compression", "none"));
            assertThat(again.exit()).as(again.toString()).isZero();
            assertThat(again.err()).contains("removed the spool of an earlier run");
            try (Stream<Path> s = Files.list(spool)) {
                assertThat(s.toList()).as("spools after the next run").isEmpty();
            }
        }
    }

    /** The pg_dump processes of a dump from this port, after waiting up to 2 s for them to end. */
    private static List<ProcessHandle> awaitNoPgDump(int port) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        List<ProcessHandle> left = pgDumps(port);
        while (!left.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(50);
            left = pgDumps(port);
        }
        left.forEach(ProcessHandle::destroyForcibly); // do not leave them to the other tests
        return left;
    }

    private static List<ProcessHandle> pgDumps(int port) {
        try (Stream<ProcessHandle> all = ProcessHandle.allProcesses()) {
            return all.filter(p -> {
                String line = p.info().commandLine().orElse("");
                return line.contains("pg_dump") && line.contains("--format=directory") && p.isAlive()
                        && environmentPort(p).equals(Integer.toString(port));
            }).toList();
        }
    }

    /** PGPORT from /proc/PID/environ: pg_dump gets its connection through the environment. */
    private static String environmentPort(ProcessHandle p) {
        try {
            for (String kv : Files.readString(Path.of("/proc", Long.toString(p.pid()), "environ")).split("\0")) {
                if (kv.startsWith("PGPORT=")) {
                    return kv.substring(7);
                }
            }
        } catch (Exception e) {
            // gone
        }
        return "";
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
