package io.lifeboat.storage;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStoreContext;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Properties;

/**
 * A real S3 server (s3proxy with its filesystem backend) inside this JVM, on 127.0.0.1. The demo
 * and the integration tests use it as the S3 peer; it speaks the same protocol, signatures and
 * multipart uploads as any S3-compatible service. Credentials are random per instance.
 */
public final class EmbeddedS3Server implements AutoCloseable {
    private final S3Proxy proxy;
    private final BlobStoreContext context;
    private final String accessKey;
    private final String secretKey;
    private final boolean tls;

    private EmbeddedS3Server(S3Proxy proxy, BlobStoreContext context, String accessKey, String secretKey, boolean tls) {
        this.proxy = proxy;
        this.context = context;
        this.accessKey = accessKey;
        this.secretKey = secretKey;
        this.tls = tls;
    }

    public static EmbeddedS3Server start(Path dataDir) {
        return start(dataDir, 0);
    }

    /** @param port a port on 127.0.0.1, or 0 for a free one */
    public static EmbeddedS3Server start(Path dataDir, int port) {
        return start(dataDir, port, null, null);
    }

    /**
     * A server that speaks https only, with the key and certificate of a PKCS#12 key store (a test's
     * self-signed or private-CA certificate).
     */
    public static EmbeddedS3Server startTls(Path dataDir, Path keyStore, String password) {
        return start(dataDir, 0, keyStore, password);
    }

    /** As {@link #startTls(Path, Path, String)}, on a given port (0: a free one). */
    public static EmbeddedS3Server startTls(Path dataDir, int port, Path keyStore, String password) {
        return start(dataDir, port, keyStore, password);
    }

    private static EmbeddedS3Server start(Path dataDir, int port, Path keyStore, String password) {
        try {
            Files.createDirectories(dataDir);
            Properties props = new Properties();
            props.setProperty("jclouds.filesystem.basedir", dataDir.toAbsolutePath().toString());
            BlobStoreContext context = ContextBuilder.newBuilder("filesystem").overrides(props)
                    .build(BlobStoreContext.class);
            SecureRandom random = new SecureRandom();
            String access = "LB" + HexFormat.of().formatHex(random.generateSeed(8)).toUpperCase(java.util.Locale.ROOT);
            String secret = HexFormat.of().formatHex(random.generateSeed(20));
            S3Proxy.Builder b = S3Proxy.builder()
                    .blobStore(context.getBlobStore())
                    .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, access, secret)
                    .v4MaxNonChunkedRequestSize(128L * 1024 * 1024);
            if (keyStore == null) {
                b.endpoint(URI.create("http://127.0.0.1:" + port));
            } else {
                b.secureEndpoint(URI.create("https://127.0.0.1:" + port)).keyStore(keyStore.toString(), password);
            }
            S3Proxy proxy = b.build();
            proxy.start();
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (!"STARTED".equals(proxy.getState())) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("s3proxy did not start: " + proxy.getState());
                }
                Thread.sleep(5);
            }
            return new EmbeddedS3Server(proxy, context, access, secret, keyStore != null);
        } catch (LifeboatException e) {
            throw e;
        } catch (Exception e) {
            throw new LifeboatException(ErrorKind.STORAGE, "cannot start the embedded S3 server in " + dataDir + ": " + e,
                    "check that the directory is writable and the port is free", e);
        }
    }

    public URI endpoint() {
        return URI.create((tls ? "https" : "http") + "://127.0.0.1:" + port());
    }

    public int port() {
        return tls ? proxy.getSecurePort() : proxy.getPort();
    }

    public String accessKey() {
        return accessKey;
    }

    public String secretKey() {
        return secretKey;
    }

    public void createBucket(String bucket) {
        context.getBlobStore().createContainerInLocation(null, bucket);
    }

    /** Settings for an {@link S3Storage} on this server. */
    public S3Settings settings(String bucket, String prefix) {
        return new S3Settings(bucket, prefix, endpoint(), "us-east-1", true, accessKey, secretKey,
                S3Settings.DEFAULT_PART_SIZE, S3Settings.DEFAULT_CONCURRENCY);
    }

    @Override
    public void close() {
        try {
            proxy.stop();
        } catch (Exception ignored) {
            // stopping a test server: nothing to do about a failure
        }
        context.close();
    }
}
