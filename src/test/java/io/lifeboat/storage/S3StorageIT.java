package io.lifeboat.storage;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.storage.FaultProxy.Fault;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The storage contract against a real S3 server (s3proxy), with 5 MiB multipart parts, through a
 * fault-injecting proxy; and every kind of request under every fault the proxy can give.
 */
class S3StorageIT extends StorageContract {
    static final Duration READ_TIMEOUT = Duration.ofSeconds(2);
    static EmbeddedS3Server server;
    static FaultProxy proxy;
    static Path dir;
    static final AtomicInteger BUCKETS = new AtomicInteger();
    String bucket;

    @BeforeAll
    static void start() throws Exception {
        dir = Files.createTempDirectory("lifeboat-s3-contract-");
        server = EmbeddedS3Server.start(dir);
        proxy = FaultProxy.start(server.port()).stallFor(READ_TIMEOUT.multipliedBy(2));
    }

    @AfterAll
    static void stop() {
        proxy.close();
        server.close();
        io.lifeboat.postgres.ScratchCluster.deleteTree(dir);
    }

    @AfterEach
    void noMoreFaults() {
        proxy.reset();
    }

    @Override
    protected Storage open() {
        bucket = "contract-" + BUCKETS.incrementAndGet();
        server.createBucket(bucket);
        return new S3Storage(settings(bucket).with(proxy.endpoint(), new Timeouts(READ_TIMEOUT, READ_TIMEOUT, RETRY)));
    }

    /** Straight to the server, not through the proxy: to check what really is stored. */
    private S3Storage direct() {
        return new S3Storage(settings(bucket));
    }

    private static S3Settings settings(String bucket) {
        S3Settings s = server.settings(bucket, "some/prefix");
        return new S3Settings(s.bucket(), s.prefix(), s.endpoint(), s.region(), true, s.accessKeyId(),
                s.secretAccessKey(), 5 * 1024 * 1024, 4);
    }

    @Override
    protected Faults faults() {
        return new Faults() {
            @Override
            public void cutReads(int times) {
                proxy.rule(FaultProxy.Request::isObjectGet, Fault.RESET, times);
            }

            @Override
            public void failReads(int times) {
                proxy.rule(FaultProxy.Request::isObjectGet, Fault.DROP, times);
            }

            @Override
            public boolean invalidListings(int times) {
                proxy.rule(FaultProxy.Request::isList, Fault.EMPTY_200, times);
                return true;
            }

            @Override
            public void clear() {
                proxy.clear();
            }
        };
    }

    /**
     * Each fault once on each kind of request (single PUT; a multipart upload's start, a part and its
     * completion; HEAD of a present and of an absent object; GET; listing; DELETE): every operation
     * does what it should, as the server (asked directly) shows.
     */
    @Test
    void everyKindOfRequestSurvivesEveryFault() throws Exception {
        try (S3Storage direct = direct()) {
            for (Fault f : Fault.values()) {
                String k = "f/" + f.name().toLowerCase(java.util.Locale.ROOT);
                byte[] small = bytes(1000, f.ordinal());
                once(r -> r.method().equals("PUT") && !r.query().contains("partNumber"), f);
                storage.put(k + "/small", small);
                assertThat(direct.get(k + "/small")).as("PUT under %s", f).isEqualTo(small);

                byte[] large = bytes(5 * 1024 * 1024 + 17, f.ordinal()); // two parts
                once(r -> r.method().equals("POST") && r.query().contains("uploads"), f);
                once(r -> r.query().contains("partNumber=2"), f);
                once(r -> r.method().equals("POST") && r.query().contains("uploadId"), f);
                try (ObjectWriter w = storage.create(k + "/large")) { // streamed: a whole array goes up as one PUT
                    w.write(large);
                    w.commit();
                }
                assertThat(direct.get(k + "/large")).as("multipart upload under %s", f).isEqualTo(large);

                once(FaultProxy.Request::isHead, f);
                assertThat(storage.stat(k + "/large")).as("HEAD under %s", f).hasValueSatisfying(o ->
                        assertThat(o.size()).isEqualTo(large.length));
                once(FaultProxy.Request::isHead, f);
                assertThat(storage.stat(k + "/absent")).as("HEAD of an absent object under %s", f).isEmpty();

                once(FaultProxy.Request::isObjectGet, f);
                assertThat(storage.get(k + "/large")).as("GET under %s", f).isEqualTo(large);

                once(FaultProxy.Request::isList, f);
                assertThat(storage.list(k + "/")).as("listing under %s", f).extracting(ObjectInfo::key)
                        .containsExactly(k + "/large", k + "/small");

                once(r -> r.method().equals("DELETE"), f);
                storage.delete(k + "/small");
                assertThat(direct.stat(k + "/small")).as("DELETE under %s", f).isEmpty();
            }
        }
        assertThat(proxy.log()).hasSize(Fault.values().length * 9);
    }

