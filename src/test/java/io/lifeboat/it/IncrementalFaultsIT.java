package io.lifeboat.it;

import io.lifeboat.catalog.Json;
import io.lifeboat.postgres.ContentChecksum;
import io.lifeboat.postgres.ControlFile;
import io.lifeboat.postgres.ExternalProcess;
import io.lifeboat.postgres.PgBinaries;
import io.lifeboat.postgres.PgConnectionSettings;
import io.lifeboat.postgres.PgSession;
import io.lifeboat.postgres.ScratchCluster;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Faults and bad input around block-level incrementals and delta restores, on real PostgreSQL 15
 * clusters: kill -9 in the middle of an incremental; a delta restore into a running server's
 * directory, another cluster's, or one that holds no cluster; a chain that would cross a timeline
 * switch, pg_resetwal, or another system.
 */
class IncrementalFaultsIT {

    /**
     * kill -9 of an incremental in the middle of its upload: it is listed unfinished, nothing is
     * listed complete that was not, the server's backup is over (its session died with the process),
     * and the next incremental builds on the last complete backup and restores to the right content.
     */
    @Test
    void aKilledIncrementalIsUnfinishedAndTheNextOneBuildsOnTheLastCompleteBackup() throws Exception {
        Path launcher = Path.of("bin", "lifeboat").toAbsolutePath();
        assertThat(Path.of("target", "lifeboat.jar")).as("built by mvn package before the ITs").exists();
        try (RestoreScratch w = RestoreScratch.create("incr-kill");
             ScratchCluster pg = ScratchCluster.create(w.work, ScratchCluster.Options.defaults()
                     .withConf("wal_log_hints = on")).start()) {
            pgbench(pg, 8);
            List<String> common = LocalSourceIT.common(pg, w.repo, "kill");
            Map<?, ?> full = IncrementalIT.backup(common, "--full");
            try (PgSession s = pg.session("postgres")) {
                s.execute("UPDATE pgbench_accounts SET abalance = abalance + 1"); // every page: a big incremental
            }
            List<String> cmd = new ArrayList<>(List.of(launcher.toString(), "backup", "--type", "physical", "--source",
                    "local", "--incremental", "--include-wal", "--jobs", "1"));
            cmd.addAll(common);
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(w.work.resolve("killed.log").toFile());
            pb.environment().put("LIFEBOAT_JAVA_OPTS", "-Dlifeboat.chunk-mib=1"); // many small objects: caught mid-way
            Process backup = pb.start();
            Path backups = w.repo.resolve("kill/backups");
            String fullId = (String) full.get("id");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (dataObjectsOfAnotherBackup(backups, fullId) < 3 && backup.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(backup.isAlive()).as("incremental still running when its first objects are stored: "
                    + Files.readString(w.work.resolve("killed.log"))).isTrue();
            backup.destroyForcibly();
            backup.waitFor();

            Cli.Result list = Cli.run(LocalSourceIT.args(common, "list"));
            assertThat(list.exit()).as(list.toString()).isZero();
            List<String> rows = list.out().lines().filter(l -> l.matches("^\\d{8}T\\d{6}Z-P.*")).toList();
            assertThat(rows).as(list.out()).hasSize(2);
            String killed = rows.stream().filter(l -> !l.startsWith(fullId)).findFirst().orElseThrow().split("\\s+")[0];
            assertThat(rows.stream().filter(l -> l.startsWith(killed)).findFirst().orElseThrow()).contains("unfinished");
            assertThat(rows.stream().filter(l -> l.startsWith(fullId)).findFirst().orElseThrow()).doesNotContain("unfinished");

            Cli.Result refused = Cli.run(LocalSourceIT.args(common, "restore", "--backup", killed, "--data-directory",
                    w.work.resolve("never").toString()));
            assertThat(refused.exit()).as(refused.toString()).isEqualTo(9);
            assertThat(refused.err()).contains("unfinished");
            assertThat(w.work.resolve("never")).doesNotExist();

            sql(pg.port(), "UPDATE pgbench_branches SET bbalance = bbalance + 7");
            Map<String, Map<String, ContentChecksum.Entry>> expected = content(pg.port());
            Map<?, ?> next = IncrementalIT.backup(common, "--incremental");
            assertThat(next.get("incremental")).isEqualTo(true);
            assertThat(next.get("parent")).as("built on the complete backup, not the killed one").isEqualTo(fullId);
            Path dir = w.dataDirectory("after-kill");
            Map<?, ?> r = IncrementalIT.restore(common, (String) next.get("id"), dir);
            assertThat((String) r.get("verification")).startsWith("passed (pg_verifybackup 15");
            IncrementalIT.assertSameContent(expected, port(r), "incremental after the killed one");
            RestoreScratch.stop(dir);

            // The killed backup's objects go with delete (or expire, after its grace).
            Cli.Result del = Cli.run(LocalSourceIT.args(common, "delete", killed));
            assertThat(del.exit()).as(del.toString()).isZero();
            assertThat(Cli.run(LocalSourceIT.args(common, "list")).out()).doesNotContain(killed);
            // (A temporary file of the upload the kill cut short may stay: the storage never lists those.)
            assertThat(countOf(backups, killed)).as("objects of the killed backup left").isZero();
        }
    }

    /**
     * A delta restore refuses a directory a server runs on, another cluster's directory, and a
     * non-empty directory that holds no cluster, and changes nothing in any of them.
     */
    @Test
    void aDeltaRestoreRefusesARunningServerAnotherClusterAndADirectoryWithoutACluster() throws Exception {
        try (RestoreScratch w = RestoreScratch.create("incr-delta-refuse");
             ScratchCluster pg = ScratchCluster.create(w.work, ScratchCluster.Options.defaults()
                     .withConf("wal_log_hints = on")).start();
             ScratchCluster other = ScratchCluster.create(w.work, ScratchCluster.Options.defaults())) {
            try (PgSession s = pg.session("postgres")) {
                s.execute("CREATE TABLE t AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 20000) g");
            }
            List<String> common = LocalSourceIT.common(pg, w.repo, "dr");
            String id = (String) IncrementalIT.backup(common, "--full").get("id");

            Path running = w.dataDirectory("running");
            Map<?, ?> r = IncrementalIT.restore(common, id, running);
            int port = port(r);
            try (PgSession s = session(port)) {
                s.execute("CREATE TABLE written_after_restore (x int)");
            }
            Map<String, Long> before = listing(running);
            Cli.Result live = delta(common, id, running);
            assertThat(live.exit()).as(live.toString()).isEqualTo(9);
            assertThat(live.err()).contains("a server is running on " + running).contains("pg_ctl stop");
            assertThat(listing(running)).as("nothing changed in the running server's directory").isEqualTo(before);
            try (PgSession s = session(port)) {
                assertThat(s.queryValue("SELECT count(*) FROM written_after_restore")).contains("0");
            }
            RestoreScratch.stop(running);

            Path foreign = other.dataDir();
            Map<String, Long> foreignBefore = listing(foreign);
            Cli.Result wrong = delta(common, id, foreign);
            assertThat(wrong.exit()).as(wrong.toString()).isEqualTo(9);
            assertThat(wrong.err()).contains("belongs to the cluster with system identifier "
                    + ControlFile.systemIdentifier(foreign));
            assertThat(listing(foreign)).as("nothing changed in the other cluster's directory").isEqualTo(foreignBefore);

            Path notACluster = Files.createDirectory(w.work.resolve("not-a-cluster"));
            Files.writeString(notACluster.resolve("notes.txt"), "mine");
            Cli.Result none = delta(common, id, notACluster);
            assertThat(none.exit()).as(none.toString()).isEqualTo(9);
            assertThat(none.err()).contains("holds no PostgreSQL cluster");
            assertThat(Files.readString(notACluster.resolve("notes.txt"))).isEqualTo("mine");
        }
    }

    /**
     * Histories that are not the chain's. A copy restored to a target and promoted runs on timeline 2:
     * its "incremental" is a full backup, and says why, and so is the original's next one.
     * pg_resetwal moves the WAL forward, so page LSNs still only grow and the next incremental holds
     * every change. Another system under the same cluster name is refused before anything is stored.
     * And the server's own directory rolled back in place by a delta restore of an older backup (its
     * WAL with it: the same timeline and system, the same inodes) goes its own way from a point
     * before the newest backup: its pages whose LSN is older than the newest backup's start but whose
     * bytes are not the chain's are stored (a warning says why), and its incremental restores right.
     */
    @Test
    void historiesThatAreNotTheChainsTimelinesPgResetwalAnotherSystemAndARollbackInPlace() throws Exception {
        try (RestoreScratch w = RestoreScratch.create("incr-tli");
             ScratchCluster pg = ScratchCluster.create(w.work, ScratchCluster.Options.defaults()
                     .withConf("wal_log_hints = on")).start();
             ScratchCluster other = ScratchCluster.create(w.work, ScratchCluster.Options.defaults()
                     .withConf("wal_log_hints = on")).start()) {
            sql(pg.port(), "CREATE TABLE t AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 20000) g");
            List<String> common = LocalSourceIT.common(pg, w.repo, "tli");
            String fullId = (String) IncrementalIT.backup(common, "--full").get("id");

            // A copy restored to a target and promoted: timeline 2.
            Path promoted = w.dataDirectory("promoted");
            int promotedPort;
            try (LauncherProperty launcher = LauncherProperty.set()) { // restore_command runs bin/lifeboat wal-fetch
                promotedPort = port(IncrementalIT.restore(common, fullId, promoted, "--target", "immediate"));
            }
            assertThat(timeline(promotedPort)).isNotEqualTo("1");
            sql(promotedPort, "UPDATE t SET v = 'promoted' WHERE id <= 100");
            Cli.Result p = Cli.run(LocalSourceIT.args(at(common, promotedPort), "backup", "--type", "physical",
                    "--source", "local", "--include-wal", "--incremental"));
            assertThat(p.exit()).as(p.toString()).isZero();
            assertThat(p.err()).contains("this backup is a full backup: the server is on timeline")
                    .contains("ended on timeline 1").containsPattern("backup \\S+ complete \\(full\\)");
            RestoreScratch.stop(promoted);
            Cli.Result back = Cli.run(LocalSourceIT.args(common, "backup", "--type", "physical", "--source",
                    "local", "--include-wal", "--incremental"));
            assertThat(back.exit()).as(back.toString()).isZero();
            assertThat(back.err()).contains("this backup is a full backup: the server is on timeline 1")
                    .containsPattern("backup \\S+ complete \\(full\\)");
            Map<?, ?> backFull = Map.of("id", completedId(back.err()));

            // The newest backup an incremental of B; then the directory is rolled back in place to B. It changes
            // pages at LSNs below the incremental's start, then writes WAL until it is past that backup's end.
            sql(pg.port(), "UPDATE t SET v = 'after B' WHERE id <= 2000");
            Map<?, ?> afterB = IncrementalIT.backup(common, "--incremental");
            assertThat(afterB.get("parent")).isEqualTo(backFull.get("id"));
            pg.stop("fast");
            Path data = pg.dataDir();
            int rolledPort = port(IncrementalIT.restore(common, (String) backFull.get("id"), data, "--delta"));
            try {
                assertThat(timeline(rolledPort)).isEqualTo("1");
                sql(rolledPort, "UPDATE t SET v = 'rolled back' WHERE id > 18000",
                        "CREATE TABLE junk AS SELECT g, repeat('j', 500) AS v FROM generate_series(1, 60000) g");
                Map<String, Map<String, ContentChecksum.Entry>> rolled = content(rolledPort);
                Map<?, ?> onRolled = IncrementalIT.backup(at(common, rolledPort), "--incremental");
                assertThat(onRolled.get("parent")).isEqualTo(afterB.get("id"));
                assertThat((String) onRolled.get("notes")).contains("differ from the chain's copy and were stored");
                Path again = w.dataDirectory("rolled-back");
                Map<?, ?> rr = IncrementalIT.restore(common, (String) onRolled.get("id"), again);
                assertThat((String) rr.get("verification")).startsWith("passed (pg_verifybackup 15");
                IncrementalIT.assertSameContent(rolled, port(rr), "the rolled-back server's incremental");
                RestoreScratch.stop(again);
            } finally {
                RestoreScratch.stop(data);
            }
            pg.start();

            // pg_resetwal: WAL starts again further on; the incremental after it holds every change.
            sql(pg.port(), "UPDATE t SET v = 'before the reset' WHERE id % 3 = 0");
            pg.stop("fast");
            new ExternalProcess(List.of("runuser", "-u", ScratchCluster.OS_USER, "--",
                    new PgBinaries(pg.binDir()).newest("pg_resetwal").path().toString(), "-D", pg.dataDir().toString()),
                    Map.of()).runChecked("pg_resetwal");
            pg.start();
            sql(pg.port(), "UPDATE t SET v = 'after the reset' WHERE id % 5 = 0",
                    "INSERT INTO t SELECT g, 'new' FROM generate_series(20001, 30000) g");
            Map<String, Map<String, ContentChecksum.Entry>> expected = content(pg.port());
            Map<?, ?> afterReset = IncrementalIT.backup(common, "--incremental");
            assertThat(afterReset.get("incremental")).isEqualTo(true);
            Path dir = w.dataDirectory("after-reset");
            Map<?, ?> r = IncrementalIT.restore(common, (String) afterReset.get("id"), dir);
            assertThat((String) r.get("verification")).startsWith("passed (pg_verifybackup 15");
            IncrementalIT.assertSameContent(expected, port(r), "after pg_resetwal");
            RestoreScratch.stop(dir);

            // Another system under the same name: refused, nothing stored, the chain as it was.
            String listBefore = Cli.run(LocalSourceIT.args(common, "list")).out();
            Cli.Result alien = Cli.run(LocalSourceIT.args(at(common, other.port()), "backup", "--type", "physical",
                    "--source", "local", "--include-wal", "--incremental"));
            assertThat(alien.exit()).as(alien.toString()).isEqualTo(9);
            assertThat(alien.err()).contains("belongs to the cluster with system identifier");
            assertThat(Cli.run(LocalSourceIT.args(common, "list")).out()).isEqualTo(listBefore);

        }
    }

    /**
     * Encrypted to an age recipient, with only the public key on the database host: full backups
     * with --source local work; an incremental reads its parent's file index, so it needs the
     * identity, says so (exit 13) and stores nothing; with the identity it is an incremental.
     */
    @Test
    void anEncryptedIncrementalNeedsTheIdentityAndStoresNothingWithoutIt() throws Exception {
        try (RestoreScratch w = RestoreScratch.create("incr-enc");
             ScratchCluster pg = ScratchCluster.create(w.work, ScratchCluster.Options.defaults()
                     .withConf("wal_log_hints = on")).start()) {
            sql(pg.port(), "CREATE TABLE t AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 20000) g");
            Path identity = w.work.resolve("key.txt");
            Cli.Result k = Cli.run("keygen", "--json", "-o", identity.toString());
            assertThat(k.exit()).as(k.toString()).isZero();
            String recipient = (String) Json.MAPPER.readValue(k.out(), Map.class).get("recipient");
            Path config = LocalSourceIT.localConfig(w.work.resolve("lifeboat.yml"), "enc", pg.port(), w.repo,
                    "    encryption:\n      recipients:\n        - " + recipient + "\n");
            String[] backup = {"backup", "--config", config.toString(), "--type", "physical", "--include-wal"};
            Cli.Result full = Cli.run(backup);
            assertThat(full.exit()).as(full.toString()).isZero();
            sql(pg.port(), "UPDATE t SET v = 'changed' WHERE id <= 500");
            String before = Cli.run("list", "--config", config.toString()).out();

            Cli.Result refused = Cli.run(concat(backup, "--incremental"));
            assertThat(refused.exit()).as(refused.toString()).isEqualTo(13);
            assertThat(refused.err()).contains("no identity is configured");
            assertThat(Cli.run("list", "--config", config.toString()).out()).isEqualTo(before);

            Cli.Result inc = Cli.run(concat(backup, "--incremental", "--identity-file", identity.toString()));
            assertThat(inc.exit()).as(inc.toString()).isZero();
            assertThat(inc.err()).contains("complete (incremental of ");
        }
    }

    private static String[] concat(String[] a, String... b) {
        return Stream.concat(Stream.of(a), Stream.of(b)).toArray(String[]::new);
    }

    /** The id in "backup ID complete" of a backup's log. */
    private static String completedId(String log) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("backup (\\S+) complete").matcher(log);
        assertThat(m.find()).as(log).isTrue();
        return m.group(1);
    }

