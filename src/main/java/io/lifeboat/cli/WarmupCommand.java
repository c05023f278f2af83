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
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
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
            warmTls(dir);
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
            ScratchCluster.deleteTree(dir);
        }
        return 0;
    }

    /**
     * S3 over https (a throwaway self-signed key made with the JDK's keytool, checked against its
     * certificate as a ca-file) and wal-push's path through it: the TLS classes are most of what a
     * wal-push JVM or archive-ahead process would otherwise load from the JDK at start. Skipped
     * when keytool is not there.
     */
    private static void warmTls(Path dir) throws Exception {
        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        if (!Files.isExecutable(keytool)) {
            return;
        }
        Path store = dir.resolve("tls.p12");
        Path cert = dir.resolve("tls.pem");
        String password = java.util.UUID.randomUUID().toString();
        Map<String, String> env = Map.of("LIFEBOAT_WARMUP_STOREPASS", password);
        new io.lifeboat.postgres.ExternalProcess(java.util.List.of(keytool.toString(), "-genkeypair", "-alias", "s3",
                "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=127.0.0.1", "-ext", "san=ip:127.0.0.1",
                "-validity", "2", "-storetype", "PKCS12", "-keystore", store.toString(),
                "-storepass:env", "LIFEBOAT_WARMUP_STOREPASS"), env).runChecked("keytool -genkeypair");
        new io.lifeboat.postgres.ExternalProcess(java.util.List.of(keytool.toString(), "-exportcert", "-rfc", "-alias", "s3",
                "-keystore", store.toString(), "-storepass:env", "LIFEBOAT_WARMUP_STOREPASS", "-file", cert.toString()), env)
                .runChecked("keytool -exportcert");
        try (EmbeddedS3Server s3 = EmbeddedS3Server.startTls(dir.resolve("s3tls"), store, password)) {
            s3.createBucket("warmup");
            S3Settings s = s3.settings("warmup", "p");
            try (S3Storage st = new S3Storage(new S3Settings(s.bucket(), s.prefix(), s.endpoint(), s.region(), true,
                    s.accessKeyId(), s.secretAccessKey(), 5 * 1024 * 1024, 2, io.lifeboat.storage.Timeouts.DEFAULT,
                    new io.lifeboat.storage.TlsSettings(cert, true)))) {
                st.probe();
                ArchiveWarmup.run(dir.resolve("wal"), st);
            }
        }
    }
}
