package io.lifeboat.it;

import io.lifeboat.postgres.PgSession;
import io.lifeboat.postgres.ScratchCluster;
import io.lifeboat.postgres.ServerControl;
import io.lifeboat.postgres.WalSegmentName;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Physical restores of a backup without its WAL, from an archive of some 40 segments after it,
 * where recovery cannot finish: restore_command cannot read its configuration, restore_command
 * misses a segment that is there, the restore gives up waiting. None may report success, none
 * may leave a process behind, and a removed directory stays removed.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RecoveryStopsIT {
    static final int SEGMENTS_AFTER = 40;
    RestoreScratch scratch;
    Path work;
    Path config;
    ScratchCluster pg;
    WalSegmentName start;

    @BeforeAll
    void setUp() throws Exception {
        scratch = RestoreScratch.create("stops", "rs");
        work = scratch.work;
        pg = ScratchCluster.create(work, ScratchCluster.Options.defaults());
        config = work.resolve("lifeboat.yml");
        Files.writeString(config, "clusters:\n  rs:\n    postgres:\n      host: 127.0.0.1\n      port: " + pg.port()
                + "\n      user: postgres\n    repositories:\n      - uri: file://" + scratch.repo
                + "\n        allow-same-server: true\n");
        pg.appendConf("archive_mode = on", "archive_command = '" + LauncherProperty.LAUNCHER + " wal-push --config "
                + config + " --cluster rs %p'");
        pg.start();
        try (PgSession s = pg.session("postgres")) {
            s.execute("CREATE TABLE t (i int, at timestamptz DEFAULT now())");
        }
        Cli.Result b = Cli.run("backup", "--config", config.toString(), "--cluster", "rs", "--type", "physical", "--json");
        assertThat(b.exit()).as(b.toString()).isZero();
        String startLsn = (String) io.lifeboat.catalog.Json.MAPPER.readValue(b.out(), Map.class).get("startLsn");
        start = WalSegmentName.containing(io.lifeboat.postgres.TimelineId.of(1), io.lifeboat.postgres.Lsn.parse(startLsn),
                WalSegmentName.DEFAULT_SEGMENT_SIZE);
        try (PgSession s = pg.session("postgres")) {
            for (int i = 0; i < SEGMENTS_AFTER; i++) {
                s.execute("INSERT INTO t (i) VALUES (" + i + ")");
                s.queryValue("SELECT pg_switch_wal()");
            }
            Archiving.switchAndAwait(s);
        }
        pg.stop(); // the archive is complete and stays as it is
    }

    @AfterEach
    void stopRestored() {
        scratch.stopAll();
    }

    @AfterAll
    void tearDown() {
        if (pg != null) {
            pg.close();
        }
        scratch.close();
    }

    Cli.Result restore(Path cfg, String name, String... more) throws Exception {
        Path dir = scratch.dataDirectory(name);
        List<String> args = new ArrayList<>(List.of("restore", "--config", cfg.toString(), "--cluster", "rs", "--type",
                "physical", "--data-directory", dir.toString(), "--start", "--port",
                Integer.toString(ScratchCluster.freePort())));
        args.addAll(Arrays.asList(more));
        return Cli.run(args.toArray(String[]::new));
    }

    Map<String, String> control(Path dataDir) {
        return new ServerControl(pg.binDir(), dataDir, ScratchCluster.OS_USER).controlData();
    }

    /** Processes (other than this JVM) whose command line names {@code dir}: servers, prefetchers, launchers. */
    static List<String> processesOf(Path dir) {
        String d = dir.toString();
        return ProcessHandle.allProcesses().filter(p -> p.pid() != ProcessHandle.current().pid())
                .map(p -> p.info().commandLine().orElse(""))
                .filter(c -> c.contains(d)).toList();
    }

    @Test
    void aConfigurationTheServerCannotReadIsReportedAndStopsARecoveryWithoutTheRestore() throws Exception {
        // As the issue found it: the configuration is root's (0600), restore_command runs as postgres.
        Path rootOnly = work.resolve("root-only.yml");
        Files.copy(config, rootOnly);
        Files.setPosixFilePermissions(rootOnly, PosixFilePermissions.fromString("rw-------"));
        try (LauncherProperty l = LauncherProperty.set()) {
            // With --start, the restore's own prefetcher (root, which can read it) serves the whole recovery.
            Cli.Result started = restore(rootOnly, "unreadable-started");
            assertThat(started.exit()).as(started.toString()).isZero();
            assertThat(started.err()).contains("restore_command runs as " + ScratchCluster.OS_USER + ", who cannot read "
                    + rootOnly);
            scratch.stopAll();
            // Without it, the server started later asks restore_command itself.
            Path dir = scratch.dataDirectory("unreadable");
            Cli.Result r = Cli.run("restore", "--config", rootOnly.toString(), "--cluster", "rs", "--type", "physical",
                    "--data-directory", dir.toString());
            assertThat(r.exit()).as(r.toString()).isZero();
            assertThat(r.err()).contains("who cannot read " + rootOnly);
            Path log = dir.resolve("started-later.log");
            io.lifeboat.postgres.ExternalProcess.Result start = new io.lifeboat.postgres.ExternalProcess(
                    io.lifeboat.postgres.ExternalProcess.asUser(ScratchCluster.OS_USER, List.of(
                            pg.binDir().resolve("pg_ctl").toString(), "-D", dir.toString(), "-l", log.toString(), "-o",
                            "-p " + ScratchCluster.freePort(), "-w", "-t", "120", "start")), Map.of()).run();
            assertThat(start.exitCode()).as(start.toString()).isNotZero();
            // recovery stopped instead of ending: never promoted, still on timeline 1, in recovery
            Map<String, String> c = control(dir);
            assertThat(c.get("Latest checkpoint's TimeLineID")).isEqualTo("1");
            assertThat(c.get("Database cluster state")).contains("recovery");
            assertThat(dir.resolve("recovery.signal")).exists();
            assertThat(dir.resolve("postmaster.pid")).doesNotExist();
            assertThat(Files.readString(log)).contains("root-only.yml").contains("FATAL");
            for (int i = 0; i < 50 && !processesOf(dir).isEmpty(); i++) {
                Thread.sleep(100);
            }
            assertThat(processesOf(dir)).isEmpty();
        }
    }

    @Test
    void aRecoveryThatEndsBeforeTheArchiveDoesNotReportSuccess() throws Exception {
        // restore_command says "not in the archive" for a segment that is there (what an empty S3 listing did):
        // PostgreSQL ends recovery there and promotes; the restore must see that the archive holds more.
        WalSegmentName missed = new WalSegmentName(start.timeline(), start.segmentNumber() + 20, start.segmentSize());
        Path lying = work.resolve("lying-lifeboat");
        Files.writeString(lying, "#!/bin/bash\nfor a in \"$@\"; do [[ \"$a\" == " + missed + " ]] && exit 1; done\n"
                + "exec " + LauncherProperty.LAUNCHER + " \"$@\"\n");
        Files.setPosixFilePermissions(lying, PosixFilePermissions.fromString("rwxr-xr-x"));
        String old = System.getProperty("lifeboat.launcher");
        System.setProperty("lifeboat.launcher", lying.toString());
        Cli.Result r;
        try {
            r = restore(config, "short");
        } finally {
            System.setProperty("lifeboat.launcher", old == null ? LauncherProperty.LAUNCHER.toString() : old);
            if (old == null) {
                System.clearProperty("lifeboat.launcher");
            }
        }
        assertThat(r.exit()).as(r.toString()).isEqualTo(9);
        assertThat(r.err()).contains("is incomplete", "recovery ended at", missed + " is archived and was not replayed");
        Path dir = work.resolve("short");
        assertThat(dir.resolve("postmaster.pid")).doesNotExist(); // stopped, not left running as if all were well
        assertThat(control(dir).get("Latest checkpoint's TimeLineID")).isEqualTo("2"); // it had been promoted
        assertThat(processesOf(dir)).isEmpty();
    }

    @Test
    void aRestoreThatFailsDuringRecoveryLeavesNoProcessAndItsDirectoryStaysRemoved() throws Exception {
        // The restore gives up while recovery (and WAL prefetching) is under way: each restore_command call waits
        // 0.5 s first, so that 40 segments take longer than the restore waits, however fast the machine is.
        Path slow = work.resolve("slow-lifeboat");
        // (run in the data directory: a call whose server was stopped meanwhile ends there)
        Files.writeString(slow, "#!/bin/bash\nif [[ \"$1\" == wal-fetch ]]; then sleep 0.5; [[ -f postmaster.pid ]] || exit 200; fi\n"
                + "exec " + LauncherProperty.LAUNCHER + " \"$@\"\n");
        Files.setPosixFilePermissions(slow, PosixFilePermissions.fromString("rwxr-xr-x"));
        String old = System.getProperty("lifeboat.launcher");
        System.setProperty("lifeboat.launcher", slow.toString());
        Cli.Result r;
        try {
            r = restore(config, "given-up", "--start-timeout", "2");
        } finally {
            if (old == null) {
                System.clearProperty("lifeboat.launcher");
            } else {
                System.setProperty("lifeboat.launcher", old);
            }
        }
        assertThat(r.exit()).as(r.toString()).isNotZero();
        Path dir = work.resolve("given-up");
        assertThat(processesOf(dir)).as("processes left behind").isEmpty();
        // The first segments were fetched before the server started, into the cache the server's user serves
        // from and refills: it must own it, or every call would fall back to a JVM. A failed restore keeps it.
        assertThat(Files.getOwner(dir.resolve("pg_wal/.lifeboat/prefetch")).getName()).isEqualTo(ScratchCluster.OS_USER);
        ScratchCluster.deleteTree(dir);
        Thread.sleep(3000);
        assertThat(dir).as("the removed directory came back").doesNotExist();
        assertThat(processesOf(dir)).isEmpty();
    }

    @Test
    void anInterruptedRestoreStopsItsServerAndPrefetchers() throws Exception {
        // bin/lifeboat restore as its own process (the JVM is the launcher's pid: it execs), interrupted as Ctrl-C or
        // a service manager would, once recovery runs.
        Path dir = scratch.dataDirectory("interrupted");
        Process p = new ProcessBuilder(LauncherProperty.LAUNCHER.toString(), "restore", "--config", config.toString(),
                "--cluster", "rs", "--type", "physical", "--data-directory", dir.toString(), "--start", "--port",
                Integer.toString(ScratchCluster.freePort())).redirectErrorStream(true)
                .redirectOutput(work.resolve("interrupted.log").toFile()).start();
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (!Files.exists(dir.resolve("postmaster.pid")) && p.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(dir.resolve("postmaster.pid")).as(Files.readString(work.resolve("interrupted.log"))).exists();
        p.destroy(); // SIGTERM
        assertThat(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        for (int i = 0; i < 50 && !processesOf(dir).isEmpty(); i++) {
            Thread.sleep(100); // pg_ctl start -w notices the server is gone within a moment
        }
        assertThat(processesOf(dir)).as(Files.readString(work.resolve("interrupted.log"))).isEmpty();
        assertThat(dir.resolve("postmaster.pid")).doesNotExist();
        assertThat(Files.readString(work.resolve("interrupted.log"))).contains("restore interrupted: stopped the restored server");
    }

    @Test
    void aServerKilledInRecoveryTakesItsPrefetcherWithIt() throws Exception {
        // A standby restored without --start and started by hand: restore_command's first JVM starts the detached
        // prefetcher, which lives while the server recovers. kill -9 of the server leaves postmaster.pid behind; the
        // prefetcher must still see that recovery is over, not wait for minutes.
        Path dir = scratch.dataDirectory("killed");
        try (LauncherProperty l = LauncherProperty.set()) {
            Cli.Result r = Cli.run("restore", "--config", config.toString(), "--cluster", "rs", "--type", "physical",
                    "--data-directory", dir.toString(), "--standby");
            assertThat(r.exit()).as(r.toString()).isZero();
        }
        Path log = dir.resolve("started-by-hand.log");
        io.lifeboat.postgres.ExternalProcess.Result started = new io.lifeboat.postgres.ExternalProcess(
                io.lifeboat.postgres.ExternalProcess.asUser(ScratchCluster.OS_USER, List.of(
                        pg.binDir().resolve("pg_ctl").toString(), "-D", dir.toString(), "-l", log.toString(), "-o",
                        "-p " + ScratchCluster.freePort(), "-w", "-t", "120", "start")), Map.of()).run();
        assertThat(started.exitCode()).as(started.toString()).isZero();
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (prefetchersOf(dir).isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertThat(prefetchersOf(dir)).as(Files.readString(log)).isNotEmpty();
        long postmaster = Long.parseLong(Files.readAllLines(dir.resolve("postmaster.pid")).get(0).trim());
        ProcessHandle.of(postmaster).orElseThrow().destroyForcibly();
        for (int i = 0; i < 100 && !prefetchersOf(dir).isEmpty(); i++) {
            Thread.sleep(100);
        }
        assertThat(prefetchersOf(dir)).as("prefetcher of a server killed in recovery").isEmpty();
        assertThat(dir.resolve("postmaster.pid")).exists(); // what the prefetcher had to see through
        Files.delete(dir.resolve("postmaster.pid"));
    }

    static List<String> prefetchersOf(Path dir) {
        return processesOf(dir).stream().filter(c -> c.contains("wal-prefetch")).toList();
    }
}
