package io.lifeboat.it;

import io.lifeboat.ErrorKind;
import io.lifeboat.catalog.Json;
import io.lifeboat.postgres.ContentChecksum;
import io.lifeboat.postgres.PgSession;
import io.lifeboat.postgres.ScratchCluster;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Passphrase (age scrypt) encryption end to end on a real cluster, physical: archive_command runs
 * {@code bin/lifeboat wal-push} as the server's user with a configuration naming a passphrase file;
 * a physical backup without its WAL; changes after it archived; the cluster destroyed and restored
 * with --start, so the restored server's restore_command (wal-fetch --passphrase-file) fetches and
 * decrypts the archive. A wrong passphrase file stops the restore before it writes anything.
 */
class PassphrasePhysicalIT {
    static final byte[] ZSTD_MAGIC = {(byte) 0x28, (byte) 0xB5, (byte) 0x2F, (byte) 0xFD};

    @Test
    void passphraseEncryptedWalAndPhysicalBackupRestoreWithArchiveRecovery() throws Exception {
        long t0 = System.nanoTime();
        Path work = Files.createTempDirectory("lifeboat-passphys-");
        Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path repo = Files.createDirectory(work.resolve("repo"));
        // wal-push runs as the server's user: its WAL directory exists before the in-process backup (root) writes.
        Files.createDirectories(repo.resolve("pp/wal"));
        ScratchCluster.giveToServerUser(repo);

        String secret = "pass-phys " + Long.toHexString(new Random().nextLong()) + " horse battery staple";
        Path passFile = work.resolve("passphrase");
        Files.writeString(passFile, secret + "\n");
        Files.setPosixFilePermissions(passFile, PosixFilePermissions.fromString("rw-------"));
        ScratchCluster.giveToServerUser(passFile); // archive_command and restore_command read it as the server's user
        Path wrongFile = work.resolve("wrong-passphrase");
        Files.writeString(wrongFile, "definitely not it\n");
        Files.setPosixFilePermissions(wrongFile, PosixFilePermissions.fromString("rw-------"));

        Path launcher = LauncherProperty.LAUNCHER;
        ScratchCluster pg = ScratchCluster.create(work, ScratchCluster.Options.defaults());
        Path cfg = work.resolve("lifeboat.yml");
        Files.writeString(cfg, """
                clusters:
                  pp:
                    postgres:
                      host: 127.0.0.1
                      port: %d
                      user: postgres
                    repositories:
                      - name: local
                        uri: file://%s
                        allow-same-server: true
                    encryption:
                      passphrase-file: %s
                """.formatted(pg.port(), repo, passFile));
        Files.setPosixFilePermissions(cfg, PosixFilePermissions.fromString("rw-------"));
        ScratchCluster.giveToServerUser(cfg);
        // The archive_command names the configuration, never the passphrase.
        String archiveCommand = launcher + " wal-push --config " + cfg + " --cluster pp %p";
        assertThat(archiveCommand).doesNotContain(secret);
        pg.appendConf("archive_mode = on", "archive_command = '" + archiveCommand + "'");
        LauncherProperty property = LauncherProperty.set();
        pg.start();
        try {
            try (PgSession s = pg.session("postgres")) {
                s.execute("CREATE TABLE t (i int, pad text)");
                s.execute("INSERT INTO t SELECT g, repeat('a', 100) FROM generate_series(1, 30000) g");
            }
            Cli.Result b = Cli.run("backup", "--config", cfg.toString(), "--cluster", "pp", "--json", "--type", "physical");
            assertThat(b.exit()).as(b.toString()).isZero();
            assertThat(b.out() + b.err()).doesNotContain(secret);
            Map<?, ?> backup = Json.MAPPER.readValue(b.out(), Map.class);
            assertThat(backup.get("walIncluded")).isEqualTo(false);
            String id = (String) backup.get("id");

            // Changes after the backup, archived: only the archive can bring them back.
            Map<String, ContentChecksum.Entry> before;
            String last;
            try (PgSession s = pg.session("postgres")) {
                s.execute("INSERT INTO t SELECT g, 'after the backup' FROM generate_series(30001, 40000) g");
                s.execute("UPDATE t SET pad = 'changed' WHERE i % 10 = 0");
                last = Archiving.switchAndAwait(s);
                assertThat(s.queryValue("SELECT failed_count FROM pg_stat_archiver")).contains("0");
                before = ContentChecksum.of(s);
            }

            // Every archived WAL object is an age passphrase file, not a bare zstd frame.
            List<Path> wal;
            try (Stream<Path> files = Files.walk(repo.resolve("pp/wal"))) {
                wal = files.filter(Files::isRegularFile).toList();
            }
            assertThat(wal.stream().map(p -> p.getFileName().toString()).toList())
                    .anyMatch(n -> n.startsWith(last + ".sha256-"));
            for (Path p : wal) {
                byte[] bytes = Files.readAllBytes(p);
                assertThat(p.getFileName().toString()).endsWith(".zst.age");
                assertThat(Arrays.copyOf(bytes, 4)).as(p.toString()).isNotEqualTo(ZSTD_MAGIC);
                assertThat(new String(bytes, StandardCharsets.ISO_8859_1)).as(p.toString())
                        .startsWith("age-encryption.org/v1\n-> scrypt ").doesNotContain(secret);
            }
            Path backupDir = repo.resolve("pp/backups/" + id);
            try (Stream<Path> files = Files.list(backupDir)) {
                assertThat(files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("base.tar.")).toList())
                        .isNotEmpty().allSatisfy(n -> assertThat(n).endsWith(".zst.age"));
            }
            String manifest = Files.readString(backupDir.resolve("manifest.json"));
            assertThat(manifest).contains("\"age-scrypt\"").doesNotContain(secret).doesNotContain(passFile.toString());

            pg.stop("immediate");
            ScratchCluster.deleteTree(pg.dataDir());
            assertThat(pg.dataDir()).doesNotExist();

            // The wrong passphrase (the flag beats the configured file): exit 13, and nothing written.
            Cli.Result wrong = Cli.run("restore", "--config", cfg.toString(), "--cluster", "pp", "--backup", id,
                    "--data-directory", pg.dataDir().toString(), "--start", "--passphrase-file", wrongFile.toString());
            assertThat(wrong.exit()).as(wrong.toString()).isEqualTo(ErrorKind.KEY.exitCode());
            assertThat(wrong.err()).contains(wrongFile.toString(), "cannot decrypt").doesNotContain("definitely not it");
            if (Files.exists(pg.dataDir())) {
                try (Stream<Path> left = Files.list(pg.dataDir())) {
                    assertThat(left).isEmpty();
                }
            }

            Cli.Result r = Cli.run("restore", "--config", cfg.toString(), "--cluster", "pp", "--json", "--backup", id,
                    "--data-directory", pg.dataDir().toString(), "--start");
            assertThat(r.exit()).as(r.toString()).isZero();
            assertThat(r.out() + r.err()).doesNotContain(secret);
            Map<?, ?> restored = Json.MAPPER.readValue(r.out(), Map.class);
            String restoreCommand = ((Map<?, ?>) restored.get("recovery")).get("restore_command").toString();
            assertThat(restoreCommand).startsWith(launcher + " wal-fetch --cluster pp --config " + cfg)
                    .contains("--passphrase-file " + passFile).endsWith("%f %p").doesNotContain(secret);
            String autoConf = Files.readString(pg.dataDir().resolve("postgresql.auto.conf"));
            assertThat(autoConf).contains("restore_command", "--passphrase-file " + passFile).doesNotContain(secret);

            Map<?, ?> server = (Map<?, ?>) restored.get("server");
            assertThat(server.get("state")).isEqualTo("in production");
            assertThat(((Number) server.get("timeline")).intValue()).isEqualTo(2);
            // The server fetched (and so wal-fetch decrypted) the segment written after the backup.
            assertThat(Files.readString(Path.of(server.get("log").toString())))
                    .contains("restored log file \"" + last + "\" from archive");
            try (PgSession s = pg.session("postgres")) {
                assertThat(s.queryValue("SELECT count(*) FROM t WHERE pad = 'after the backup'")).contains("9000");
                assertThat(ContentChecksum.differences(before, ContentChecksum.of(s))).isEmpty();
            }
            System.out.printf("PassphrasePhysicalIT: %d WAL objects archived, %.1f s in all%n", wal.size(),
                    (System.nanoTime() - t0) / 1e9);
        } finally {
            property.close();
            pg.stop("immediate");
            pg.close();
            ScratchCluster.deleteTree(work);
        }
    }
}
