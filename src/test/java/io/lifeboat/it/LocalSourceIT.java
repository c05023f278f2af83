package io.lifeboat.it;

import io.lifeboat.catalog.Json;
import io.lifeboat.postgres.ContentChecksum;
import io.lifeboat.postgres.ExternalProcess;
import io.lifeboat.postgres.PgBinaries;
import io.lifeboat.postgres.PgSession;
import io.lifeboat.postgres.ScratchCluster;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Physical backups with --source local on real PostgreSQL 15 clusters: Lifeboat reads the data
 * directory itself between pg_backup_start and pg_backup_stop. The stored archives leave out what
 * pg_basebackup leaves out, the ordinary restore brings the cluster back (tablespace moved), the
 * backup_manifest Lifeboat wrote passes pg_verifybackup, and every table's content is the same;
 * from a standby too; the off-server guard still holds; another cluster's directory is refused.
 */
class LocalSourceIT {

    @Test
    void fullBackupLeavesOutWhatPgBasebackupDoesAndRestores() throws Exception {
        try (RestoreScratch w = RestoreScratch.create("local-full");
             ScratchCluster pg = ScratchCluster.create(w.work, ScratchCluster.Options.defaults()).start()) {
            Path tsDir = Files.createDirectory(w.work.resolve("ts"));
            ScratchCluster.giveToServerUser(tsDir);
            String tsOid = PhysicalRoundTripIT.fill(pg, tsDir);
            try (PgSession s = pg.session("shop")) {
                s.execute("CREATE UNLOGGED TABLE scratchpad AS SELECT g AS id, repeat('u', 200) AS v FROM generate_series(1, 5000) g");
                s.execute("CREATE SEQUENCE tickets START 40");
                s.queryValue("SELECT nextval('tickets')");
            }
            String unlogged;
            try (PgSession s = pg.session("shop")) {
                unlogged = s.queryValue("SELECT pg_relation_filepath('scratchpad')").orElseThrow();
            }
            // Things a base backup leaves out, put where PostgreSQL would have them.
            Path db = pg.dataDir().resolve(unlogged).getParent();
            Files.writeString(db.resolve("t3_99999"), "a temporary relation");
            Files.createDirectories(pg.dataDir().resolve("base/pgsql_tmp"));
            Files.writeString(pg.dataDir().resolve("base/pgsql_tmp/pgsql_tmp123.0"), "a sort's spill file");
            Files.writeString(pg.dataDir().resolve("pg_stat_tmp/leftover.stat"), "stats");
            Files.writeString(pg.dataDir().resolve("postgresql.auto.conf.tmp"), "partial");
            Map<String, Map<String, ContentChecksum.Entry>> before = PhysicalRoundTripIT.checksums(pg);

            List<String> common = common(pg, w.repo, "loc");
            Cli.Result b;
            try (PgSession s = pg.session("postgres")) {
                s.execute("CREATE DATABASE scratch");
            }
            try (PgSession holdsTemp = pg.session("scratch")) {
                holdsTemp.execute("CREATE TEMP TABLE mine AS SELECT g FROM generate_series(1, 1000) g");
                b = Cli.run(args(common, "backup", "--json", "--type", "physical", "--source", "local", "--include-wal",
                        "--jobs", "2"));
            }
            assertThat(b.exit()).as(b.toString()).isZero();
            Map<?, ?> summary = Json.MAPPER.readValue(b.out(), Map.class);
            String id = (String) summary.get("id");
            assertThat(summary.get("source")).isEqualTo("local");
            assertThat(summary.get("incremental")).isEqualTo(false);

            Path dir = w.repo.resolve("loc/backups/" + id);
            String listing = new ExternalProcess(List.of("sh", "-c", "for f in $(ls " + dir + "/base.tar.*.zst | sort); do "
                    + "zstd -dc $f; done | tar -tf -"), Map.of()).run().stdout();
            List<String> names = Arrays.asList(listing.split("\n"));
            assertThat(names).contains("backup_label", "global/pg_control", "PG_VERSION", unlogged + "_init",
                    "pg_wal/", "pg_wal/archive_status/", "pg_stat_tmp/", "pg_replslot/", "pg_tblspc/" + tsOid);
            assertThat(names).doesNotContain(unlogged, "postmaster.pid", "postmaster.opts", "base/pgsql_tmp/",
                    "base/pgsql_tmp/pgsql_tmp123.0", "pg_stat_tmp/leftover.stat", "postgresql.auto.conf.tmp");
            assertThat(names).noneMatch(n -> n.matches(".*/t\\d+_\\d+") || n.matches("pg_wal/0.*")
                    || n.contains("pg_internal.init"));
            assertThat(names.get(names.size() - 1)).as("backup_label is added once the backup stopped").isEqualTo("backup_label");
            assertThat(names.indexOf("global/pg_control")).as("pg_control is read after everything else")
                    .isEqualTo(names.size() - 2);
            String tsListing = new ExternalProcess(List.of("sh", "-c", "zstd -dc " + dir + "/" + tsOid
                    + ".tar.000001.zst | tar -tf -"), Map.of()).run().stdout();
            assertThat(tsListing).startsWith("PG_15_");

            pg.stop("immediate");
            ScratchCluster.deleteTree(pg.dataDir());
            ScratchCluster.deleteTree(tsDir);
            Path moved = w.work.resolve("moved-ts");
            Cli.Result r = Cli.run(args(common, "restore", "--json", "--backup", id, "--data-directory",
                    pg.dataDir().toString(), "--tablespace-map", tsOid + "=" + moved, "--start"));
            assertThat(r.exit()).as(r.toString()).isZero();
            Map<?, ?> restored = Json.MAPPER.readValue(r.out(), Map.class);
            assertThat((String) restored.get("verification")).startsWith("passed (pg_verifybackup 15");
            Map<String, Map<String, ContentChecksum.Entry>> after = PhysicalRoundTripIT.checksums(pg);
            for (String d : before.keySet()) {
                Map<String, ContentChecksum.Entry> expected = new java.util.LinkedHashMap<>(before.get(d));
                if (d.equals("shop")) {
                    expected.put("table public.scratchpad", new ContentChecksum.Entry(0, after.get(d)
                            .get("table public.scratchpad").hash())); // unlogged: comes back empty, as from pg_basebackup
                }
                assertThat(ContentChecksum.differences(expected, after.get(d))).as(d).isEmpty();
            }
            assertThat(after.get("shop").get("table public.scratchpad").rows()).isZero();
            try (PgSession s = pg.session("shop")) {
                assertThat(s.queryValue("SELECT nextval('tickets')")).contains("41");
            }
        }
    }

