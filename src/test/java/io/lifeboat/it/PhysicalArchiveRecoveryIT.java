package io.lifeboat.it;

import io.lifeboat.catalog.Json;
import io.lifeboat.postgres.ContentChecksum;
import io.lifeboat.postgres.PgSession;
import io.lifeboat.postgres.ScratchCluster;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A physical backup without its WAL, restored by archive recovery: the restore writes
 * restore_command = lifeboat wal-fetch (the same repository), and the started server replays the
 * archived WAL past the end of the backup, up to the last archived change.
 */
class PhysicalArchiveRecoveryIT {
    @Test
    void restoreReplaysTheArchiveThroughWalFetch() throws Exception {
        Path work = Files.createTempDirectory("lifeboat-physarc-");
        Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path repo = Files.createDirectory(work.resolve("repo"));
        // wal-push and wal-fetch run as the server's user; the WAL directory is made beforehand, else the in-process
        // backup (root) may create the cluster's prefix first and the archiver cannot write below it.
        Files.createDirectories(repo.resolve("arc/wal"));
        ScratchCluster.giveToServerUser(repo);
        Path launcher = LauncherProperty.LAUNCHER;
        ScratchCluster pg = ScratchCluster.create(work, ScratchCluster.Options.defaults());
        List<String> common = List.of("--repo", "file://" + repo, "--cluster", "arc", "--allow-same-server", "--pg-host",
                "127.0.0.1", "--pg-port", Integer.toString(pg.port()), "--pg-user", "postgres");
        pg.appendConf("archive_mode = on", "archive_command = '" + launcher + " wal-push " + String.join(" ", common) + " %p'");
        LauncherProperty property = LauncherProperty.set();
        pg.start();
        try {
            try (PgSession s = pg.session("postgres")) {
                s.execute("CREATE TABLE t (i int, pad text)");
                s.execute("INSERT INTO t SELECT g, repeat('a', 100) FROM generate_series(1, 50000) g");
            }
            Cli.Result b = Cli.run(args(common, "backup", "--json", "--type", "physical"));
            assertThat(b.exit()).as(b.toString()).isZero();
            assertThat(b.err()).doesNotContain("WAL archiving is not enabled");
            String id = (String) Json.MAPPER.readValue(b.out(), Map.class).get("id");
            assertThat(Json.MAPPER.readValue(b.out(), Map.class).get("walIncluded")).isEqualTo(false);

            // Changes after the backup, archived: recovery must replay them from the archive.
            Map<String, ContentChecksum.Entry> before;
            try (PgSession s = pg.session("postgres")) {
                s.execute("INSERT INTO t SELECT g, repeat('b', 100) FROM generate_series(50001, 60000) g");
                s.execute("UPDATE t SET pad = 'changed' WHERE i % 10 = 0");
                Archiving.switchAndAwait(s);
                before = ContentChecksum.of(s);
            }
            pg.stop("immediate");
            ScratchCluster.deleteTree(pg.dataDir());

            Cli.Result r = Cli.run(args(common, "restore", "--json", "--backup", id, "--data-directory",
                    pg.dataDir().toString(), "--start"));
            assertThat(r.exit()).as(r.toString()).isZero();
            Map<?, ?> restored = Json.MAPPER.readValue(r.out(), Map.class);
            assertThat(((Map<?, ?>) restored.get("recovery")).get("restore_command").toString())
                    .startsWith(launcher + " wal-fetch --cluster arc --repo file://" + repo).endsWith("%f %p");
            Map<?, ?> server = (Map<?, ?>) restored.get("server");
            assertThat(server.get("state")).isEqualTo("in production");
            assertThat(((Number) server.get("timeline")).intValue()).isEqualTo(2); // archive recovery ends on a new timeline
            assertThat(Files.exists(pg.dataDir().resolve("recovery.signal"))).isFalse();
            // Recovery is over: the prefetch cache is gone with its prefetchers (RecoveryStopsIT checks who owns it).
            assertThat(pg.dataDir().resolve("pg_wal/.lifeboat/prefetch")).doesNotExist();
            try (PgSession s = pg.session("postgres")) {
                assertThat(ContentChecksum.differences(before, ContentChecksum.of(s))).isEmpty();
            }
        } finally {
            property.close();
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
}
