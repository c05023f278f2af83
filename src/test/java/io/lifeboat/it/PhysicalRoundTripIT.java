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
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The whole cycle on a real PostgreSQL 15 cluster with a password (SCRAM over the replication
 * protocol): pgbench data, a table in an extra tablespace and a table of incompressible random
 * bytes; a self-contained physical backup; the cluster destroyed; restore with the tablespace moved,
 * pg_verifybackup, start; every table's content identical.
 */
class PhysicalRoundTripIT {
    static final String PASSWORD = "phys-Pw'1";

    @Test
    void backupDestroyRestoreStartCompare() throws Exception {
        Path work = Files.createTempDirectory("lifeboat-phys-");
        Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path repo = Files.createDirectory(work.resolve("repo"));
        Path tsDir = Files.createDirectory(work.resolve("ts"));
        ScratchCluster.giveToServerUser(tsDir);
        Path pgpass = work.resolve("pgpass");
        Files.writeString(pgpass, "*:*:*:postgres:" + PASSWORD.replace("\\", "\\\\").replace(":", "\\:") + "\n");
        Files.setPosixFilePermissions(pgpass, PosixFilePermissions.fromString("rw-------"));
        ScratchCluster pg = ScratchCluster.create(work, ScratchCluster.Options.defaults().withPassword(PASSWORD)).start();
        try {
            String tablespaceOid = fill(pg, tsDir);
            Map<String, Map<String, ContentChecksum.Entry>> before = checksums(pg);
            assertThat(before.get("shop")).containsKeys("table public.events", "table public.blobs",
                    "table public.pgbench_accounts");

            List<String> common = List.of("--pg-host", "127.0.0.1", "--pg-port", Integer.toString(pg.port()), "--pg-user",
                    "postgres", "--pg-password-file", pgpass.toString(), "--repo", "file://" + repo, "--cluster", "rt",
                    "--allow-same-server");
            Cli.Result b = Cli.run(args(common, "backup", "--json", "--type", "physical", "--include-wal"));
            assertThat(b.exit()).as(b.toString()).isZero();
            assertThat(b.err()).doesNotContain(PASSWORD);
            Map<?, ?> summary = Json.MAPPER.readValue(b.out(), Map.class);
            String id = (String) summary.get("id");
            assertThat(id).endsWith("-P");
            assertThat(summary.get("walIncluded")).isEqualTo(true);

            Cli.Result show = Cli.run(args(common, "show", "--json", id));
            assertThat(show.exit()).as(show.toString()).isZero();
            Map<?, ?> manifest = Json.MAPPER.readValue(show.out(), Map.class);
            Map<?, ?> physical = (Map<?, ?>) manifest.get("physical");
            assertThat(physical.get("tablespaces")).isEqualTo(Map.of(tablespaceOid, tsDir.toString()));
            assertThat((List<?>) physical.get("archives")).hasSize(2);
            assertThat((List<?>) physical.get("walSegments")).isNotEmpty();
            assertThat(physical.get("backupLabel").toString()).contains("START WAL LOCATION").contains(id);
            assertThat(manifest.get("systemIdentifier")).isNotNull();
            assertThat(show.out()).doesNotContain(PASSWORD);
            // Without --json too: restore --help sends users here for the OIDs of --tablespace-map.
            Cli.Result showText = Cli.run(args(common, "show", id));
            assertThat(showText.out()).as(showText.toString()).containsPattern("tablespaces:\\n +" + tablespaceOid + " +"
                    + java.util.regex.Pattern.quote(tsDir.toString()));

            // Open formats: the stored chunks are a plain tar once concatenated and decompressed.
            Path dir = repo.resolve("rt/backups/" + id);
            ExternalProcess.Result byHand = new ExternalProcess(List.of("sh", "-c",
                    "cat " + dir + "/base.tar.*.zst | zstd -dc | tar -tf - backup_label"), Map.of()).run();
            assertThat(byHand.stdout().strip()).as(byHand.stderr()).isEqualTo("backup_label");

            // Disaster: the server is gone, with its data directory and its tablespace.
            pg.stop("immediate");
            ScratchCluster.deleteTree(pg.dataDir());
            ScratchCluster.deleteTree(tsDir);
            Path movedTs = work.resolve("moved/ts");

            Cli.Result r = Cli.run(args(common, "restore", "--json", "--backup", id, "--data-directory",
                    pg.dataDir().toString(), "--tablespace-map", tablespaceOid + "=" + movedTs, "--start"));
            assertThat(r.exit()).as(r.toString()).isZero();
            Map<?, ?> restored = Json.MAPPER.readValue(r.out(), Map.class);
            assertThat((String) restored.get("verification")).startsWith("passed (pg_verifybackup 15");
            Map<?, ?> server = (Map<?, ?>) restored.get("server");
            assertThat(server.get("state")).isEqualTo("in production");
            assertThat(server.get("recoveryEndedAt")).isNotNull();
            assertThat((Map<?, ?>) restored.get("recovery")).isEmpty(); // WAL included: plain crash recovery, no archive

            assertThat(Files.readSymbolicLink(pg.dataDir().resolve("pg_tblspc/" + tablespaceOid))).isEqualTo(movedTs);
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(pg.dataDir()))).isEqualTo("rwx------");
            if (ExternalProcess.runningAsRoot()) {
                assertThat(Files.getOwner(pg.dataDir().resolve("PG_VERSION")).getName()).isEqualTo("postgres");
                assertThat(Files.getOwner(movedTs).getName()).isEqualTo("postgres");
            }
            Map<String, Map<String, ContentChecksum.Entry>> after = checksums(pg);
            for (String db : before.keySet()) {
                assertThat(ContentChecksum.differences(before.get(db), after.get(db))).as(db).isEmpty();
            }
            try (PgSession s = pg.session("shop")) {
                assertThat(s.queryValue("SELECT pg_tablespace_location(oid) FROM pg_tablespace WHERE spcname = 'extra'"))
                        .contains(movedTs.toString());
                s.execute("INSERT INTO events SELECT g, 'after restore' FROM generate_series(100001, 100010) g"); // it is writable
            }
        } finally {
            pg.stop("immediate");
            pg.close();
            ScratchCluster.deleteTree(work);
        }
    }

    static String[] args(List<String> common, String command, String... more) {
        List<String> a = new ArrayList<>();
        a.add(command);
        a.addAll(common);
        a.addAll(Arrays.asList(more));
        return a.toArray(String[]::new);
    }

    /** pgbench data, a table in a tablespace of its own, and incompressible bytes; returns the tablespace OID. */
    static String fill(ScratchCluster pg, Path tablespaceDir) throws Exception {
        try (PgSession s = pg.session("postgres")) {
            s.execute("CREATE DATABASE shop");
            s.execute("CREATE TABLESPACE extra LOCATION '" + tablespaceDir + "'");
        }
        PgBinaries.Tool pgbench = new PgBinaries(pg.binDir()).newest("pgbench");
        new ExternalProcess(List.of(pgbench.path().toString(), "-i", "-q", "-s", "3"), pg.connection("shop").libpqEnvironment())
                .runChecked("pgbench -i");
        try (PgSession s = pg.session("shop")) {
            s.execute("CREATE TABLE events (id int PRIMARY KEY, payload text) TABLESPACE extra");
            s.execute("INSERT INTO events SELECT g, md5(g::text) || repeat('x', g % 100) FROM generate_series(1, 50000) g");
            s.execute("CREATE TABLE blobs (id int PRIMARY KEY, b bytea)");
            s.execute("ALTER TABLE blobs ALTER COLUMN b SET STORAGE EXTERNAL"); // stored as is: no pglz either
            Random random = new Random(42);
            try (PreparedStatement ps = s.connection().prepareStatement("INSERT INTO blobs VALUES (?, ?)")) {
                for (int i = 0; i < 48; i++) {
                    byte[] b = new byte[128 * 1024];
                    random.nextBytes(b);
                    ps.setInt(1, i);
                    ps.setBytes(2, b);
                    ps.executeUpdate();
                }
            }
            s.execute("CREATE TABLE plain_data AS SELECT g AS id, now() AS t FROM generate_series(1, 1000) g");
            return s.queryValue("SELECT oid::text FROM pg_tablespace WHERE spcname = 'extra'").orElseThrow();
        }
    }

    static Map<String, Map<String, ContentChecksum.Entry>> checksums(ScratchCluster pg) {
        Map<String, Map<String, ContentChecksum.Entry>> out = new LinkedHashMap<>();
        for (String db : List.of("postgres", "shop")) {
            try (PgSession s = pg.session(db)) {
                out.put(db, ContentChecksum.of(s));
            }
        }
        return out;
    }
}
