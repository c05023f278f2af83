package io.lifeboat.it;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.lifeboat.catalog.Json;
import io.lifeboat.postgres.ExternalProcess;
import io.lifeboat.postgres.PgBinaries;
import io.lifeboat.postgres.PgSession;
import io.lifeboat.postgres.ScratchCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Bad input and faults around physical backups and restores: each ends with a message that says
 * what to change, its documented exit code, and nothing half-done left behind or listed as complete.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PhysicalFailuresIT {
    ScratchCluster pg;
    Path work;
    Path repo;
    String backupId;

    @BeforeAll
    void start() throws IOException {
        work = Files.createTempDirectory("lifeboat-physfail-");
        Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxr-xr-x"));
        repo = Files.createDirectory(work.resolve("repo"));
        pg = ScratchCluster.create(work, ScratchCluster.Options.defaults()).start();
        PgBinaries.Tool pgbench = new PgBinaries(pg.binDir()).newest("pgbench");
        new ExternalProcess(List.of(pgbench.path().toString(), "-i", "-q", "-s", "2"), pg.connection("postgres")
                .libpqEnvironment()).runChecked("pgbench -i");
        Cli.Result r = Cli.run(args("backup", "--json", "--type", "physical"));
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.err()).contains("WAL archiving is not enabled").contains("--include-wal");
        backupId = (String) Json.MAPPER.readValue(r.out(), Map.class).get("id");
    }

    @AfterAll
    void stop() {
        if (pg != null) {
            pg.close();
        }
        ScratchCluster.deleteTree(work);
    }

    String[] args(String command, String... more) {
        return argsAs("postgres", pg.port(), command, more);
    }

    String[] argsAs(String user, int port, String command, String... more) {
        List<String> a = new ArrayList<>(List.of(command, "--pg-host", "127.0.0.1", "--pg-port", Integer.toString(port),
                "--pg-user", user, "--repo", "file://" + repo, "--cluster", "fail", "--allow-same-server"));
        a.addAll(Arrays.asList(more));
        return a.toArray(String[]::new);
    }

    @Test
    @Order(1)
    void aRoleWithoutReplicationIsTold() {
        try (PgSession s = pg.session("postgres")) {
            s.execute("CREATE ROLE reader LOGIN");
        }
        Cli.Result r = Cli.run(argsAs("reader", pg.port(), "backup", "--type", "physical"));
        assertThat(r.exit()).as(r.toString()).isEqualTo(5);
        assertThat(r.err()).contains("role 'reader' may not open a replication connection")
                .contains("ALTER ROLE \"reader\" REPLICATION");
    }

    @Test
    @Order(2)
    void noReplicationLineInPgHbaIsTold() throws IOException {
        Path hba = pg.dataDir().resolve("pg_hba.conf");
        String original = Files.readString(hba);
        try {
            Files.writeString(hba, original.lines().filter(l -> !l.contains("replication")).collect(Collectors.joining("\n"))
                    + "\n");
            reload();
            Cli.Result r = Cli.run(args("backup", "--type", "physical"));
            assertThat(r.exit()).as(r.toString()).isEqualTo(5);
            assertThat(r.err()).contains("pg_hba.conf").contains("host replication postgres");
        } finally {
            Files.writeString(hba, original);
            reload();
        }
    }

    @Test
    @Order(3)
    void maxWalSendersZeroIsTold() {
        try {
            pg.stop();
            pg.appendConf("max_wal_senders = 0");
            pg.start();
            Cli.Result r = Cli.run(args("backup", "--type", "physical"));
            assertThat(r.exit()).as(r.toString()).isEqualTo(5);
            assertThat(r.err()).contains("accepts no replication connection").contains("set max_wal_senders to at least 2");
        } finally {
            pg.stop();
            pg.appendConf("max_wal_senders = 10");
            pg.start();
        }
    }

    @Test
    @Order(4)
    void anotherClusterCannotUseThePrefix() {
        try (ScratchCluster other = ScratchCluster.create(work, ScratchCluster.Options.defaults()).start()) {
            Cli.Result r = Cli.run(argsAs("postgres", other.port(), "backup", "--type", "physical"));
            assertThat(r.exit()).as(r.toString()).isEqualTo(9);
            assertThat(r.err()).contains("belongs to the cluster with system identifier");
            // The repository is checked while the server checkpoints; a refusal stops the backup at
            // once instead of after the spread checkpoint (which here takes about 45 s; about 1 s when
            // the refusal stops the stream).
            try (PgSession s = other.session("postgres")) {
                s.execute("CREATE TABLE dirty AS SELECT g FROM generate_series(1, 100000) g");
            }
            long t0 = System.nanoTime();
            r = Cli.run(argsAs("postgres", other.port(), "backup", "--type", "physical", "--checkpoint", "spread"));
            long seconds = (System.nanoTime() - t0) / 1_000_000_000L;
            assertThat(r.exit()).as(r.toString()).isEqualTo(9);
            assertThat(r.err()).contains("belongs to the cluster with system identifier");
            assertThat(seconds).as("seconds until refused").isLessThan(15);
        }
    }

    @Test
    @Order(5)
    void aNonEmptyTargetIsRefusedAndLeftAlone() throws IOException {
        Path target = Files.createDirectory(work.resolve("occupied"));
        Files.writeString(target.resolve("precious.txt"), "keep me");
        Cli.Result r = Cli.run(args("restore", "--backup", backupId, "--data-directory", target.toString()));
        assertThat(r.exit()).as(r.toString()).isEqualTo(9);
        assertThat(r.err()).contains("is not empty");
        try (Stream<Path> s = Files.list(target)) {
            assertThat(s.map(p -> p.getFileName().toString())).containsExactly("precious.txt");
        }
    }

    @Test
    @Order(6)
    void aCorruptedChunkIsNamedAndNothingIsLeftBehind() throws IOException {
        Path dir = repo.resolve("fail/backups/" + backupId);
        Path chunk = dir.resolve("base.tar.000002.zst");
        assertThat(chunk).as("pgbench -s 2 is more than one 16 MiB chunk").exists();
        byte[] original = Files.readAllBytes(chunk);
        byte[] bad = original.clone();
        bad[bad.length / 2] ^= 0x40;
        Files.write(chunk, bad);
        try {
            Path target = work.resolve("restore-corrupt/data");
            Cli.Result r = Cli.run(args("restore", "--backup", backupId, "--data-directory", target.toString()));
            assertThat(r.exit()).as(r.toString()).isEqualTo(8);
            assertThat(r.err()).contains("base.tar.000002.zst");
            assertThat(target).doesNotExist();
            assertThat(work.resolve("restore-corrupt")).doesNotExist();
        } finally {
            Files.write(chunk, original);
        }
    }

    @Test
    @Order(7)
    void notEnoughDiskIsFoundBeforeAnythingIsWritten() throws IOException {
        Path manifest = repo.resolve("fail/backups/" + backupId + "/manifest.json");
        byte[] original = Files.readAllBytes(manifest);
        ObjectNode m = (ObjectNode) Json.MAPPER.readTree(original);
        for (var a : m.get("physical").get("archives")) {
            ((ObjectNode) a).put("rawBytes", 1L << 50);
        }
        Files.write(manifest, Json.MAPPER.writeValueAsBytes(m));
        try {
            Path target = work.resolve("restore-big");
            Cli.Result r = Cli.run(args("restore", "--backup", backupId, "--data-directory", target.toString()));
            assertThat(r.exit()).as(r.toString()).isEqualTo(10);
            assertThat(r.err()).contains("not enough disk space").contains("need about");
            assertThat(target).doesNotExist();
        } finally {
            Files.write(manifest, original);
        }
    }

    /** A disk that fills up during the restore: RESOURCE (exit 10) naming the path, and nothing left behind. */
    @Test
    @Order(7)
    void aDiskThatFillsUpIsAResourceErrorNamingThePath() throws IOException {
        org.junit.jupiter.api.Assumptions.assumeTrue(ExternalProcess.runningAsRoot(), "needs root to mount a small tmpfs");
        Path small = Files.createDirectory(work.resolve("small-disk"));
        ExternalProcess.Result mount = new ExternalProcess(List.of("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs",
                small.toString()), Map.of()).run();
        org.junit.jupiter.api.Assumptions.assumeTrue(mount.ok(), "cannot mount tmpfs: " + mount.stderr());
        try {
            Path target = small.resolve("data");
            Cli.Result r = Cli.run(args("restore", "--backup", backupId, "--data-directory", target.toString(),
                    "--skip-space-check"));
            assertThat(r.exit()).as(r.toString()).isEqualTo(10);
            assertThat(r.err()).contains("cannot write " + target).contains("No space left on device")
                    .doesNotContain("damaged").doesNotContain("check the repository");
            try (var left = Files.list(small)) {
                assertThat(left).isEmpty();
            }
        } finally {
            new ExternalProcess(List.of("umount", small.toString()), Map.of()).run();
            Files.deleteIfExists(small);
        }
    }

    @Test
    @Order(8)
    void aKilledBackupIsUnfinishedAndNeverRestored() throws Exception {
        Path launcher = Path.of("bin", "lifeboat").toAbsolutePath();
        assertThat(Path.of("target", "lifeboat.jar")).as("built by mvn package before the ITs").exists();
        List<String> cmd = new ArrayList<>(List.of(launcher.toString()));
        cmd.addAll(List.of(args("backup", "--type", "physical", "--max-rate", "4096")));
        Process backup = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(work.resolve("killed.log").toFile())
                .start();
        Path backups = repo.resolve("fail/backups");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (newChunkCount(backups) == 0 && backup.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(backup.isAlive()).as("backup still running when its first chunk is stored: "
                + Files.readString(work.resolve("killed.log"))).isTrue();
        backup.destroyForcibly();
        backup.waitFor();

        Cli.Result list = Cli.run(args("list"));
        assertThat(list.exit()).as(list.toString()).isZero();
        String line = list.out().lines().filter(l -> l.contains("unfinished")).findFirst().orElseThrow(
                () -> new AssertionError(list.toString()));
        String id = line.split("\\s+")[0];
        assertThat(id).endsWith("-P").isNotEqualTo(backupId);

        Cli.Result restore = Cli.run(args("restore", "--backup", id, "--data-directory", work.resolve("never").toString()));
        assertThat(restore.exit()).as(restore.toString()).isEqualTo(9);
        assertThat(restore.err()).contains("unfinished");
        assertThat(work.resolve("never")).doesNotExist();
        Cli.Result del = Cli.run(args("delete", id));
        assertThat(del.exit()).as(del.toString()).isZero();
    }

    private long newChunkCount(Path backups) throws IOException {
        if (!Files.isDirectory(backups)) {
            return 0;
        }
        try (Stream<Path> s = Files.walk(backups)) {
            return s.filter(p -> !p.toString().contains(backupId) && p.getFileName().toString().startsWith("base.tar.")).count();
        }
    }

    @Test
    @Order(9)
    void theServerStoppingMidBackupFailsItCleanly() throws Exception {
        CompletableFuture<Cli.Result> running = CompletableFuture.supplyAsync(() ->
                Cli.run(args("backup", "--type", "physical", "--include-wal", "--max-rate", "2048")));
        Thread.sleep(2500);
        assertThat(running).as("still streaming").isNotDone();
        pg.stop("immediate");
        Cli.Result r = running.get(60, TimeUnit.SECONDS);
        assertThat(r.exit()).as(r.toString()).isEqualTo(5);
        assertThat(r.err()).containsAnyOf("lost the replication connection", "stopped or restarted");
        pg.start();
        Cli.Result list = Cli.run(args("list", "--json"));
        List<?> backups = (List<?>) Json.MAPPER.readValue(list.out(), Map.class).get("backups");
        // Only the backup from the start is complete; the failed one was removed (or, had that failed, is unfinished).
        assertThat(backups.stream().map(b -> (Map<?, ?>) b).filter(b -> "complete".equals(b.get("status")))
                .map(b -> String.valueOf(b.get("id")))).containsExactly(backupId);
    }

    @Test
    @Order(10)
    void walThatNeverReachesTheRepositoryFailsTheBackupAfterTheTimeout() throws Exception {
        try (PgSession s = pg.session("postgres")) {
            s.execute("ALTER SYSTEM SET archive_mode = on");
            s.execute("ALTER SYSTEM SET archive_command = 'false'"); // archiving that always fails
        }
        pg.stop();
        pg.start();
        long t0 = System.nanoTime();
        Cli.Result r = Cli.run(args("backup", "--type", "physical", "--archive-timeout", "3"));
        assertThat(r.exit()).as(r.toString()).isEqualTo(5);
        assertThat(r.err()).containsPattern("WAL segment [0-9A-F]{24}, which the backup needs, did not reach")
                .contains("within 3 s").contains("lifeboat check").contains("--include-wal");
        assertThat((System.nanoTime() - t0) / 1_000_000_000L).as("seconds").isLessThan(60);
        Cli.Result list = Cli.run(args("list", "--json"));
        List<?> backups = (List<?>) Json.MAPPER.readValue(list.out(), Map.class).get("backups");
        assertThat(backups.stream().map(b -> (Map<?, ?>) b).filter(b -> "complete".equals(b.get("status")))
                .map(b -> String.valueOf(b.get("id")))).containsExactly(backupId);
        Cli.Result bad = Cli.run(args("backup", "--type", "physical", "--archive-timeout", "0"));
        assertThat(bad.exit()).isEqualTo(2);
    }

    private List<Object> backupIds() throws IOException {
        Cli.Result list = Cli.run(args("list", "--json"));
        assertThat(list.exit()).as(list.toString()).isZero();
        return ((List<?>) Json.MAPPER.readValue(list.out(), Map.class).get("backups")).stream()
                .map(b -> ((Map<?, ?>) b).get("id")).collect(Collectors.toList());
    }

    /** Runs the launcher with a heap cap of {@code heap} (LIFEBOAT_JAVA_OPTS); exit code and output. */
    private Cli.Result launcher(String heap, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of("bin", "lifeboat").toAbsolutePath().toString()));
        cmd.addAll(List.of(args));
        Path err = Files.createTempFile(work, "launcher", ".err");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(err.toFile());
        pb.environment().put("LIFEBOAT_JAVA_OPTS", "-Xmx" + heap);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        return new Cli.Result(p.exitValue(), out, Files.readString(err));
    }

    @Test
    @Order(11)
    void aHeapTooSmallForTheBuffersIsToldAtTheStartAndOneThatHoldsSmallerChunksIsUsed() throws Exception {
        assertThat(Path.of("target", "lifeboat.jar")).as("built by mvn package before the ITs").exists();
        List<Object> before = backupIds();
        long chunksBefore = newChunkCount(repo.resolve("fail/backups"));
        // 150 MiB of heap hold about 17 MiB of buffers: not even 4 MiB chunks for 8 jobs
        Cli.Result none = launcher("150m", args("backup", "--type", "physical", "--include-wal", "--jobs", "8"));
        assertThat(none.exit()).as(none.toString()).isEqualTo(10);
        assertThat(none.err()).contains("8 jobs").contains("heap of").contains("LIFEBOAT_JAVA_OPTS");
        assertThat(backupIds()).as("nothing stored").isEqualTo(before);
        assertThat(newChunkCount(repo.resolve("fail/backups"))).as("no chunk stored").isEqualTo(chunksBefore);
        // nor can it restore the 32 MiB chunks of the first backup; the target is left alone
        Path never = work.resolve("never-small-heap");
        Cli.Result noRestore = launcher("150m", args("restore", "--backup", backupId, "--data-directory", never.toString()));
        assertThat(noRestore.exit()).as(noRestore.toString()).isEqualTo(10);
        assertThat(noRestore.err()).contains("chunks of 32 MiB");
        assertThat(never).doesNotExist();

        // 200 MiB hold about 65 MiB: 2 jobs with 8 MiB chunks instead of 32, and the restore reads them back
        Cli.Result small = launcher("200m", args("backup", "--type", "physical", "--include-wal", "--jobs", "2"));
        assertThat(small.exit()).as(small.toString()).isZero();
        assertThat(small.err()).contains("tar chunks of 8 MiB instead of 32 MiB");
        List<Object> after = backupIds();
        after.removeAll(before);
        assertThat(after).as(small.toString()).hasSize(1);
        String id = (String) after.get(0);
        Path restored = work.resolve("restored-small-heap");
        Cli.Result back = launcher("200m", args("restore", "--backup", id, "--data-directory", restored.toString()));
        assertThat(back.exit()).as(back.toString()).isZero();
        assertThat(restored.resolve("PG_VERSION")).exists();
        assertThat(Cli.run(args("delete", id)).exit()).isZero();
    }

    private void reload() {
        try (PgSession s = pg.session("postgres")) {
            s.execute("SELECT pg_reload_conf()");
        }
        try {
            Thread.sleep(300);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
