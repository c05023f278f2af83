package io.lifeboat.it;

import io.lifeboat.ErrorKind;
import io.lifeboat.catalog.Json;
import io.lifeboat.postgres.Lsn;
import io.lifeboat.postgres.PgSession;
import io.lifeboat.postgres.ScratchCluster;
import io.lifeboat.postgres.WalSegmentName;
import io.lifeboat.storage.EmbeddedS3Server;
import io.lifeboat.storage.ObjectInfo;
import io.lifeboat.storage.S3Storage;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A cluster archiving its WAL to two repositories (S3 through s3proxy, and a directory): the
 * physical restore drill replays the archive past the backup and is recorded; verify names a
 * missing archived segment (a gap after the backup, then the backup's own WAL) and a damaged
 * object, each with the repository it is in.
 */
class PhysicalDrillIT {
    @Test
    void physicalDrillWalContinuityAndEveryRepository() throws Exception {
        Path work = Files.createTempDirectory("lifeboat-drillit-");
        Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path dir = Files.createDirectory(work.resolve("nfs"));
        Files.createDirectories(dir.resolve("drill/wal"));
        ScratchCluster.giveToServerUser(dir); // wal-push and wal-fetch run as the server's user
        Path launcher = LauncherProperty.LAUNCHER;
        LauncherProperty property = LauncherProperty.set();
        try (EmbeddedS3Server s3 = EmbeddedS3Server.start(work.resolve("s3"))) {
            s3.createBucket("backups");
            ScratchCluster pg = ScratchCluster.create(work, ScratchCluster.Options.defaults());
            Path config = work.resolve("lifeboat.yml");
            Files.writeString(config, """
                    clusters:
                      drill:
                        postgres:
                          host: 127.0.0.1
                          port: %d
                          user: postgres
                        repositories:
                          - name: a
                            uri: s3://backups/pg?endpoint=%s&region=us-east-1&path-style=true
                            access-key-id: %s
                            secret-access-key: %s
                            allow-same-server: true
                          - name: b
                            uri: file://%s
                            allow-same-server: true
                    """.formatted(pg.port(), s3.endpoint(), s3.accessKey(), s3.secretKey(), dir));
            pg.appendConf("archive_mode = on", "archive_command = '" + launcher + " wal-push --config " + config
                    + " --cluster drill %p'");
            pg.start();
            try {
                run(pg, config, dir, s3);
            } finally {
                pg.close();
            }
        } finally {
            property.close();
            ScratchCluster.deleteTree(work);
        }
    }

    private static void run(ScratchCluster pg, Path config, Path dir, EmbeddedS3Server s3) throws Exception {
        // A tablespace: the drill must map it into its scratch directory (the original location is in use).
        Path space = Files.createDirectory(pg.baseDir().getParent().resolve("space"));
        ScratchCluster.giveToServerUser(space);
        try (PgSession s = pg.session("postgres")) {
            s.execute("CREATE TABLESPACE space LOCATION '" + space + "'");
            s.execute("CREATE TABLE t (i int PRIMARY KEY, pad text)");
            s.execute("INSERT INTO t SELECT g, repeat('a', 50) FROM generate_series(1, 1000) g");
            s.execute("CREATE TABLE u (i int PRIMARY KEY) TABLESPACE space");
            s.execute("INSERT INTO u SELECT generate_series(1, 200)");
        }
        Cli.Result b = Cli.run(cmd(config, "backup", "--json", "--type", "physical"));
        assertThat(b.exit()).as(b.toString()).isZero();
        Map<?, ?> backup = Json.MAPPER.readValue(b.out(), Map.class);
        String id = (String) backup.get("id");
        assertThat(backup.get("walIncluded")).isEqualTo(false);

        // Changes after the backup, in two more archived segments: the drill must replay them from the archive.
        Lsn written;
        try (PgSession s = pg.session("postgres")) {
            s.execute("INSERT INTO t SELECT g, repeat('b', 50) FROM generate_series(1001, 1500) g");
            Archiving.switchAndAwait(s);
            s.execute("INSERT INTO t SELECT g, repeat('c', 50) FROM generate_series(1501, 1800) g");
            written = Lsn.parse(s.queryValue("SELECT pg_current_wal_lsn()::text").orElseThrow());
            Archiving.switchAndAwait(s);
        }

        Cli.Result v = Cli.run(cmd(config, "verify", "--restore-test", "--json", "--scratch-directory",
                pg.baseDir().getParent().resolve("scratch").toString()));
        assertThat(v.exit()).as(v.toString()).isZero();
        Map<?, ?> result = Json.MAPPER.readValue(v.out(), Map.class);
        List<?> repos = (List<?>) result.get("repositories");
        assertThat(repos).hasSize(2);
        for (Object r : repos) {
            Map<?, ?> backupReport = (Map<?, ?>) ((List<?>) ((Map<?, ?>) r).get("backups")).get(0);
            Map<?, ?> wal = (Map<?, ?>) backupReport.get("wal");
            assertThat(wal.get("ok")).as(r.toString()).isEqualTo(true);
            assertThat(Lsn.parse((String) wal.get("recoverableTo"))).isGreaterThan(written);
        }
        Map<?, ?> drill = (Map<?, ?>) ((List<?>) result.get("restoreTests")).get(0);
        assertThat(drill.get("ok")).as(v.toString()).isEqualTo(true);
        assertThat(drill.get("backup")).isEqualTo(id);
        // Replay went past the last change made after the backup: the archive was replayed, not just the backup's WAL.
        assertThat(Lsn.parse((String) drill.get("recoveredTo"))).isGreaterThanOrEqualTo(written);
        Map<?, ?> checks = (Map<?, ?>) drill.get("checks");
        assertThat((String) checks.get("pg_verifybackup")).startsWith("passed (pg_verifybackup").contains("-n");
        assertThat((String) checks.get("rows postgres")).isEqualTo("2 tables, 2000 rows readable");
        assertThat((String) checks.get("amcheck postgres")).endsWith("btree indexes consistent with their tables");
        assertThat((String) checks.get("recovery")).contains("promoted on timeline 2");
        double seconds = ((Number) drill.get("restoreSeconds")).doubleValue();
        System.out.println("physical restore drill: restore + recovery took " + seconds + " s");
        try (Stream<Path> left = Files.list(pg.baseDir().getParent().resolve("scratch"))) {
            assertThat(left).as("the scratch copy is deleted").isEmpty();
        }
        // ... and nothing of it runs on: neither its server nor a WAL prefetcher its recovery started
        String scratchDir = pg.baseDir().getParent().resolve("scratch").toString();
        Thread.sleep(1000);
        assertThat(ProcessHandle.allProcesses().map(p -> p.info().commandLine().orElse(""))
                .filter(c -> c.contains(scratchDir))).as("processes of the drill").isEmpty();
        try (Stream<Path> left = Files.list(pg.baseDir().getParent().resolve("scratch"))) {
            assertThat(left).as("nothing wrote into the removed scratch copy").isEmpty();
        }
        // The drill's promoted copy did not archive its timeline 2 into the repository.
        try (Stream<Path> wal = Files.walk(dir.resolve("drill/wal"))) {
            assertThat(wal.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith("00000002"));
        }

        Cli.Result list = Cli.run(cmd(config, "list"));
        assertThat(list.out()).containsPattern(id + ".*proven restorable at .*, restore took \\d+ s, recovered to ");
        Cli.Result show = Cli.run(cmd(config, "show", id));
        assertThat(show.out()).contains("restore drill").contains("proven restorable at").contains("amcheck postgres");

        // A segment after the backup missing from repository b: point-in-time recovery ends there.
        String stop = (String) backup.get("stopWalSegment");
        Map<?, ?> manifest = Json.MAPPER.readValue(Cli.run(cmd(config, "show", "--json", id)).out(), Map.class);
        Map<?, ?> physical = (Map<?, ?>) manifest.get("physical");
        stop = stop != null ? stop : (String) physical.get("stopWalSegment");
        String start = (String) physical.get("startWalSegment");
        String afterStop = WalSegmentName.parse(stop).next().toString();
        deleteArchived(dir, afterStop);
        Cli.Result gap = Cli.run(cmd(config, "verify"));
        assertThat(gap.exit()).as(gap.toString()).isEqualTo(ErrorKind.CORRUPT.exitCode());
        assertThat(gap.out()).contains("repository 'b' (file://" + dir + "):")
                .contains("WAL GAP " + id)
                .contains("missing " + afterStop + " (1 segment) after backup " + id);
        assertThat(gap.err()).contains("repository 'b' (file://" + dir + "): missing " + afterStop)
                .contains("can be recovered up to " + WalSegmentName.parse(afterStop).startLsn());
        // Repository a still has it: its report for the backup is clean.
        assertThat(gap.out().substring(0, gap.out().indexOf("repository 'b'"))).contains("ok      " + id);

        // The backup's own first segment missing too: the backup is damaged in b.
        deleteArchived(dir, start);
        Cli.Result damaged = Cli.run(cmd(config, "verify", "--json"));
        assertThat(damaged.exit()).as(damaged.toString()).isEqualTo(ErrorKind.CORRUPT.exitCode());
        Map<?, ?> dj = Json.MAPPER.readValue(damaged.out(), Map.class); // the result; the error object follows it
        Map<?, ?> inB = (Map<?, ?>) ((List<?>) ((Map<?, ?>) ((List<?>) dj.get("repositories")).get(1)).get("backups")).get(0);
        assertThat(inB.get("damaged")).isEqualTo(true);
        assertThat(((Map<?, ?>) inB.get("wal")).get("recoverableTo")).isNull();
        assertThat(inB.get("problems").toString()).contains("missing " + start).contains("DAMAGED (not restorable)");

        // A damaged object in repository b is reported with b's name, although reads would come from a.
        Path chunk;
        try (Stream<Path> files = Files.walk(dir.resolve("drill/backups/" + id))) {
            chunk = files.filter(p -> p.getFileName().toString().startsWith("base.tar.")).findFirst().orElseThrow();
        }
        byte[] bytes = Files.readAllBytes(chunk);
        bytes[bytes.length / 2] ^= 0x10;
        Files.write(chunk, bytes);
        Cli.Result bad = Cli.run(cmd(config, "verify"));
        assertThat(bad.exit()).as(bad.toString()).isEqualTo(ErrorKind.CORRUPT.exitCode());
        String bPart = bad.out().substring(bad.out().indexOf("repository 'b'"));
        assertThat(bPart).contains("DAMAGED " + id).contains(chunk.getFileName().toString());
        assertThat(bad.out().substring(0, bad.out().indexOf("repository 'b'"))).doesNotContain(chunk.getFileName().toString());

        // The backup's first segment gone from repository a too: the drill fails, says why, is recorded as failed,
        // and leaves no server and no files behind.
        try (S3Storage a = new S3Storage(s3.settings("backups", "pg"))) {
            List<String> keys = a.list("drill/wal/").stream().map(ObjectInfo::key)
                    .filter(k -> k.substring(k.lastIndexOf('/') + 1).startsWith(start + ".sha256-")).toList();
            assertThat(keys).hasSize(1);
            a.delete(keys.get(0));
        }
        Path scratch = pg.baseDir().getParent().resolve("scratch2");
        Cli.Result failed = Cli.run(cmd(config, "verify", "--restore-test", "--backup", id, "--scratch-directory",
                scratch.toString()));
        assertThat(failed.exit()).as(failed.toString()).isEqualTo(ErrorKind.CORRUPT.exitCode());
        assertThat(failed.out()).contains("RESTORE DRILL FAILED: " + id).contains("recovery of " + id);
        try (Stream<Path> left = Files.list(scratch)) {
            assertThat(left).as("the failed drill's scratch copy is deleted").isEmpty();
        }
        assertThat(ProcessHandle.allProcesses().map(h -> h.info().commandLine().orElse("")))
                .noneMatch(c -> c.contains(scratch.toString()));
        assertThat(Cli.run(cmd(config, "list")).out()).contains("RESTORE DRILL FAILED at");
    }

    private static void deleteArchived(Path dir, String segment) throws Exception {
        List<Path> victims;
        try (Stream<Path> files = Files.walk(dir.resolve("drill/wal"))) {
            victims = files.filter(p -> p.getFileName().toString().startsWith(segment + ".sha256-")).toList();
        }
        assertThat(victims).as("archived " + segment).hasSize(1);
        Files.delete(victims.get(0));
    }

    private static String[] cmd(Path config, String command, String... more) {
        String[] a = new String[more.length + 5];
        a[0] = command;
        a[1] = "--config";
        a[2] = config.toString();
        a[3] = "--cluster";
        a[4] = "drill";
        System.arraycopy(more, 0, a, 5, more.length);
        return a;
    }
}
