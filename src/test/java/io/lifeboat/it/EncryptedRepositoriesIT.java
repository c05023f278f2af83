package io.lifeboat.it;

import io.lifeboat.ErrorKind;
import io.lifeboat.catalog.Json;
import io.lifeboat.postgres.ContentChecksum;
import io.lifeboat.postgres.ExternalProcess;
import io.lifeboat.postgres.PgBinaries;
import io.lifeboat.postgres.PgSession;
import io.lifeboat.postgres.ScratchCluster;
import io.lifeboat.storage.EmbeddedS3Server;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An age-encrypted cluster with two repositories (S3 through s3proxy, and a mounted directory):
 * what the database host writes it cannot read back; restores need the identity, fail cleanly
 * without it, and read from whichever repository is up; wal-push needs min-repositories copies.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EncryptedRepositoriesIT {
    ScratchCluster pg;
    EmbeddedS3Server s3;
    Path work;
    Path nfs;
    Path identity;
    Path otherIdentity;
    String recipient;
    int deadPort;

    @BeforeAll
    void start() throws Exception {
        work = Files.createTempDirectory("lifeboat-encit-");
        nfs = Files.createDirectory(work.resolve("nfs"));
        s3 = EmbeddedS3Server.start(work.resolve("s3"));
        s3.createBucket("backups");
        try (ServerSocket s = new ServerSocket(0)) {
            deadPort = s.getLocalPort(); // nothing listens here once closed: an S3 endpoint that is down
        }
        identity = work.resolve("backup-key.txt");
        Cli.Result k = Cli.run("keygen", "--json", "-o", identity.toString());
        assertThat(k.exit()).as(k.toString()).isZero();
        recipient = (String) Json.MAPPER.readValue(k.out(), Map.class).get("recipient");
        assertThat(recipient).startsWith("age1");
        assertThat(Cli.run("keygen", "-o", identity.toString()).exit()).isEqualTo(ErrorKind.CONFLICT.exitCode());
        otherIdentity = work.resolve("other-key.txt");
        assertThat(Cli.run("keygen", "-o", otherIdentity.toString()).exit()).isZero();

        pg = ScratchCluster.create(null, ScratchCluster.Options.defaults()).start();
        try (PgSession s = pg.session("postgres")) {
            s.execute("CREATE DATABASE app");
        }
        PgBinaries.Tool pgbench = new PgBinaries(pg.binDir()).newest("pgbench");
        new ExternalProcess(List.of(pgbench.path().toString(), "-i", "-q", "-s", "1"), pg.connection("app")
                .libpqEnvironment()).runChecked("pgbench -i");
        try (PgSession s = pg.session("app")) {
            s.execute("CREATE TABLE secrets (id int PRIMARY KEY, note text)");
            s.execute("INSERT INTO secrets SELECT g, 'confidential note ' || g FROM generate_series(1, 5000) g");
        }
    }

    @AfterAll
    void stop() {
        if (pg != null) {
            pg.close();
        }
        if (s3 != null) {
            s3.close();
        }
        ScratchCluster.deleteTree(work);
    }

    /** A config with both repositories; the S3 one pointing at a dead port when {@code s3Down}. */
    Path config(boolean s3Down, int minRepositories) throws IOException {
        String endpoint = s3Down ? "http://127.0.0.1:" + deadPort : s3.endpoint().toString();
        Path f = Files.createTempFile(work, "lifeboat", ".yml");
        Files.writeString(f, """
                clusters:
                  main:
                    postgres:
                      host: 127.0.0.1
                      port: %d
                      user: postgres
                    repositories:
                      - name: s3
                        uri: s3://backups/enc?endpoint=%s&region=us-east-1&path-style=true
                        access-key-id: %s
                        secret-access-key: %s
                        allow-same-server: true
                      - name: nfs
                        uri: file://%s
                        allow-same-server: true
                    min-repositories: %d
                    encryption:
                      recipients:
                        - %s
                """.formatted(pg.port(), endpoint, s3.accessKey(), s3.secretKey(), nfs, minRepositories, recipient));
        return f;
    }

    List<String> s3Keys(String prefix) throws IOException {
        try (io.lifeboat.storage.S3Storage st = new io.lifeboat.storage.S3Storage(s3.settings("backups", "enc"))) {
            return st.list(prefix).stream().map(io.lifeboat.storage.ObjectInfo::key).toList();
        }
    }

    static String[] cmd(Path config, String... more) {
        List<String> a = new ArrayList<>(List.of(more));
        a.add(1, "--config");
        a.add(2, config.toString());
        return a.toArray(String[]::new);
    }

    boolean databaseExists(String name) throws Exception {
        try (PgSession s = pg.session("postgres")) {
            return s.queryValue("SELECT 1 FROM pg_database WHERE datname = '" + name + "'").isPresent();
        }
    }

    @Test
    void encryptedLogicalBackupInBothRepositoriesRestoresOnlyWithTheIdentity() throws Exception {
        Map<String, ContentChecksum.Entry> before;
        try (PgSession s = pg.session("app")) {
            before = ContentChecksum.of(s);
        }
        Path both = config(false, 2);
        Cli.Result b = Cli.run(cmd(both, "backup", "--json", "--type", "logical", "--database", "app"));
        assertThat(b.exit()).as(b.toString()).isZero();
        String id = (String) Json.MAPPER.readValue(b.out(), Map.class).get("id");

        // Every stored object is an age file around a zstd frame, in both repositories.
        Path backupDir = nfs.resolve("main/backups/" + id);
        List<Path> stored;
        try (Stream<Path> files = Files.walk(backupDir)) {
            stored = files.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().equals("manifest.json")).toList();
        }
        assertThat(stored).isNotEmpty().allSatisfy(p -> assertThat(p.toString()).endsWith(".age"));
        for (Path p : stored) {
            assertThat(new String(Files.readAllBytes(p), java.nio.charset.StandardCharsets.ISO_8859_1))
                    .startsWith("age-encryption.org/v1").doesNotContain("confidential note");
        }
        Path toc = stored.stream().filter(p -> p.getFileName().toString().startsWith("toc.dat")).findFirst().orElseThrow();
        // The standard age tool reads it: restorable by hand if Lifeboat is gone.
        ExternalProcess.Result byHand = new ExternalProcess(List.of("sh", "-c", "age -d -i " + identity + " " + toc
                + " | zstd -dc | head -c 5"), Map.of()).run();
        assertThat(byHand.stdout()).as(byHand.stderr()).isEqualTo("PGDMP");
        assertThat(s3Keys("main/backups/" + id + "/")).hasSize(stored.size() + 1);

        Cli.Result show = Cli.run(cmd(both, "show", "--json", id));
        assertThat(show.exit()).as(show.toString()).isZero();
        assertThat(show.out()).contains("\"encryption\" : \"age\"").doesNotContain("AGE-SECRET-KEY")
                .doesNotContain(identity.toString());
        assertThat(Files.readString(backupDir.resolve("manifest.json"))).doesNotContain("AGE-SECRET-KEY");

        // No identity, then the wrong one: a KEY error, and no database left behind.
        Cli.Result none = Cli.run(cmd(both, "restore", "--backup", id, "--target-database", "app_restored"));
        assertThat(none.exit()).as(none.toString()).isEqualTo(ErrorKind.KEY.exitCode());
        assertThat(none.err()).contains("encrypted with age", "identity");
        Cli.Result wrong = Cli.run(cmd(both, "restore", "--backup", id, "--target-database", "app_restored",
                "--identity-file", otherIdentity.toString()));
        assertThat(wrong.exit()).as(wrong.toString()).isEqualTo(ErrorKind.KEY.exitCode());
        assertThat(wrong.err()).contains(otherIdentity.toString(), "cannot decrypt");
        assertThat(databaseExists("app_restored")).isFalse();

        Cli.Result ok = Cli.run(cmd(both, "restore", "--backup", id, "--target-database", "app_restored",
                "--identity-file", identity.toString()));
        assertThat(ok.exit()).as(ok.toString()).isZero();
        try (PgSession s = pg.session("app_restored")) {
            assertThat(ContentChecksum.differences(before, ContentChecksum.of(s))).isEmpty();
        }

        // S3 down: the restore reads the other repository.
        Cli.Result fallback = Cli.run(cmd(config(true, 2), "restore", "--backup", id, "--target-database", "app_fallback",
                "--identity-file", identity.toString()));
        assertThat(fallback.exit()).as(fallback.toString()).isZero();
        assertThat(fallback.err()).contains("repository 's3' failed");
        try (PgSession s = pg.session("app_fallback")) {
            assertThat(ContentChecksum.differences(before, ContentChecksum.of(s))).isEmpty();
        }
    }

    @Test
    void aRepositoryDownFailsTheBackupUnlessFewerCopiesAreAccepted() throws Exception {
        Cli.Result strict = Cli.run(cmd(config(true, 2), "backup", "--type", "logical", "--database", "app"));
        assertThat(strict.exit()).as(strict.toString()).isEqualTo(ErrorKind.STORAGE.exitCode());
        assertThat(strict.err()).contains("'s3'", "1 of 2", "min-repositories");

        Cli.Result lenient = Cli.run(cmd(config(true, 1), "backup", "--json", "--type", "logical", "--database", "app"));
        assertThat(lenient.exit()).as(lenient.toString()).isZero();
        assertThat(lenient.err()).contains("repository 's3' failed");
        String id = (String) Json.MAPPER.readValue(lenient.out(), Map.class).get("id");
        assertThat(nfs.resolve("main/backups/" + id + "/manifest.json")).exists();
        assertThat(s3Keys("main/backups/" + id + "/")).isEmpty();
        // With both up again, the backup is listed (from the repository that has it) and complete.
        Cli.Result list = Cli.run(cmd(config(false, 2), "list", "--json"));
        assertThat(list.exit()).as(list.toString()).isZero();
        assertThat(list.out()).contains(id);
    }

    @Test
    void walFilesAreEncryptedAndPushedToEnoughRepositories() throws Exception {
        Path pgWal = Files.createDirectories(work.resolve("data/pg_wal"));
        Files.createDirectories(pgWal.resolve("archive_status"));
        byte[] segment = new byte[16 * 1024 * 1024];
        new Random(5).nextBytes(segment);
        // WAL of this cluster, as its page header says (cluster.json names its system since the first backup)
        String system;
        try (io.lifeboat.postgres.PgSession s = pg.session("postgres")) {
            system = s.systemIdentifier().orElseThrow();
        }
        Path seg1 = Files.write(pgWal.resolve("000000010000000000000001"),
                io.lifeboat.postgres.TestWal.withHeader(segment, "000000010000000000000001", system));

        Cli.Result push = Cli.run(cmd(config(false, 2), "wal-push", seg1.toString()));
        assertThat(push.exit()).as(push.toString()).isZero();
        try (Stream<Path> files = Files.walk(nfs.resolve("main/wal"))) {
            assertThat(files.filter(Files::isRegularFile).map(Path::toString).toList())
                    .singleElement().asString().contains("000000010000000000000001.sha256-").endsWith(".zst.age");
        }
        assertThat(s3Keys("main/wal/")).hasSize(1);

        Path target = work.resolve("data/fetched");
        Cli.Result noKey = Cli.run(cmd(config(false, 2), "wal-fetch", "000000010000000000000001", target.toString()));
        assertThat(noKey.exit()).as(noKey.toString()).isEqualTo(200); // stops recovery instead of ending it early
        assertThat(noKey.err()).contains("identity");
        assertThat(target).doesNotExist();
        Cli.Result fetch = Cli.run(cmd(config(true, 2), "wal-fetch", "--identity-file", identity.toString(),
                "000000010000000000000001", target.toString()));
        assertThat(fetch.exit()).as(fetch.toString()).isZero();
        assertThat(Files.readAllBytes(target)).isEqualTo(segment);

        // S3 down: with two copies required the archiver is told to retry; with one it goes on.
        segment[100] ^= 1;
        Path seg2 = Files.write(pgWal.resolve("000000010000000000000002"),
                io.lifeboat.postgres.TestWal.withHeader(segment, "000000010000000000000002", system));
        Cli.Result strict = Cli.run(cmd(config(true, 2), "wal-push", seg2.toString()));
        assertThat(strict.exit()).as(strict.toString()).isEqualTo(ErrorKind.STORAGE.exitCode());
        assertThat(strict.err()).contains("'s3'");
        Cli.Result lenient = Cli.run(cmd(config(true, 1), "wal-push", seg2.toString()));
        assertThat(lenient.exit()).as(lenient.toString()).isZero();
        assertThat(lenient.err()).contains("repository 's3' failed");
        // Once S3 is back, pushing the same file again stores the missing copy.
        Cli.Result catchUp = Cli.run(cmd(config(false, 2), "wal-push", seg2.toString()));
        assertThat(catchUp.exit()).as(catchUp.toString()).isZero();
        assertThat(s3Keys("main/wal/")).hasSize(2);
    }

    @Test
    void encryptedPhysicalBackupRestoresAndPassesPgVerifybackup() throws Exception {
        Path both = config(false, 2);
        Cli.Result b = Cli.run(cmd(both, "backup", "--json", "--type", "physical", "--include-wal"));
        assertThat(b.exit()).as(b.toString()).isZero();
        String id = (String) Json.MAPPER.readValue(b.out(), Map.class).get("id");
        try (Stream<Path> files = Files.list(nfs.resolve("main/backups/" + id))) {
            assertThat(files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("base.tar.")).toList())
                    .isNotEmpty().allSatisfy(n -> assertThat(n).endsWith(".zst.age"));
        }

        // A restore drill needs the identity like a restore: a KEY error, nothing restored, no drill recorded.
        Cli.Result drill = Cli.run(cmd(both, "verify", "--restore-test", "--backup", id, "--scratch-directory",
                work.resolve("drill").toString()));
        assertThat(drill.exit()).as(drill.toString()).isEqualTo(ErrorKind.KEY.exitCode());
        assertThat(drill.err()).contains("identity");
        assertThat(nfs.resolve("main/drills/" + id)).doesNotExist();
        if (Files.isDirectory(work.resolve("drill"))) {
            try (Stream<Path> left = Files.list(work.resolve("drill"))) {
                assertThat(left).isEmpty();
            }
        }

        Path target = work.resolve("restored-" + id);
        Cli.Result wrong = Cli.run(cmd(both, "restore", "--backup", id, "--data-directory", target.toString(),
                "--identity-file", otherIdentity.toString()));
        assertThat(wrong.exit()).as(wrong.toString()).isEqualTo(ErrorKind.KEY.exitCode());
        assertThat(target).doesNotExist(); // nothing written before the key was proven

        Cli.Result r = Cli.run(cmd(both, "restore", "--json", "--backup", id, "--data-directory", target.toString(),
                "--identity-file", identity.toString()));
        assertThat(r.exit()).as(r.toString()).isZero();
        Map<?, ?> restored = Json.MAPPER.readValue(r.out(), Map.class);
        assertThat((String) restored.get("verification")).startsWith("passed (pg_verifybackup");
        assertThat(target.resolve("PG_VERSION")).exists();
    }

    /** A config encrypting with a passphrase (age scrypt) into its own prefix and directory. */
    Path passphraseConfig(Path passphraseFile) throws IOException {
        Path dir = Files.createDirectories(work.resolve("nfs-pass"));
        Path f = Files.createTempFile(work, "lifeboat-pass", ".yml");
        Files.writeString(f, """
                clusters:
                  main:
                    postgres:
                      host: 127.0.0.1
                      port: %d
                      user: postgres
                    repositories:
                      - name: s3
                        uri: s3://backups/pass?endpoint=%s&region=us-east-1&path-style=true
                        access-key-id: %s
                        secret-access-key: %s
                        allow-same-server: true
                      - name: nfs
                        uri: file://%s
                        allow-same-server: true
                    encryption:
                      passphrase-file: %s
                """.formatted(pg.port(), s3.endpoint(), s3.accessKey(), s3.secretKey(), dir, passphraseFile));
        return f;
    }

    @Test
    void passphraseEncryptedLogicalBackupRestoresOnlyWithThePassphrase() throws Exception {
        String secret = "it-passphrase " + Long.toHexString(new Random().nextLong());
        Path passFile = work.resolve("passphrase.txt");
        Files.writeString(passFile, secret + "\n");
        Files.setPosixFilePermissions(passFile, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        Path wrongFile = work.resolve("wrong-passphrase.txt");
        Files.writeString(wrongFile, "not the passphrase\n");
        Files.setPosixFilePermissions(wrongFile, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        Map<String, ContentChecksum.Entry> before;
        try (PgSession s = pg.session("app")) {
            before = ContentChecksum.of(s);
        }
        Path cfg = passphraseConfig(passFile);
        long t0 = System.nanoTime();
        Cli.Result b = Cli.run(cmd(cfg, "backup", "--json", "--type", "logical", "--database", "app"));
        long backupMs = (System.nanoTime() - t0) / 1_000_000;
        assertThat(b.exit()).as(b.toString()).isZero();
        assertThat(b.out() + b.err()).doesNotContain(secret);
        String id = (String) Json.MAPPER.readValue(b.out(), Map.class).get("id");

        Path backupDir = work.resolve("nfs-pass/main/backups/" + id);
        List<Path> stored;
        try (Stream<Path> files = Files.walk(backupDir)) {
            stored = files.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().equals("manifest.json")).toList();
        }
        assertThat(stored).isNotEmpty().allSatisfy(p -> assertThat(p.toString()).endsWith(".age"));
        for (Path p : stored) {
            assertThat(new String(Files.readAllBytes(p), java.nio.charset.StandardCharsets.ISO_8859_1))
                    .startsWith("age-encryption.org/v1\n-> scrypt ").doesNotContain("confidential note");
        }
        String manifest = Files.readString(backupDir.resolve("manifest.json"));
        assertThat(manifest).contains("\"age-scrypt\"").doesNotContain(secret).doesNotContain(passFile.toString());
        Cli.Result show = Cli.run(cmd(cfg, "show", "--json", id));
        assertThat(show.exit()).as(show.toString()).isZero();
        assertThat(show.out()).contains("\"encryption\" : \"age-scrypt\"").doesNotContain(secret);

        // A passphrase file others can read is refused before anything is written.
        Files.setPosixFilePermissions(passFile, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        Cli.Result open = Cli.run(cmd(cfg, "restore", "--backup", id, "--target-database", "app_pass"));
        assertThat(open.exit()).as(open.toString()).isEqualTo(ErrorKind.KEY.exitCode());
        assertThat(open.err()).contains("accessible by other users", "chmod 600");
        Files.setPosixFilePermissions(passFile, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));

        // The wrong passphrase (the flag beats the file setting): exit 13, and no database left behind.
        Cli.Result wrong = Cli.run(cmd(cfg, "restore", "--backup", id, "--target-database", "app_pass",
                "--passphrase-file", wrongFile.toString()));
        assertThat(wrong.exit()).as(wrong.toString()).isEqualTo(ErrorKind.KEY.exitCode());
        assertThat(wrong.err()).contains(wrongFile.toString(), "cannot decrypt").doesNotContain("not the passphrase");
        assertThat(databaseExists("app_pass")).isFalse();

        long t1 = System.nanoTime();
        Cli.Result ok = Cli.run(cmd(cfg, "restore", "--backup", id, "--target-database", "app_pass"));
        long restoreMs = (System.nanoTime() - t1) / 1_000_000;
        assertThat(ok.exit()).as(ok.toString()).isZero();
        assertThat(ok.out() + ok.err()).doesNotContain(secret);
        try (PgSession s = pg.session("app_pass")) {
            assertThat(ContentChecksum.differences(before, ContentChecksum.of(s))).isEmpty();
        }
        System.out.printf("passphrase IT: %d objects, backup %d ms, restore %d ms (scrypt 2^16 per object)%n",
                stored.size(), backupMs, restoreMs);

        // The standard age tool decrypts an object by hand; it reads passphrases only from a terminal.
        Path toc = stored.stream().filter(p -> p.getFileName().toString().startsWith("toc.dat")).findFirst().orElseThrow();
        Path plain = work.resolve("toc.dat.zst");
        String py = String.join("\n",
                "import os, pty, sys, time",
                "pid, fd = pty.fork()",
                "if pid == 0:",
                "    os.execvp('age', ['age', '-d', '-o', sys.argv[1], sys.argv[2]])",
                "buf = b''",
                "deadline = time.time() + 30",
                "while b'assphrase' not in buf and time.time() < deadline:",
                "    buf += os.read(fd, 1024)",
                "os.write(fd, os.environ['IT_PASSPHRASE'].encode() + b'\\n')",
                "try:",
                "    while os.read(fd, 1024):",
                "        pass",
                "except OSError:",
                "    pass",
                "sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))");
        ExternalProcess.Result byHand = new ExternalProcess(List.of("python3", "-c", py, plain.toString(), toc.toString()),
                Map.of("IT_PASSPHRASE", secret)).run();
        assertThat(byHand.exitCode()).as(byHand.stdout() + byHand.stderr()).isZero();
        ExternalProcess.Result head = new ExternalProcess(List.of("sh", "-c", "zstd -dc " + plain + " | head -c 5"),
                Map.of()).run();
        assertThat(head.stdout()).as(head.stderr()).isEqualTo("PGDMP");
    }
}
