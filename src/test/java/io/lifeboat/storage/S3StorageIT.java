package io.lifeboat.storage;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** The storage contract against a real S3 server (s3proxy), with 5 MiB multipart parts. */
class S3StorageIT extends StorageContract {
    static EmbeddedS3Server server;
    static Path dir;
    static final AtomicInteger BUCKETS = new AtomicInteger();

    @BeforeAll
    static void start() throws Exception {
        dir = Files.createTempDirectory("lifeboat-s3-contract-");
        server = EmbeddedS3Server.start(dir);
    }

    @AfterAll
    static void stop() {
        server.close();
        io.lifeboat.postgres.ScratchCluster.deleteTree(dir);
    }

    @Override
    protected Storage open() {
        String bucket = "contract-" + BUCKETS.incrementAndGet();
        server.createBucket(bucket);
        S3Settings s = server.settings(bucket, "some/prefix");
        return new S3Storage(new S3Settings(s.bucket(), s.prefix(), s.endpoint(), s.region(), true, s.accessKeyId(),
                s.secretAccessKey(), 5 * 1024 * 1024, 4));
    }

    @Override
    protected int big() {
        return 12 * 1024 * 1024 + 17;
    }

    @Test
    void objectsLiveUnderThePrefix() throws Exception {
        storage.put("k/v", new byte[] {7});
        assertThat(storage.describe()).contains("some/prefix");
        assertThat(storage.list("")).extracting(ObjectInfo::key).containsExactly("k/v");
    }

    @Test
    void aSizeHintLetsAnObjectLargerThanAPartGoUpAsOnePut() throws Exception {
        byte[] data = new byte[7 * 1024 * 1024 + 3];
        new java.util.Random(5).nextBytes(data);
        write(storage.create("hinted", data.length + 100), data);
        write(storage.create("plain"), data);
        write(storage.create("under-hinted", 6 * 1024 * 1024), data);
        for (String k : new String[] {"hinted", "plain", "under-hinted"}) {
            assertThat(storage.get(k)).as(k).isEqualTo(data);
        }
        // A multipart upload's ETag ends in -<parts>; a plain PUT's is the MD5 of the content.
        assertThat(etag("hinted")).doesNotContain("-");
        assertThat(etag("plain")).contains("-");
        assertThat(etag("under-hinted")).contains("-");
    }

    private static void write(ObjectWriter w, byte[] data) throws Exception {
        try (w) {
            w.write(data);
            w.commit();
        }
    }

    private String etag(String key) {
        S3Settings s = server.settings("x", "");
        String bucket = storage.describe().replaceAll("^s3://([^/]+)/.*$", "$1");
        try (software.amazon.awssdk.services.s3.S3Client c = software.amazon.awssdk.services.s3.S3Client.builder()
                .endpointOverride(s.endpoint()).region(software.amazon.awssdk.regions.Region.of(s.region()))
                .forcePathStyle(true).credentialsProvider(software.amazon.awssdk.auth.credentials.StaticCredentialsProvider
                        .create(software.amazon.awssdk.auth.credentials.AwsBasicCredentials.create(s.accessKeyId(),
                                s.secretAccessKey()))).build()) {
            return c.headObject(b -> b.bucket(bucket).key("some/prefix/" + key)).eTag();
        }
    }

    @Test
    void settingsNeverPrintTheSecret() {
        S3Settings s = server.settings("b", "");
        assertThat(s.toString()).doesNotContain(s.secretAccessKey()).doesNotContain(s.accessKeyId());
    }
}
