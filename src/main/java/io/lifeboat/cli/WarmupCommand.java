package io.lifeboat.cli;

import io.lifeboat.catalog.Json;
import io.lifeboat.codec.Compression;
import io.lifeboat.codec.Encryption;
import io.lifeboat.config.ClusterConfig;
import io.lifeboat.config.ConfigLoader;
import io.lifeboat.engine.RepositoryAccess;
import io.lifeboat.engine.archive.ArchiveWarmup;
import io.lifeboat.engine.physical.PhysicalWarmup;
import io.lifeboat.engine.ObjectPipeline;
import io.lifeboat.postgres.PgConnectionSettings;
import io.lifeboat.postgres.PgSession;
import io.lifeboat.postgres.ScratchCluster;
import io.lifeboat.storage.EmbeddedS3Server;
import io.lifeboat.storage.S3Storage;
import io.lifeboat.storage.S3Settings;
import io.lifeboat.storage.Timeouts;
import io.lifeboat.storage.TlsSettings;
import io.lifeboat.postgres.ExternalProcess;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * Exercises the code paths every command uses (configuration, the off-server guard, JSON, S3
 * client, codecs, a physical backup's and restore's data path, the PostgreSQL driver) without
 * touching anything real, so that the launcher can record a class-data-sharing archive from it:
 * short commands such as wal-push then start in a fraction of the time.
 */
@Command(name = "warmup", hidden = true, description = "Load the classes commands use (for the start-up archive).")
final class WarmupCommand implements Callable<Integer> {
    @Override
    public Integer call() throws Exception {
        Path dir = Files.createTempDirectory("lifeboat-warmup-");
        Process keytool = startCertificate(dir.resolve("tls"));
        try {
            LifeboatCommand.commandLine(new LifeboatCommand(new PrintStream(OutputStream.nullOutputStream()),
                    new PrintStream(OutputStream.nullOutputStream())), new String[0]).usage(new PrintStream(OutputStream.nullOutputStream()));
            Path yml = dir.resolve("lifeboat.yml");
            Files.writeString(yml, "clusters:\n  w:\n    postgres:\n      host: 127.0.0.1\n    repositories:\n"
                    + "      - uri: file://" + dir.resolve("repo") + "\n        compression: lz4\n"
                    + "        allow-same-server: true\n");
            ClusterConfig cluster = ConfigLoader.load(yml, null, Map.of(), Map.of());
            Files.createDirectory(dir.resolve("repo"));
            try (RepositoryAccess repo = RepositoryAccess.open(cluster, w -> { })) {
                repo.catalog().list();
            }
            PhysicalWarmup.run(dir.resolve("physical"));
            try (EmbeddedS3Server s3 = EmbeddedS3Server.start(dir.resolve("s3"))) {
                s3.createBucket("warmup");
                S3Settings s = s3.settings("warmup", "p");
                try (S3Storage st = new S3Storage(new S3Settings(s.bucket(), s.prefix(), s.endpoint(), s.region(), true,
                        s.accessKeyId(), s.secretAccessKey(), 5 * 1024 * 1024, 2))) {
                    st.probe();
                    for (Compression c : Compression.values()) {
                        ObjectPipeline p = new ObjectPipeline(st, c, 0, Encryption.NONE);
                        var o = p.store("o" + c.suffix(), "o" + c.suffix(), new ByteArrayInputStream(new byte[6 << 20]), 0);
                        p.fetch("o" + c.suffix(), o, new ByteArrayOutputStream());
                        Json.MAPPER.readValue(Json.MAPPER.writeValueAsBytes(o), io.lifeboat.catalog.StoredObject.class);
                    }
                    st.list("");
                    st.stat("o.zst");
                    st.delete("o.zst");
                }
            }
            warmUpTls(dir.resolve("tls"), keytool);
            LifeboatCommand.commandLine(new LifeboatCommand(new PrintStream(OutputStream.nullOutputStream()),
                    new PrintStream(OutputStream.nullOutputStream())), new String[] {"wal-push"})
                    .parseArgs("wal-push", "--config", yml.toString(), "--cluster", "w", "pg_wal/000000010000000000000001");
            int closed;
            try (ServerSocket ss = new ServerSocket(0)) {
                closed = ss.getLocalPort();
            }
            try {
                PgSession.open(new PgConnectionSettings("127.0.0.1", closed, "warmup", "warmup", null, null)).close();
            } catch (RuntimeException expected) {
                // nobody listens there: we only wanted the driver's classes
            }
        } finally {
            if (keytool != null) {
                keytool.destroy(); // done by now, unless the warmup failed before it needed the certificate
            }
            ScratchCluster.deleteTree(dir);
        }
        return 0;
    }

