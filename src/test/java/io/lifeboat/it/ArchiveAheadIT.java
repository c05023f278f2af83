package io.lifeboat.it;

import io.lifeboat.codec.Digest;
import io.lifeboat.engine.archive.PushState;
import io.lifeboat.postgres.PgSession;
import io.lifeboat.postgres.ScratchCluster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The archive-ahead process on a real server: WAL is stored before archive_command asks, the calls
 * are answered from the markers, every stored segment matches the server's file, the process leaves
 * with the server, and killing it costs nothing but speed.
 */
class ArchiveAheadIT {
    ScratchCluster pg;
    Path repo;
    Path launcher;
    String args;

    @BeforeEach
    void start() throws Exception {
        repo = Files.createTempDirectory("lifeboat-ahead-repo-");
        ScratchCluster.giveToServerUser(repo);
        pg = ScratchCluster.create(null, ScratchCluster.Options.defaults());
        launcher = Path.of("bin", "lifeboat").toAbsolutePath();
        // A short idle time so the process is seen to leave on its own too.
        args = pushArgs(repo);
        pg.appendConf("archive_mode = on", "archive_command = '" + launcher + " wal-push " + args + " %p'");
        pg.start();
    }

    @AfterEach
    void stop() {
        if (pg != null) {
            pg.close();
        }
        ScratchCluster.deleteTree(repo);
    }

    private static String pushArgs(Path repository) {
        return String.join(" ", "--repo", "file://" + repository, "--cluster", "a", "--allow-same-server", "--ahead-idle", "20");
    }

    /** The archive_command's markers and archive-ahead state. */
    private Path state() {
        return PushState.directory(pg.dataDir().resolve("pg_wal"), args);
    }

    private Optional<ProcessHandle> aheadProcess() throws IOException {
        Path pid = state().resolve("ahead.pid");
        if (!Files.exists(pid)) {
            return Optional.empty();
        }
        try {
            return ProcessHandle.of(Long.parseLong(Files.readString(pid).trim()))
                    .filter(p -> p.info().arguments().map(a -> List.of(a).contains("--ahead")).orElse(false));
        } catch (NumberFormatException | IOException e) {
            return Optional.empty(); // being rewritten or removed
        }
    }

    private void writeSegments(PgSession s, int n) throws Exception {
        for (int i = 0; i < n; i++) {
            s.execute("INSERT INTO t SELECT g, repeat('y', 300) FROM generate_series(1, 20000) g");
            s.queryValue("SELECT pg_switch_wal()");
        }
    }

    private long archivedCount(PgSession s) {
        return Long.parseLong(s.queryValue("SELECT archived_count FROM pg_stat_archiver").orElse("0"));
    }

    private void awaitArchived(PgSession s, long n) throws InterruptedException {
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (System.nanoTime() < deadline && archivedCount(s) < n) {
            Thread.sleep(200);
        }
        assertThat(archivedCount(s)).as("archived_count").isGreaterThanOrEqualTo(n);
    }

    private int aheadArchived() throws IOException {
        Path log = state().resolve("ahead.log");
        if (!Files.exists(log)) {
            return 0;
        }
        return Files.readAllLines(log).stream().flatMap(l -> Stream.of(l.split(" ")))
                .filter(f -> f.startsWith("archived=")).mapToInt(f -> Integer.parseInt(f.substring(9))).sum();
    }

    /** name → SHA-256 the repository stored it under. */
    private Map<String, String> stored() throws IOException {
        return stored(repo);
    }

    private static Map<String, String> stored(Path repository) throws IOException {
        try (Stream<Path> s = Files.walk(repository.resolve("a/wal"))) {
            return s.filter(Files::isRegularFile).map(p -> p.getFileName().toString())
                    .filter(n -> n.matches("[0-9A-F]{24}\\.sha256-[0-9a-f]{64}\\..*"))
                    .collect(Collectors.toMap(n -> n.substring(0, 24), n -> n.substring(32, 96)));
        }
    }