    /**
     * A write its caller verifies goes up with Content-MD5, and the server's ETag equal to it confirms
     * the content (wal-push then needs no HEAD), through every fault on the PUT; a plain write, or one
     * too large for a single PUT, is not confirmed (its caller reads the size back).
     */
    @Test
    void aWriteWithContentMd5IsConfirmedByTheServersAnswer() throws Exception {
        try (S3Storage direct = direct()) {
            for (Fault f : Fault.values()) {
                String k = "md5/" + f.name().toLowerCase(java.util.Locale.ROOT);
                byte[] data = bytes(300_000, f.ordinal());
                once(r -> r.method().equals("PUT"), f);
                try (ObjectWriter w = storage.createConfirmed(k, data.length)) {
                    assertThat(w.confirmed()).isFalse();
                    w.write(data);
                    assertThat(w.commit()).isEqualTo(data.length);
                    assertThat(w.confirmed()).as("confirmed through %s", f).isTrue();
                }
                assertThat(direct.get(k)).as("stored through %s", f).isEqualTo(data);
            }
            try (ObjectWriter w = storage.create("md5/plain", 1000)) {
                w.write(bytes(1000, 1));
                w.commit();
                assertThat(w.confirmed()).isFalse();
            }
            try (ObjectWriter w = storage.createConfirmed("md5/multipart", 0)) {
                w.write(bytes(5 * 1024 * 1024 + 17, 2));
                w.commit();
                assertThat(w.confirmed()).as("a multipart upload has no MD5 ETag").isFalse();
            }
        }
    }

    private static void once(Predicate<FaultProxy.Request> which, Fault f) {
        proxy.rule(which, f, 1);
    }

    /** A GET that broke off resumes with If-Match on the first answer's ETag: a replaced object fails the read. */
    @Test
    void aResumedGetOfAReplacedObjectFailsRatherThanSplice() throws Exception {
        storage.put("v/obj", bytes(big(), 1));
        once(FaultProxy.Request::isObjectGet, Fault.TRUNCATE);
        try (var in = storage.read("v/obj")) {
            in.readNBytes(1000);
            storage.put("v/obj", bytes(big(), 2));
            assertThatThrownBy(in::readAllBytes).isInstanceOfSatisfying(LifeboatException.class, e -> {
                assertThat(e.kind()).isEqualTo(ErrorKind.STORAGE);
                assertThat(e.getMessage()).contains("v/obj", "changed while it was being read");
            });
        }
    }

    /** A listing in pages: each page is checked, and a page lost on the way is asked for again. */
    @Test
    void aListingInPagesSurvivesALostPage() throws Exception {
        ((S3Storage) storage).listPageSize(2);
        for (int i = 0; i < 7; i++) {
            storage.put("p/" + i, new byte[] {(byte) i});
        }
        once(r -> r.isList() && r.query().contains("continuation-token"), Fault.EMPTY_200);
        once(r -> r.isList() && r.query().contains("continuation-token"), Fault.TRUNCATE);
        assertThat(storage.list("p/")).extracting(ObjectInfo::key).containsExactly("p/0", "p/1", "p/2", "p/3", "p/4",
                "p/5", "p/6");
        assertThat(proxy.log()).hasSize(2);
    }

    /** With a quarter of all requests broken (seeded), parallel writers and readers still get every byte right. */
    @Test
    void aQuarterOfRequestsFaultyAndEveryObjectStillRight() throws Exception {
        proxy.random(0.25, 42, r -> true, Fault.DROP, Fault.RESET, Fault.TRUNCATE, Fault.SLOW_DOWN, Fault.EMPTY_200);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                int n = i;
                fs.add(pool.submit(() -> {
                    byte[] data = bytes(n % 4 == 0 ? big() : 100_000 + n, 100 + n);
                    storage.put("q/" + n, data);
                    assertThat(storage.get("q/" + n)).isEqualTo(data);
                    assertThat(storage.stat("q/" + n).orElseThrow().size()).isEqualTo(data.length);
                    return null;
                }));
            }
            for (Future<?> f : fs) {
                f.get();
            }
        } finally {
            pool.shutdown();
        }
        assertThat(storage.list("q/")).hasSize(12);
        assertThat(proxy.injectedTotal()).as("faults injected in %d requests", proxy.requests()).isGreaterThan(3)
                .isGreaterThanOrEqualTo(proxy.requests() / 10);
    }

    /** An endpoint that never answers validly: the error names the object and the endpoint, after retrying. */
    @Test
    void aServiceThatKeepsAnsweringEmptyFailsNamingTheObject() {
        proxy.rule(r -> true, Fault.EMPTY_200, 1000);
        assertThatThrownBy(() -> storage.stat("x/y")).isInstanceOfSatisfying(LifeboatException.class, e -> {
            assertThat(e.kind()).isEqualTo(ErrorKind.STORAGE);
            assertThat(e.getMessage()).contains("x/y", proxy.endpoint().toString(), "without an ETag", "attempts");
        });
        assertThatThrownBy(() -> storage.get("x/y")).isInstanceOfSatisfying(LifeboatException.class, e -> {
            assertThat(e.kind()).isEqualTo(ErrorKind.STORAGE);
            assertThat(e.getMessage()).contains("x/y", proxy.endpoint().toString());
        });
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
