package io.lifeboat.storage;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.StoredObject;
import io.lifeboat.codec.Compression;
import io.lifeboat.codec.Encryption;
import io.lifeboat.engine.ObjectPipeline;
import io.lifeboat.storage.FaultProxy.Fault;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.MultipartUpload;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Uploads from an encoded array, and what is left of multipart uploads, against a real S3 server
 * (s3proxy, filesystem backend) through the fault-injecting proxy. What the server holds of
 * unfinished uploads is asked of it directly (ListMultipartUploads), never of the driver under test.
 */
class S3UploadsIT {
    private static final int PART = 5 * 1024 * 1024;
    private static final Duration TIMEOUT = Duration.ofSeconds(2);
    private static EmbeddedS3Server server;
    private static FaultProxy proxy;
    private static Path dir;
    private static S3Client raw;
    private static final AtomicInteger BUCKETS = new AtomicInteger();
    private String bucket;
    private S3Storage storage;

    @BeforeAll
    static void start() throws Exception {
        dir = Files.createTempDirectory("lifeboat-s3-uploads-");
        server = EmbeddedS3Server.start(dir);
        proxy = FaultProxy.start(server.port()).stallFor(TIMEOUT.multipliedBy(2));
        raw = S3Client.builder().endpointOverride(server.endpoint()).region(Region.US_EAST_1)
                .forcePathStyle(true).credentialsProvider(StaticCredentialsProvider.create(
                        AwsBasicCredentials.create(server.accessKey(), server.secretKey()))).build();
    }

    @AfterAll
    static void stop() {
        raw.close();
        proxy.close();
        server.close();
        io.lifeboat.postgres.ScratchCluster.deleteTree(dir);
    }

    @BeforeEach
    void open() {
        bucket = "uploads-" + BUCKETS.incrementAndGet();
        server.createBucket(bucket);
        S3Settings s = server.settings(bucket, "some/prefix");
        storage = new S3Storage(new S3Settings(s.bucket(), s.prefix(), proxy.endpoint(), s.region(), true, s.accessKeyId(),
                s.secretAccessKey(), PART, 4).with(proxy.endpoint(), new Timeouts(TIMEOUT, TIMEOUT, Duration.ofSeconds(1))));
    }

    @AfterEach
    void close() {
        proxy.reset();
        storage.close();
    }

    /** The unfinished uploads the server holds in the bucket, asked directly. */
    private List<MultipartUpload> pending() {
        return raw.listMultipartUploads(b -> b.bucket(bucket)).uploads();
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new java.util.Random(seed).nextBytes(b);
        return b;
    }

    /** A tar chunk's worth of half-compressible bytes: text runs between random ones. */
    private static byte[] chunk(int n, long seed) {
        byte[] b = random(n, seed);
        for (int i = 0; i < n; i += 8192) {
            java.util.Arrays.fill(b, i, Math.min(n, i + 4096), (byte) ('a' + (i / 8192) % 26));
        }
        return b;
    }

    /**
     * An encoded chunk goes up from the encode buffer as one PUT with Content-MD5, through every
     * fault once, and reads back (verified, decoded) identical; the server's answer confirms it. Then
     * larger than the single-PUT limit: a multipart upload of slices of the array, under random faults.
     */
    @Test
    void anEncodedChunkGoesUpFromItsArrayAndReadsBackIdentical() throws Exception {
        ObjectPipeline pipeline = new ObjectPipeline(storage, Compression.ZSTD, 3, Encryption.NONE);
        ObjectPipeline.EncodeBuffer buffer = new ObjectPipeline.EncodeBuffer();
        for (Fault f : Fault.values()) {
            byte[] data = chunk(3 * 1024 * 1024, f.ordinal());
            proxy.rule(r -> r.method().equals("PUT"), f, 1);
            int before = proxy.requests();
            StoredObject o = pipeline.store("c/" + f + ".zst", "c/" + f + ".zst", data, data.length, buffer);
            assertThat(proxy.injected(f)).as("fault %s given", f).isEqualTo(1);
            assertThat(proxy.log()).noneMatch(l -> l.contains("?uploads"));
            assertThat(proxy.requests() - before).as("one PUT and its retry under %s", f).isEqualTo(2);
            byte[] back = new byte[data.length];
            try (S3Storage direct = new S3Storage(server.settings(bucket, "some/prefix"))) {
                new ObjectPipeline(direct, Compression.ZSTD, 3, Encryption.NONE).fetchInto("c/" + f + ".zst", o, back,
                        byte[]::new);
            }
            assertThat(back).as("read back after %s", f).isEqualTo(data);
        }
        byte[] data = random(3 * 1024 * 1024, 99);
        assertThat(storage.putFrom("c/confirmed", data, 0, data.length)).as("an MD5 ETag confirms a single PUT").isTrue();

        storage.singlePutLimit(PART);
        proxy.random(0.25, 7, FaultProxy.Request::isWrite, Fault.DROP, Fault.RESET, Fault.SLOW_DOWN, Fault.EMPTY_200);
        byte[] large = random(3 * PART + 1234, 5); // incompressible: four parts
        StoredObject o = pipeline.store("c/large.zst", "c/large.zst", large, large.length, buffer);
        proxy.clear();
        assertThat(raw.headObject(b -> b.bucket(bucket).key("some/prefix/c/large.zst")).eTag())
                .as("stored as a multipart upload").endsWith("-4\"");
        byte[] back = new byte[large.length];
        pipeline.fetchInto("c/large.zst", o, back, byte[]::new);
        assertThat(back).isEqualTo(large);
        assertThat(pending()).isEmpty();
    }