    /** The archive-ahead process, once it runs (at most 30 s). */
    private Optional<ProcessHandle> awaitAheadProcess() throws Exception {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (aheadProcess().isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        return aheadProcess();
    }

    @Test
    void storesAheadOfTheCallsAndLeavesWithTheServer() throws Exception {
        try (PgSession s = pg.session("postgres")) {
            s.execute("CREATE TABLE t (i int, pad text)");
            writeSegments(s, 1);
            awaitArchived(s, 1);
            // The first call ran the JVM and started the process; the next segments go through it.
            assertThat(awaitAheadProcess()).as("archive-ahead process running").isPresent();
            writeSegments(s, 6);
            awaitArchived(s, 7);
            assertThat(s.queryValue("SELECT failed_count FROM pg_stat_archiver")).contains("0");
            String last = s.queryValue("SELECT last_archived_wal FROM pg_stat_archiver").orElseThrow();
            assertThat(stored()).containsKey(last);
        }
        assertThat(aheadArchived()).as("segments stored by the archive-ahead process").isGreaterThanOrEqualTo(3);
        // Each marker names what the repository holds, and every segment still in pg_wal matches it.
        Map<String, String> stored = stored();
        try (Stream<Path> markers = Files.list(state().resolve("archived"))) {
            for (Path m : markers.toList()) {
                String name = m.getFileName().toString();
                assertThat(stored).as("stored " + name).containsEntry(name, Files.readString(m).trim());
                Path seg = pg.dataDir().resolve("pg_wal").resolve(name);
                if (Files.exists(seg)) {
                    assertThat(Digest.sha256(Files.readAllBytes(seg))).as(name).isEqualTo(stored.get(name));
                }
            }
        }
        ProcessHandle ahead = aheadProcess().orElseThrow();
        pg.stop();
        ahead.onExit().get(15, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(ahead.isAlive()).isFalse();
        assertThat(state().resolve("ahead.pid")).doesNotExist();
    }

    @Test
    void aKilledProcessOnlyCostsSpeed() throws Exception {
        try (PgSession s = pg.session("postgres")) {
            s.execute("CREATE TABLE t (i int, pad text)");
            writeSegments(s, 1);
            awaitArchived(s, 1);
            ProcessHandle ahead = awaitAheadProcess().orElseThrow();
            ahead.destroyForcibly();
            ahead.onExit().get(10, java.util.concurrent.TimeUnit.SECONDS);
            // Its pid file stays behind, naming a dead process: the launcher must not wait on it.
            long before = archivedCount(s);
            writeSegments(s, 3);
            awaitArchived(s, before + 3);
            assertThat(s.queryValue("SELECT failed_count FROM pg_stat_archiver")).contains("0");
            String last = s.queryValue("SELECT last_archived_wal FROM pg_stat_archiver").orElseThrow();
            Path seg = pg.dataDir().resolve("pg_wal").resolve(last);
            assertThat(stored()).containsKey(last);
            if (Files.exists(seg)) {
                assertThat(Digest.sha256(Files.readAllBytes(seg))).isEqualTo(stored().get(last));
            }
        }
        // The launcher asked whether the dead pid still runs: an answer, not an error in the server log.
        assertThat(pg.readLog()).as("server log").doesNotContain("/cmdline").doesNotContain("No such file or directory");
    }

    /**
     * The first call of a burst starts the archive-ahead process itself and is answered from its
     * marker: a burst costs one JVM. (It used to run a wal-push JVM, which stored the file and then
     * started the process: two JVMs, and the process found nothing to store.)
     */
    @Test
    void theFirstCallIsStoredByTheProcessItStarts() throws Exception {
        try (PgSession s = pg.session("postgres")) {
            s.execute("CREATE TABLE t (i int, pad text)");
            writeSegments(s, 1);
            awaitArchived(s, 1);
            String first = s.queryValue("SELECT last_archived_wal FROM pg_stat_archiver").orElseThrow();
            assertThat(stored()).containsKey(first);
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (aheadArchived() < 1 && System.nanoTime() < deadline) {
                Thread.sleep(100); // its journal line follows the marker
            }
            assertThat(aheadArchived()).as("segments stored by the archive-ahead process").isGreaterThanOrEqualTo(1);
            assertThat(state().resolve("archived").resolve(first)).as("its marker answered the call").exists();
        }
    }

    /**
     * A file the archive-ahead process cannot store (here: the repository holds other content under
     * its name) is noted, and its call goes to the JVM at once, which tells PostgreSQL why; without the
     * note the call waited 30 s for a marker that never came.
     */
    @Test
    void aFileTheProcessCannotStoreFailsItsCallAtOnce() throws Exception {
        for (int seg = 1; seg <= 4; seg++) {
            Path dir = Files.createDirectories(repo.resolve("a/wal/0000000100000000"));
            Files.writeString(dir.resolve(String.format("0000000100000000000000%02X", seg) + ".sha256-" + "0".repeat(64) + ".zst"), "x");
        }
        ScratchCluster.giveToServerUser(repo);
        try (PgSession s = pg.session("postgres")) {
            s.queryValue("SELECT pg_switch_wal()");
            long deadline = System.nanoTime() + 15_000_000_000L;
            while (System.nanoTime() < deadline
                    && Long.parseLong(s.queryValue("SELECT failed_count FROM pg_stat_archiver").orElse("0")) < 1) {
                Thread.sleep(200);
            }
            assertThat(Long.parseLong(s.queryValue("SELECT failed_count FROM pg_stat_archiver").orElse("0")))
                    .as("archive_command failed within 15 s").isGreaterThanOrEqualTo(1);
            assertThat(s.queryValue("SELECT archived_count FROM pg_stat_archiver")).contains("0");
        }
        assertThat(aheadProcess()).as("the archive-ahead process ran").isPresent();
        assertThat(pg.readLog()).contains("different content");
    }

    /**
     * Two wal-push calls in one archive_command, each to its own repository: a marker says "stored
     * in this command's repositories" only, so the second call is never answered by the first's
     * (it was: the second repository then never got the segments, and the push said 0).
     */
    @Test
    void twoWalPushesInOneArchiveCommandEachStoreEverySegment() throws Exception {
        Path second = Files.createTempDirectory("lifeboat-ahead-repo2-");
        ScratchCluster.giveToServerUser(second);
        try (PgSession s = pg.session("postgres")) {
            String both = launcher + " wal-push " + args + " %p && " + launcher + " wal-push " + pushArgs(second) + " %p";
            s.execute("ALTER SYSTEM SET archive_command = '" + both.replace("'", "''") + "'");
            s.queryValue("SELECT pg_reload_conf()");
            Thread.sleep(1000); // the archiver reads the new command on its next wake-up
            s.execute("CREATE TABLE t (i int, pad text)");
            long before = archivedCount(s);
            writeSegments(s, 1);
            awaitArchived(s, ++before);
            // both archive-ahead processes run by now: the next segments are answered from markers
            assertThat(awaitAheadProcess()).isPresent();
            writeSegments(s, 5);
            awaitArchived(s, before + 5);
            assertThat(s.queryValue("SELECT failed_count FROM pg_stat_archiver")).contains("0");
            String last = s.queryValue("SELECT last_archived_wal FROM pg_stat_archiver").orElseThrow();
            Map<String, String> first = stored(repo);
            Map<String, String> other = stored(second);
            assertThat(first).containsKey(last);
            assertThat(other).as("the second repository holds every segment the first holds").containsAllEntriesOf(first);
            assertThat(PushState.directory(pg.dataDir().resolve("pg_wal"), pushArgs(second)).resolve("archived"))
                    .as("the second command's own markers").isNotEmptyDirectory();
        } finally {
            pg.stop();
            ScratchCluster.deleteTree(second);
        }
    }
}