    @Test
    void fromAStandby() throws Exception {
        try (RestoreScratch w = RestoreScratch.create("local-standby");
             ScratchCluster primary = ScratchCluster.create(w.work, ScratchCluster.Options.defaults()).start()) {
            try (PgSession s = primary.session("postgres")) {
                s.execute("CREATE TABLE accounts AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 20000) g");
            }
            Path standbyDir = Files.createDirectory(w.work.resolve("standby"));
            Files.setPosixFilePermissions(standbyDir, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
            ScratchCluster.giveToServerUser(standbyDir);
            int port = ScratchCluster.freePort();
            PgBinaries bins = new PgBinaries(primary.binDir());
            new ExternalProcess(ExternalProcess.asUser(ScratchCluster.OS_USER, List.of(bins.newest("pg_basebackup").path()
                    .toString(), "-D", standbyDir.toString(), "-R", "-X", "stream", "-h", "127.0.0.1", "-p",
                    Integer.toString(primary.port()), "-U", "postgres")), Map.of()).runChecked("pg_basebackup");
            Path logDir = Files.createDirectory(w.work.resolve("standby-log"));
            ScratchCluster.giveToServerUser(logDir);
            Files.writeString(standbyDir.resolve("postgresql.auto.conf"), "\nport = " + port + "\nunix_socket_directories = '"
                    + logDir + "'\n", java.nio.file.StandardOpenOption.APPEND);
            new ExternalProcess(ExternalProcess.asUser(ScratchCluster.OS_USER, List.of(primary.binDir().resolve("pg_ctl")
                    .toString(), "-D", standbyDir.toString(), "-l", logDir.resolve("standby.log").toString(), "-w", "start")),
                    Map.of()).run();
            assertThat(Files.exists(standbyDir.resolve("postmaster.pid"))).as(Files.readString(logDir.resolve("standby.log")))
                    .isTrue();
            try {
                try (PgSession s = primary.session("postgres")) {
                    s.execute("INSERT INTO accounts SELECT g, 'late' FROM generate_series(20001, 21000) g");
                }
                io.lifeboat.postgres.PgConnectionSettings sc = new io.lifeboat.postgres.PgConnectionSettings("127.0.0.1",
                        port, "postgres", "postgres", null, null);
                long deadline = System.nanoTime() + 30_000_000_000L;
                while (System.nanoTime() < deadline) {
                    try (PgSession s = PgSession.open(sc)) {
                        if (s.queryValue("SELECT count(*) FROM accounts").orElse("0").equals("21000")) {
                            break;
                        }
                    }
                    Thread.sleep(100);
                }
                Map<String, ContentChecksum.Entry> before;
                try (PgSession s = PgSession.open(sc)) {
                    before = ContentChecksum.of(s);
                }
                List<String> common = new ArrayList<>(List.of("--pg-host", "127.0.0.1", "--pg-port", Integer.toString(port),
                        "--pg-user", "postgres", "--repo", "file://" + w.repo, "--cluster", "sb", "--allow-same-server"));
                Cli.Result b = Cli.run(args(common, "backup", "--json", "--type", "physical", "--source", "local",
                        "--include-wal"));
                assertThat(b.exit()).as(b.toString()).isZero();
                String id = (String) Json.MAPPER.readValue(b.out(), Map.class).get("id");
                Map<?, ?> show = Json.MAPPER.readValue(Cli.run(args(common, "show", "--json", id)).out(), Map.class);
                assertThat(((Map<?, ?>) show.get("physical")).get("backupLabel").toString()).contains("BACKUP FROM: standby");

                Path restoredDir = w.dataDirectory("restored");
                Cli.Result r = Cli.run(args(common, "restore", "--json", "--backup", id, "--data-directory",
                        restoredDir.toString(), "--start", "--port", Integer.toString(ScratchCluster.freePort())));
                assertThat(r.exit()).as(r.toString()).isZero();
                Map<?, ?> restored = Json.MAPPER.readValue(r.out(), Map.class);
                assertThat((String) restored.get("verification")).startsWith("passed (pg_verifybackup 15");
                int rport = (Integer) ((Map<?, ?>) restored.get("server")).get("port");
                try (PgSession s = PgSession.open(new io.lifeboat.postgres.PgConnectionSettings("127.0.0.1",
                        rport, "postgres", "postgres", null, null))) {
                    assertThat(s.queryValue("SELECT pg_is_in_recovery()")).contains("f");
                    assertThat(ContentChecksum.differences(before, ContentChecksum.of(s))).isEmpty();
                }
            } finally {
                RestoreScratch.stop(standbyDir);
            }
        }
    }

    @Test
    void theRepositoryMustStayOffTheServerAndTheDirectoryMustBeTheServers() throws Exception {
        try (RestoreScratch w = RestoreScratch.create("local-guard");
             ScratchCluster pg = ScratchCluster.create(w.work, ScratchCluster.Options.defaults()).start();
             ScratchCluster other = ScratchCluster.create(w.work, ScratchCluster.Options.defaults())) {
            List<String> noOptOut = List.of("--pg-host", "127.0.0.1", "--pg-port", Integer.toString(pg.port()), "--pg-user",
                    "postgres", "--repo", "file://" + w.repo, "--cluster", "g");
            Cli.Result refused = Cli.run(args(noOptOut, "backup", "--type", "physical", "--source", "local"));
            assertThat(refused.exit()).as(refused.toString()).isNotZero();
            assertThat(refused.err()).contains("is on the database server");
            assertThat(w.repo.resolve("g/backups")).doesNotExist();

            Path config = w.work.resolve("lifeboat.yml");
            Files.writeString(config, "clusters:\n  g:\n    source: local\n    postgres:\n      host: 127.0.0.1\n      port: "
                    + pg.port() + "\n      user: postgres\n      data-directory: " + other.dataDir() + "\n    repositories:\n"
                    + "      - uri: file://" + w.repo + "\n        allow-same-server: true\n");
            Cli.Result foreign = Cli.run("backup", "--config", config.toString(), "--type", "physical");
            assertThat(foreign.exit()).as(foreign.toString()).isEqualTo(9);
            assertThat(foreign.err()).contains("belongs to the cluster with system identifier");
            try (PgSession s = pg.session("postgres")) {
                assertThat(s.queryValue("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' "
                        + "AND pid <> pg_backend_pid()")).as("no session of the refused backup is left").contains("0");
            }
        }
    }

    /**
     * Writes a lifeboat.yml of one cluster with source: local on 127.0.0.1:{@code port} and a file
     * repository; {@code more} is appended to the cluster's section (indented by four spaces).
     */
    static Path localConfig(Path file, String cluster, int port, Path repo, String more) throws java.io.IOException {
        Files.writeString(file, """
                clusters:
                  %s:
                    source: local
                    postgres:
                      host: 127.0.0.1
                      port: %d
                      user: postgres
                    repositories:
                      - uri: file://%s
                        allow-same-server: true
                """.formatted(cluster, port, repo) + more);
        return file;
    }

    static List<String> common(ScratchCluster pg, Path repo, String cluster) {
        return List.of("--pg-host", "127.0.0.1", "--pg-port", Integer.toString(pg.port()), "--pg-user", "postgres",
                "--repo", "file://" + repo, "--cluster", cluster, "--allow-same-server");
    }

    static String[] args(List<String> common, String command, String... more) {
        return PhysicalRoundTripIT.args(common, command, more);
    }
}