    /** A throwaway key's password, handed to keytool through its environment: never in a process's arguments. */
    private static final String TLS_PASSWORD = java.util.UUID.randomUUID().toString();

    /**
     * A self-signed certificate for 127.0.0.1 from the JDK's keytool, made in the background while
     * the rest of the warmup runs; null where keytool cannot start.
     */
    private static Process startCertificate(Path dir) {
        try {
            Files.createDirectories(dir);
            Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
            return new ExternalProcess(List.of(keytool.toString(), "-genkeypair", "-alias", "s3", "-keyalg", "EC",
                    "-groupname", "secp256r1", "-dname", "CN=127.0.0.1", "-ext", "san=ip:127.0.0.1", "-validity", "2",
                    "-storetype", "PKCS12", "-keystore", dir.resolve("s3.p12").toString(),
                    "-storepass:env", "LIFEBOAT_WARMUP_STOREPASS"), Map.of("LIFEBOAT_WARMUP_STOREPASS", TLS_PASSWORD)).start();
        } catch (Exception e) {
            return null;
        }
    }

    /**
     * The same S3 calls over https with a CA file, as a repository on a real S3 endpoint is used: without this
     * the TLS stack (about 700 JDK classes: handshake, certificates, EC keys, AES-GCM) loaded outside the
     * archive at every start, some 0.4 s of CPU before a restore's first download. Where keytool could not
     * make the certificate, the archive simply goes without these classes.
     */
    private static void warmUpTls(Path dir, Process keytool) {
        try {
            if (keytool == null || keytool.waitFor() != 0) {
                return;
            }
            Path store = dir.resolve("s3.p12");
            java.security.KeyStore ks = java.security.KeyStore.getInstance("PKCS12");
            try (var in = Files.newInputStream(store)) {
                ks.load(in, TLS_PASSWORD.toCharArray());
            }
            Path ca = dir.resolve("s3.pem");
            Files.writeString(ca, "-----BEGIN CERTIFICATE-----\n" + java.util.Base64.getMimeEncoder(64,
                    new byte[] {'\n'}).encodeToString(ks.getCertificate("s3").getEncoded()) + "\n-----END CERTIFICATE-----\n");
            try (EmbeddedS3Server s3 = EmbeddedS3Server.startTls(dir.resolve("data"), store, TLS_PASSWORD)) {
                s3.createBucket("warmup");
                S3Settings s = s3.settings("warmup", "p");
                try (S3Storage st = new S3Storage(new S3Settings(s.bucket(), s.prefix(), s.endpoint(), s.region(), true,
                        s.accessKeyId(), s.secretAccessKey(), 5 * 1024 * 1024, 2, Timeouts.DEFAULT,
                        new TlsSettings(ca, true)))) {
                    st.probe();
                    ObjectPipeline p = new ObjectPipeline(st, Compression.ZSTD, 0, Encryption.NONE);
                    var o = p.store("o.zst", "o.zst", new ByteArrayInputStream(new byte[1 << 20]), 0);
                    p.fetch("o.zst", o, new ByteArrayOutputStream());
                    st.list("");
                    st.stat("o.zst");
                    ArchiveWarmup.run(dir.resolve("wal"), st);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception | LinkageError e) {
            // only an optimisation of start-up: the archive is still made, without the TLS classes
        }
    }
}
