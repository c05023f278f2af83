package io.lifeboat.it;

import io.lifeboat.catalog.Json;
import io.lifeboat.postgres.ContentChecksum;
import io.lifeboat.postgres.ExternalProcess;
import io.lifeboat.postgres.PgBinaries;
import io.lifeboat.postgres.PgSession;
import io.lifeboat.postgres.ScratchCluster;
import io.lifeboat.storage.EmbeddedS3Server;
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
 * kill -9 of a real local-mode backup process (full and incremental; file and S3 repositories),
 * then {@code backup --resume}: nothing is listed complete after the kill, the resumed backup keeps
 * the killed attempt's id and the files it stored that did not change (they are not read again),
 * reads the changed ones again, restores to the right content and passes pg_verifybackup, its
 * archives are still plain tar streams, and no journal or stray object is left.
 */
class ResumeIT {

    @Test
    void aKilledFullBackupResumesKeepingTheUnchangedFilesItStored() throws Exception {
        try (RestoreScratch w = RestoreScratch.create("resume-full");
             ScratchCluster pg = ScratchCluster.create(w.work, ScratchCluster.Options.defaults()).start()) {
            prepare(pg, 8);
            List<String> common = LocalSourceIT.common(pg, w.repo, "res");
            String killed = killMidway(w, common, w.repo.resolve("res/backups"), "--full");
            assertUnfinishedOnly(common, killed, 1);

            // changed after the kill: read again by the resumed backup
            try (PgSession s = pg.session("postgres")) {
                s.execute("UPDATE pgbench_branches SET bbalance = bbalance + 7");
                s.execute("CREATE TABLE after_kill AS SELECT g FROM generate_series(1, 1000) g");
            }
            Map<String, ContentChecksum.Entry> expected = content(pg);
            Path firstChunk = w.repo.resolve("res/backups/" + killed + "/base.tar.000001.zst");
            Object storedBefore = Files.readAttributes(firstChunk, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
            Cli.Result r = Cli.run(LocalSourceIT.args(common, "backup", "--json", "--type", "physical", "--source", "local",
                    "--include-wal", "--jobs", "2", "--full", "--resume"));
            assertThat(r.exit()).as(r.toString()).isZero();
            Map<?, ?> m = Json.MAPPER.readValue(r.out(), Map.class);
            assertThat(m.get("id")).as("the killed backup's id").isEqualTo(killed);
            assertThat(kept(m)).as("files kept from the killed attempt: " + r).isPositive();
            assertThat(Files.readAttributes(firstChunk, java.nio.file.attribute.BasicFileAttributes.class).fileKey())
                    .as("the killed attempt's first chunk is kept as it was stored, not written again").isEqualTo(storedBefore);

            Cli.Result list = Cli.run(LocalSourceIT.args(common, "list"));
            assertThat(list.out()).contains(killed).doesNotContain("unfinished");
            assertThat(objectNames(w.repo.resolve("res/backups/" + killed))).as("journal or a killed writer's temporary file left")
                    .noneMatch(n -> n.contains("resume-journal") || n.contains(".lifeboat-tmp-"));
            assertPlainTar(w.repo.resolve("res/backups/" + killed));

            Path dir = w.dataDirectory("resumed");
            Map<?, ?> restored = IncrementalIT.restore(common, killed, dir);
            assertThat((String) restored.get("verification")).startsWith("passed (pg_verifybackup 15");
            IncrementalIT.assertSameContent(Map.of("postgres", expected), port(restored), "resumed full backup");
            RestoreScratch.stop(dir);

            // Nothing unfinished now: --resume says so and takes an ordinary backup.
            Cli.Result again = Cli.run(LocalSourceIT.args(common, "backup", "--type", "physical", "--source",
                    "local", "--include-wal", "--resume"));
            assertThat(again.exit()).as(again.toString()).isZero();
            assertThat(again.out() + again.err()).contains("nothing to resume");
            assertThat(again.out()).doesNotContain(killed);
        }
    }

    @Test
    void aKilledIncrementalOnS3ResumesOnTheSameParent() throws Exception {
        try (RestoreScratch w = RestoreScratch.create("resume-incr");
             EmbeddedS3Server s3 = EmbeddedS3Server.start(w.work.resolve("s3"));
             ScratchCluster pg = ScratchCluster.create(w.work, ScratchCluster.Options.defaults()
                     .withConf("wal_log_hints = on")).start()) {
            s3.createBucket("backups");
            prepare(pg, 8);
            Path cfg = w.work.resolve("lifeboat.yml");
            Files.writeString(cfg, """
                    clusters:
                      inc:
                        postgres: {host: 127.0.0.1, port: %d, user: postgres}
                        repositories:
                          - name: s3
                            uri: s3://backups/p?endpoint=%s&region=us-east-1&path-style=true
                            access-key-id: %s
                            secret-access-key: %s
                            allow-same-server: true
                    """.formatted(pg.port(), s3.endpoint(), s3.accessKey(), s3.secretKey()));
            List<String> common = List.of("--config", cfg.toString());
            String fullId = (String) IncrementalIT.backup(common, "--full").get("id");
            try (PgSession s = pg.session("postgres")) {
                s.execute("UPDATE pgbench_accounts SET abalance = abalance + 1"); // every page: a big incremental
                s.execute("VACUUM pgbench_accounts");
                s.execute("CHECKPOINT");
            }
            Thread.sleep(2100); // the files' last change well before the listing (UnchangedSince's margin)
            String killed = killMidway(w, common, w.work.resolve("s3/backups/p/inc/backups"), "--incremental");
            assertUnfinishedOnly(common, killed, 2);

            try (PgSession s = pg.session("postgres")) {
                s.execute("UPDATE pgbench_branches SET bbalance = bbalance + 3");
            }
            Map<String, ContentChecksum.Entry> expected = content(pg);
            Cli.Result r = Cli.run(LocalSourceIT.args(common, "backup", "--json", "--type", "physical", "--source", "local",
                    "--include-wal", "--jobs", "2", "--incremental", "--resume"));
            assertThat(r.exit()).as(r.toString()).isZero();
            Map<?, ?> m = Json.MAPPER.readValue(r.out(), Map.class);
            assertThat(m.get("id")).isEqualTo(killed);
            assertThat(m.get("parent")).isEqualTo(fullId);
            assertThat(kept(m)).as("files kept from the killed attempt: " + r).isPositive();

            Path dir = w.dataDirectory("resumed-incr");
            Map<?, ?> restored = IncrementalIT.restore(common, killed, dir);
            assertThat((String) restored.get("verification")).startsWith("passed (pg_verifybackup 15");
            IncrementalIT.assertSameContent(Map.of("postgres", expected), port(restored), "resumed incremental");
            RestoreScratch.stop(dir);
            assertThat(Cli.run(LocalSourceIT.args(common, "list")).out()).doesNotContain("unfinished");
        }
    }

    /** A killed full backup, then an ordinary one: the killed one stays unfinished, and --resume does not pick it up. */
    @Test
    void afterAKilledBackupTheNextOrdinaryBackupWorksAndResumeDoesNotPickAnOlderAttempt() throws Exception {
        try (RestoreScratch w = RestoreScratch.create("resume-next");
             ScratchCluster pg = ScratchCluster.create(w.work, ScratchCluster.Options.defaults()).start()) {
            prepare(pg, 8);
            List<String> common = LocalSourceIT.common(pg, w.repo, "nx");
            // A backup that is still being taken (its process stopped, its server session alive) is not resumed.
            String killed = killMidway(w, common, w.repo.resolve("nx/backups"), "--full", p -> {
                assertThat(new ProcessBuilder("kill", "-STOP", Long.toString(p.pid())).start().waitFor()).isZero();
                Cli.Result live = Cli.run(LocalSourceIT.args(common, "backup", "--type", "physical", "--source", "local",
                        "--include-wal", "--full", "--resume"));
                assertThat(live.exit()).as(live.toString()).isEqualTo(9);
                assertThat(live.err()).contains("is still being taken");
            });
            Map<?, ?> next = IncrementalIT.backup(common, "--full");
            assertThat(next.get("id")).isNotEqualTo(killed);
            Cli.Result r = Cli.run(LocalSourceIT.args(common, "backup", "--type", "physical", "--source", "local",
                    "--include-wal", "--resume"));
            assertThat(r.exit()).as(r.toString()).isZero();
            assertThat(r.out() + r.err()).contains("nothing to resume: the newest unfinished backup " + killed + " is older than");
            Cli.Result list = Cli.run(LocalSourceIT.args(common, "list"));
            assertThat(list.out().lines().filter(l -> l.startsWith(killed)).findFirst().orElseThrow()).contains("unfinished");
            // expire keeps the unfinished attempt (within its grace) but removes the temporary files its killed
            // uploads left (their process is gone); a planted one of a writer that is alive (this JVM) stays
            Path killedDir = w.repo.resolve("nx/backups/" + killed);
            long cutShort = objectNames(killedDir).stream().filter(n -> n.contains(".lifeboat-tmp-")).count();
            Path liveWriter = Files.createFile(killedDir.resolve(".lifeboat-tmp-" + Files.readString(
                    Path.of("/proc/sys/kernel/hostname")).trim().replaceAll("[^A-Za-z0-9-]", "-") + "~"
                    + ProcessHandle.current().pid() + "~" + ProcessHandle.current().info().startInstant().orElseThrow()
                    .toEpochMilli() + "~x.1"));
            Cli.Result expire = Cli.run(LocalSourceIT.args(common, "expire", "--keep-physical", "5"));
            assertThat(expire.exit()).as(expire.toString()).isZero();
            if (cutShort > 0) {
                assertThat(expire.out() + expire.err()).contains("removed " + cutShort + " temporary files");
            }
            assertThat(objectNames(killedDir).stream().filter(n -> n.contains(".lifeboat-tmp-")))
                    .containsExactly(liveWriter.getFileName().toString());
            Files.delete(liveWriter);
            assertThat(Cli.run(LocalSourceIT.args(common, "delete", killed)).exit()).isZero();
            // nothing of it, not even a temporary file of an upload the kill cut short
            assertThat(w.repo.resolve("nx/backups/" + killed)).doesNotExist();
        }
    }

    /** pgbench data whose files last changed more than UnchangedSince's margin before the backup lists them. */
    static void prepare(ScratchCluster pg, int scale) throws Exception {
        PgBinaries.Tool pgbench = new PgBinaries(pg.binDir()).newest("pgbench");
        new ExternalProcess(List.of(pgbench.path().toString(), "-i", "-q", "-s", Integer.toString(scale)),
                pg.connection("postgres").libpqEnvironment()).runChecked("pgbench -i");
        try (PgSession s = pg.session("postgres")) {
            s.execute("VACUUM");
            s.execute("CHECKPOINT");
        }
        Thread.sleep(2100);
    }

    /** Starts a local-mode backup process and kills it (-9) once its journal has recorded some stored chunks. */
    static String killMidway(RestoreScratch w, List<String> common, Path backups, String kind) throws Exception {
        return killMidway(w, common, backups, kind, p -> { });
    }

    interface WhileRunning {
        void run(Process p) throws Exception;
    }

    /** As above, running {@code before} while the backup is still alive, just before the kill. */
    static String killMidway(RestoreScratch w, List<String> common, Path backups, String kind, WhileRunning before)
            throws Exception {
        Path launcher = Path.of("bin", "lifeboat").toAbsolutePath();
        assertThat(Path.of("target", "lifeboat.jar")).as("built by mvn package before the ITs").exists();
        List<String> cmd = new ArrayList<>(List.of(launcher.toString(), "backup", "--type", "physical", "--source",
                "local", kind, "--include-wal", "--jobs", "1"));
        cmd.addAll(common);
        Path log = w.work.resolve("killed" + System.nanoTime() + ".log");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("LIFEBOAT_JAVA_OPTS", "-Dlifeboat.chunk-mib=1 -Dlifeboat.resume-journal-ms=100");
        Process p = pb.start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (journalRefs(backups) < 3 && p.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertThat(p.isAlive()).as("backup still running when its journal has some chunks: " + Files.readString(log))
                    .isTrue();
            before.run(p);
        } finally {
            p.destroyForcibly();
            p.waitFor();
        }
        try (Stream<Path> s = Files.list(backups)) {
            List<Path> dirs = s.filter(d -> objectNames(d).stream().anyMatch(n -> n.contains("resume-journal"))).toList();
            assertThat(dirs).hasSize(1);
            return dirs.get(0).getFileName().toString();
        }
    }

    private static void assertUnfinishedOnly(List<String> common, String killed, int rows) {
        Cli.Result list = Cli.run(LocalSourceIT.args(common, "list"));
        assertThat(list.exit()).as(list.toString()).isZero();
        List<String> lines = list.out().lines().filter(l -> l.matches("^\\d{8}T\\d{6}Z-P.*")).toList();
        assertThat(lines).as(list.out()).hasSize(rows);
        assertThat(lines.stream().filter(l -> l.startsWith(killed)).findFirst().orElseThrow()).contains("unfinished");
        Cli.Result refused = Cli.run(LocalSourceIT.args(common, "verify", "--backup", killed));
        assertThat(refused.exit()).as(refused.toString()).isNotZero();
    }

    private static int journalRefs(Path backups) {
        if (!Files.isDirectory(backups)) {
            return 0;
        }
        try (Stream<Path> s = Files.walk(backups)) {
            return (int) s.filter(p -> p.getFileName().toString().endsWith(".ref")).count();
        } catch (Exception e) {
            return 0; // a file renamed while walking
        }
    }

    static List<String> objectNames(Path dir) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).map(p -> dir.relativize(p).toString()).toList();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** base.tar's chunks, decompressed and joined, are one tar stream that tar lists to its end. */
    private static void assertPlainTar(Path backupDir) throws Exception {
        List<String> chunks = objectNames(backupDir).stream().filter(n -> n.matches("base\\.tar\\.\\d{6}\\.zst")).sorted()
                .toList();
        assertThat(chunks).isNotEmpty();
        StringBuilder sh = new StringBuilder("cd '" + backupDir + "' && cat");
        chunks.forEach(c -> sh.append(' ').append(c));
        sh.append(" | zstd -dc | tar tf - > /dev/null");
        Process p = new ProcessBuilder("sh", "-c", sh.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as("tar of the resumed base.tar: " + out).isZero();
        assertThat(out).as("tar's warnings").isEmpty();
    }

    private static int kept(Map<?, ?> backup) {
        return backup.get("filesResumed") == null ? 0 : ((Number) backup.get("filesResumed")).intValue();
    }

    private static Map<String, ContentChecksum.Entry> content(ScratchCluster pg) {
        try (PgSession s = pg.session("postgres")) {
            return ContentChecksum.of(s);
        }
    }

    private static int port(Map<?, ?> restoreResult) {
        return (Integer) ((Map<?, ?>) restoreResult.get("server")).get("port");
    }
}