    /** The same options with another server's port. */
    private static List<String> at(List<String> common, int port) {
        List<String> out = new ArrayList<>(common);
        out.set(out.indexOf("--pg-port") + 1, Integer.toString(port));
        return out;
    }

    private static String timeline(int port) {
        try (PgSession s = session(port)) {
            return s.queryValue("SELECT timeline_id::text FROM pg_control_checkpoint()").orElseThrow();
        }
    }

    private static void sql(int port, String... statements) {
        try (PgSession s = session(port)) {
            for (String st : statements) {
                s.execute(st);
            }
        }
    }

    private static Map<String, Map<String, ContentChecksum.Entry>> content(int port) {
        try (PgSession s = session(port)) {
            return Map.of("postgres", ContentChecksum.of(s));
        }
    }

    private static Cli.Result delta(List<String> common, String id, Path dir) throws Exception {
        return Cli.run(LocalSourceIT.args(common, "restore", "--backup", id, "--data-directory", dir.toString(),
                "--delta", "--start", "--port", Integer.toString(ScratchCluster.freePort())));
    }

    /** Every path under a directory with its size (postmaster.pid and the server's log change on their own). */
    private static Map<String, Long> listing(Path dir) throws Exception {
        Map<String, Long> out = new java.util.TreeMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            s.filter(Files::isRegularFile).forEach(p -> {
                String rel = dir.relativize(p).toString();
                if (rel.equals(ControlFile.PATH) || rel.equals("PG_VERSION") || rel.startsWith("base/")
                        || rel.startsWith("global/")) {
                    out.put(rel, p.toFile().length());
                }
            });
        }
        return out;
    }

    private static int dataObjectsOfAnotherBackup(Path backups, String not) throws Exception {
        if (!Files.isDirectory(backups)) {
            return 0;
        }
        try (Stream<Path> s = Files.walk(backups)) {
            return (int) s.filter(p -> !p.startsWith(backups.resolve(not)) && p.getFileName().toString().contains(".tar.")
                    && !p.getFileName().toString().startsWith(".")).count();
        }
    }

    /** Data objects (tar chunks) stored for one backup. */
    private static int countOf(Path backups, String id) throws Exception {
        if (!Files.isDirectory(backups.resolve(id))) {
            return 0;
        }
        try (Stream<Path> s = Files.walk(backups.resolve(id))) {
            return (int) s.filter(p -> p.getFileName().toString().contains(".tar.")
                    && !p.getFileName().toString().startsWith(".")).count();
        }
    }

    private static void pgbench(ScratchCluster pg, int scale) {
        PgBinaries.Tool pgbench = new PgBinaries(pg.binDir()).newest("pgbench");
        new ExternalProcess(List.of(pgbench.path().toString(), "-i", "-q", "-s", Integer.toString(scale)),
                pg.connection("postgres").libpqEnvironment()).runChecked("pgbench -i");
    }

    private static int port(Map<?, ?> restoreResult) {
        return (Integer) ((Map<?, ?>) restoreResult.get("server")).get("port");
    }

    private static PgSession session(int port) {
        return PgSession.open(new PgConnectionSettings("127.0.0.1", port, "postgres", "postgres", null, null));
    }
}