    /** A multipart upload whose part keeps failing is aborted: the server holds no unfinished upload. */
    @Test
    void aFailedMultipartWriteLeavesNoUploadBehind() throws Exception {
        assertServerListsUploads();
        storage.singlePutLimit(PART);
        byte[] large = random(3 * PART, 1);
        proxy.rule(r -> r.query().contains("partNumber=2"), Fault.DROP, 1000);
        assertThatThrownBy(() -> storage.putFrom("f/array", large, 0, large.length))
                .isInstanceOfSatisfying(LifeboatException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.STORAGE));
        assertThat(pending()).as("after a failed upload from an array").isEmpty();

        try (ObjectWriter w = storage.create("f/stream")) {
            w.write(large);
            assertThatThrownBy(w::commit).isInstanceOf(LifeboatException.class);
        }
        assertThat(pending()).as("after a failed streamed upload").isEmpty();
        proxy.clear();

        // a writer dropped without commit or close: closing the storage aborts its upload
        ObjectWriter forgotten = storage.create("f/forgotten");
        forgotten.write(large);
        assertThat(storage.openUploads()).isEqualTo(1);
        assertThat(pending()).hasSize(1);
        storage.close();
        assertThat(pending()).as("after the storage closed").isEmpty();
        try (S3Storage direct = new S3Storage(server.settings(bucket, "some/prefix"))) {
            assertThat(direct.list("f/")).isEmpty();
        }
    }

    /** A thread interrupted while its parts go up (the SIGINT path) aborts the upload on its way out. */
    @Test
    void anInterruptedMultipartWriteLeavesNoUploadBehind() throws Exception {
        assertServerListsUploads();
        storage.singlePutLimit(PART);
        byte[] large = random(3 * PART, 2);
        proxy.rule(r -> r.query().contains("partNumber"), Fault.STALL, 1000);
        AtomicReference<Throwable> failed = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                storage.putFrom("i/array", large, 0, large.length);
            } catch (Throwable e) {
                failed.set(e);
            }
        });
        t.start();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (proxy.log().stream().noneMatch(l -> l.contains("partNumber")) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(pending()).as("the upload is under way").hasSize(1);
        t.interrupt();
        t.join(30_000);
        assertThat(t.isAlive()).isFalse();
        assertThat(failed.get()).isInstanceOf(LifeboatException.class);
        proxy.clear();
        assertThat(pending()).as("after the interrupted upload").isEmpty();
    }

    /**
     * The clean-up of killed writers' uploads aborts those begun before the cut-off under the prefix
     * asked for, and leaves the younger ones and those of another cluster. (s3proxy answers every
     * upload's Initiated with the time of the listing, not of its start, so the age of one upload
     * cannot be set apart from another's here: a cut-off a day ago keeps all, as for a live writer;
     * one in the future takes all under the prefix.)
     */
    @Test
    void staleUploadsAreAbortedAndYoungOnesKept() throws Exception {
        assertServerListsUploads();
        String backup = raw.createMultipartUpload(b -> b.bucket(bucket).key("some/prefix/c1/backups/x/base.tar.000001.zst"))
                .uploadId();
        String wal = raw.createMultipartUpload(b -> b.bucket(bucket).key("some/prefix/c1/wal/0001.zst")).uploadId();
        String otherCluster = raw.createMultipartUpload(b -> b.bucket(bucket).key("some/prefix/c2/wal/0001.zst")).uploadId();
        String otherPrefix = raw.createMultipartUpload(b -> b.bucket(bucket).key("elsewhere/c1/wal/0001.zst")).uploadId();

        assertThat(storage.staleUploads("c1/", Instant.now().minus(Duration.ofHours(24)), true))
                .as("all begun within the day: young").isEmpty();
        assertThat(pending()).hasSize(4);
        assertThat(storage.staleUploads("c1/", Instant.now().plusSeconds(60), false)).extracting(StaleUpload::key)
                .as("a dry run lists them").containsExactlyInAnyOrder("c1/backups/x/base.tar.000001.zst", "c1/wal/0001.zst");
        assertThat(pending()).as("and aborts none").hasSize(4);

        proxy.rule(r -> r.method().equals("GET") && r.query().contains("uploads"), Fault.RESET, 1);
        List<StaleUpload> aborted = storage.staleUploads("c1/", Instant.now().plusSeconds(60), true);
        assertThat(aborted).extracting(StaleUpload::key)
                .containsExactlyInAnyOrder("c1/backups/x/base.tar.000001.zst", "c1/wal/0001.zst");
        assertThat(proxy.injected(Fault.RESET)).as("the listing was retried").isEqualTo(1);
        assertThat(pending()).extracting(MultipartUpload::uploadId).containsExactlyInAnyOrder(otherCluster, otherPrefix)
                .doesNotContain(backup, wal);
        assertThat(storage.staleUploads("c1/", Instant.now().plusSeconds(60), true)).isEmpty();
    }

    /** Without ListMultipartUploads on this server the tests above would prove nothing: fail, never skip. */
    private void assertServerListsUploads() {
        String id = raw.createMultipartUpload(b -> b.bucket(bucket).key("probe")).uploadId();
        assertThat(pending()).as("s3proxy lists unfinished uploads").extracting(MultipartUpload::uploadId).contains(id);
        raw.abortMultipartUpload(b -> b.bucket(bucket).key("probe").uploadId(id));
        assertThat(pending()).isEmpty();
    }
}
