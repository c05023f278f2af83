package io.lifeboat.storage;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.SdkHttpConfigurationOption;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.model.AbortMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.CompleteMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.CompleteMultipartUploadResponse;
import software.amazon.awssdk.services.s3.model.CompletedMultipartUpload;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.CreateMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.DeleteObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadBucketRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ListMultipartUploadsRequest;
import software.amazon.awssdk.services.s3.model.ListMultipartUploadsResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.MultipartUpload;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;
import software.amazon.awssdk.services.s3.model.UploadPartRequest;
import software.amazon.awssdk.utils.AttributeMap;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * S3 and S3-compatible object storage (AWS SDK v2). An object handed over whole in an array
 * ({@link #putFrom}: encoded tar chunks, WAL segments, manifests) goes up from that array, with no
 * copy: one PUT with Content-MD5, or a multipart upload whose parts are slices of it. An object
 * written as a stream of unknown length is buffered a part at a time, and large ones go up as
 * multipart uploads whose parts are sent in parallel; at most (concurrency + 2) part buffers exist
 * across all writers, and their memory is held from the caller's {@link PartMemory} (the engine's
 * memory budget) while they live. A multipart upload that fails, is interrupted or is left open
 * when the storage closes or the JVM exits is aborted; one whose writer was killed is aborted by
 * {@link #staleUploads}.
 *
 * <p>Every answer is checked before it is believed: a listing page must echo the bucket and prefix
 * asked for and carry KeyCount, IsTruncated and (when truncated) a continuation token; a HEAD and a
 * GET must carry an ETag and a Content-Length; uploads must be answered with an ETag (an upload id).
 * An answer that fails the check (an empty 200 from a proxy), a 5xx or SlowDown, a reset or a
 * timed-out connection is retried for the retry time; the SDK's own retries are off, since they
 * miss all but the last of those. GETs resume where they broke off (a ranged GET with If-Match on
 * the first answer's ETag, so two versions are never spliced).
 */
public final class S3Storage implements Storage {
    private static final int FIRST_BUFFER = 256 * 1024;
    /** Parts are held in blocks of this size (PartBuffer): no part buffer is ever copied to grow. */
    private static final int BLOCK = 1 << 20;
    private static final int MAX_SINGLE_PUT = 256 * 1024 * 1024;
    private static final Set<String> TRANSIENT_CODES = Set.of("SlowDown", "RequestTimeout", "InternalError",
            "ServiceUnavailable", "Throttling", "ThrottlingException", "RequestThrottled", "OperationAborted");
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-(\\d+)/(\\d+)");
    private static final java.util.logging.Logger LOG = java.util.logging.Logger.getLogger(S3Storage.class.getName());

    /** A multipart upload begun and neither completed nor aborted yet, by upload id (all instances). */
    private record OpenUpload(S3Storage storage, String key, String fullKey) {
    }

    private static final java.util.Map<String, OpenUpload> OPEN_UPLOADS = new ConcurrentHashMap<>();

    static {
        // An exit that skips the writers' own clean-up (a second SIGINT, the grace period over, System.exit)
        // still aborts what they left open: one attempt each, for at most a few seconds.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> abortOpenUploads(null, 5), "lifeboat-s3-abort"));
    }
    private final S3Settings settings;
    private final S3Client client;
    private final software.amazon.awssdk.http.SdkHttpClient ownHttpClient; // built here (no TLS checks): closed here
    private final Retry retry;
    private final ExecutorService partUploader;
    private final Semaphore buffers;
    private final PartBuffer.Blocks blocks;
    private final PartMemory memory;
    private volatile Integer listPageSize; // S3's default (1000) unless a test wants small pages
    private volatile int singlePutLimit;

    public S3Storage(S3Settings settings) {
        this(settings, PartMemory.NONE);
    }

    /** @param memory where the part buffers of streamed uploads hold their memory from */
    public S3Storage(S3Settings settings, PartMemory memory) {
        this.memory = memory;
        this.settings = settings;
        AwsCredentialsProvider credentials = settings.accessKeyId() != null
                ? StaticCredentialsProvider.create(
                        AwsBasicCredentials.create(settings.accessKeyId(), settings.secretAccessKey()))
                : DefaultCredentialsProvider.create();
        this.retry = new Retry(settings.timeouts().retry());
        ApacheHttpClient.Builder http = ApacheHttpClient.builder()
                .maxConnections(Math.max(16, settings.concurrency() * 2))
                .connectionTimeout(settings.timeouts().connect())
                .socketTimeout(settings.timeouts().read());
        TlsSettings tls = settings.tls();
        if (settings.endpoint() != null && "http".equalsIgnoreCase(settings.endpoint().getScheme())) {
            http.socketFactory(new PlainHttpSocketFactory());
        } else if (tls.verify() && tls.caFile() != null) {
            javax.net.ssl.TrustManager[] trust = tls.trustManagers();
            http.tlsTrustManagersProvider(() -> trust);
        }
        var builder = S3Client.builder()
                .region(Region.of(settings.region() == null ? "us-east-1" : settings.region()))
                .credentialsProvider(credentials)
                .serviceConfiguration(S3Configuration.builder()
                        .pathStyleAccessEnabled(settings.pathStyle())
                        .chunkedEncodingEnabled(false)
                        // The SDK's own MD5 of every upload and download (compared with the ETag) repeats
                        // what is checked anyway: over http the payload is signed (SHA-256), over https TLS
                        // guards it, and every object's SHA-256 is verified whenever it is read back.
                        .checksumValidationEnabled(false)
                        .build())
                .overrideConfiguration(ClientOverrideConfiguration.builder()
                        .retryStrategy(AwsRetryStrategy.doNotRetry())
                        .apiCallAttemptTimeout(Duration.ofMinutes(5))
                        .build());
        if (tls.verify()) {
            builder.httpClientBuilder(http);
            ownHttpClient = null;
        } else {
            ownHttpClient = http.buildWithDefaults(AttributeMap.builder()
                    .put(SdkHttpConfigurationOption.TRUST_ALL_CERTIFICATES, Boolean.TRUE).build());
            builder.httpClient(ownHttpClient);
        }
        if (settings.endpoint() != null) {
            builder.endpointOverride(settings.endpoint());
        }
        this.client = builder.build();
        AtomicInteger n = new AtomicInteger();
        this.partUploader = Executors.newFixedThreadPool(settings.concurrency(), r -> {
            Thread t = new Thread(r, "s3-part-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        // Bounds the parallelism of streamed uploads; their memory is held from `memory` part by part.
        this.buffers = new Semaphore(settings.concurrency() + 2);
        // Blocks freed by one upload are reused by the next; beyond 16 MiB of them (counted in the engine's
        // reserve, not held from `memory`) the collector takes them.
        this.blocks = new PartBuffer.Blocks(BLOCK, 16);
        this.singlePutLimit = Math.max(settings.partSizeBytes(), MAX_SINGLE_PUT);
    }

    /** For tests: objects sent from an array go up as multipart uploads above {@code bytes}. */
    void singlePutLimit(int bytes) {
        singlePutLimit = bytes;
    }

    @Override
    public String describe() {
        String where = settings.endpoint() == null ? "" : " at " + io.lifeboat.SecretMask.uri(settings.endpoint().toString());
        return "s3://" + settings.bucket() + (settings.prefix().isEmpty() ? "" : "/" + settings.prefix()) + where;
    }

    private String fullKey(String key) {
        Keys.check(key);
        return settings.prefix().isEmpty() ? key : settings.prefix() + "/" + key;
    }

    private String relativeKey(String full) {
        return settings.prefix().isEmpty() ? full : full.substring(settings.prefix().length() + 1);
    }

    @Override
    public ObjectWriter create(String key) {
        return new MultipartWriter(key, fullKey(key), 0, false);
    }

    @Override
    public ObjectWriter create(String key, long sizeHint) {
        return new MultipartWriter(key, fullKey(key), sizeHint, false);
    }

    /** A single PUT goes with Content-MD5: S3 refuses a body that does not match, and its ETag is that MD5. */
    @Override
    public ObjectWriter createConfirmed(String key, long sizeHint) {
        return new MultipartWriter(key, fullKey(key), sizeHint, true);
    }

    /**
     * Buffers one part at a time; the first part is sent as a plain PUT if it turns out to be the
     * only one. An object announced as small enough (a size hint up to {@link #MAX_SINGLE_PUT}) may
     * fill its first buffer up to that size, so that it goes up as one PUT rather than as a
     * multipart upload of several requests (which S3 servers then also have to join).
     */
    private final class MultipartWriter extends ObjectWriter {
        private final String key;
        private final String fullKey;
        private final int firstPartLimit;
        private final long sizeHint;
        private PartBuffer part;
        private PartMemory.Lease partLease;
        private String uploadId;
        private final List<Part> parts = new ArrayList<>();
        private long total;
        private boolean finished;
        private final boolean withMd5;
        private boolean confirmed;

        MultipartWriter(String key, String fullKey, long sizeHint, boolean withMd5) {
            this.key = key;
            this.fullKey = fullKey;
            this.withMd5 = withMd5;
            this.firstPartLimit = (int) Math.max(settings.partSizeBytes(), Math.min(sizeHint, MAX_SINGLE_PUT));
            this.sizeHint = sizeHint;
        }

        /** How full the current buffer may get before it is sent as a part. */
        private int limit() {
            return uploadId == null ? firstPartLimit : settings.partSizeBytes();
        }

        private PartBuffer buffer() throws IOException {
            if (finished) {
                throw new IllegalStateException("writer for " + key + " already finished");
            }
            if (part == null) {
                try {
                    buffers.acquire();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted while waiting for an upload buffer");
                }
                try {
                    // the most this part can hold: an announced size, else a whole part
                    partLease = memory.hold(uploadId == null && sizeHint > 0 ? Math.min(sizeHint, limit()) : limit());
                } catch (RuntimeException e) {
                    buffers.release();
                    throw e;
                }
                // A small object announced as such gets a first block of its size; one of unknown size a
                // small first block (most objects, WAL and compressed chunks, are far smaller than a part).
                int first = uploadId != null ? BLOCK : sizeHint > 0 ? (int) Math.min(sizeHint, BLOCK) : FIRST_BUFFER;
                part = new PartBuffer(blocks, limit(), first);
            }
            return part;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            while (len > 0) {
                PartBuffer buf = buffer();
                int n = buf.write(b, off, len);
                off += n;
                len -= n;
                total += n;
                if (buf.room() == 0) {
                    sendPart();
                }
            }
        }

        private void sendPart() {
            if (uploadId == null) {
                uploadId = startUpload(key, fullKey);
            }
            final PartBuffer data = part;
            final PartMemory.Lease lease = partLease;
            final int length = data.size();
            final int number = parts.size() + 1;
            part = null;
            partLease = null;
            final String id = uploadId;
            parts.add(submitPart(() -> {
                try {
                    String etag = call(key, () -> present(client.uploadPart(UploadPartRequest.builder()
                                    .bucket(settings.bucket()).key(fullKey).uploadId(id)
                                    .partNumber(number).contentLength((long) length).build(),
                            RequestBody.fromContentProvider(data::stream, length, "application/octet-stream")).eTag(),
                            "an ETag", "part " + number + " of", key));
                    return CompletedPart.builder().partNumber(number).eTag(etag).build();
                } finally {
                    data.release();
                    lease.close();
                    buffers.release();
                }
            }));
        }

        @Override
        public long commit() throws IOException {
            if (finished) {
                throw new IllegalStateException("writer for " + key + " already finished");
            }
            try {
                if (uploadId == null) {
                    PartBuffer data = part;
                    int length = data == null ? 0 : data.size();
                    byte[] md5 = withMd5 ? md5(data) : null;
                    PutObjectRequest.Builder put = PutObjectRequest.builder().bucket(settings.bucket()).key(fullKey)
                            .contentLength((long) length);
                    if (md5 != null) {
                        put.contentMD5(Base64.getEncoder().encodeToString(md5));
                    }
                    String etag = call(key, () -> present(client.putObject(put.build(),
                            RequestBody.fromContentProvider(() -> data == null ? InputStream.nullInputStream() : data.stream(),
                                    length, "application/octet-stream")).eTag(), "an ETag", "the upload of", key));
                    // S3 checked the body against Content-MD5 (400 BadDigest otherwise); an ETag equal to it says that
                    // this server stored exactly those bytes. Any other ETag (SSE-KMS, a server that computes it
                    // otherwise) proves nothing: the caller then reads the size back.
                    confirmed = md5 != null && etag.replace("\"", "").equalsIgnoreCase(HexFormat.of().formatHex(md5));
                    releaseBuffer();
                } else {
                    if (part != null && part.size() > 0) {
                        sendPart();
                    } else {
                        releaseBuffer();
                    }
                    complete(key, fullKey, uploadId, awaitParts(key, parts), total);
                    uploadId = null; // completed: nothing to abort
                }
                finished = true;
                return total;
            } catch (RuntimeException | IOException e) {
                abort();
                throw e;
            }
        }

        @Override
        public boolean confirmed() {
            return confirmed;
        }

        private void releaseBuffer() {
            if (part != null) {
                part.release();
                part = null;
                partLease.close();
                partLease = null;
                buffers.release();
            }
        }

        @Override
        public void abort() {
            if (finished) {
                return;
            }
            finished = true;
            releaseBuffer();
            if (uploadId != null) {
                abandon(key, fullKey, uploadId, parts);
                uploadId = null;
            }
        }
    }

    /**
     * Completes the upload. An answer that was lost (a reset, an empty 200) is retried; if S3 then
     * no longer knows the upload, the first completion went through when the object is there with
     * this size and number of parts (a multipart ETag ends in -parts).
     */
    private String complete(String key, String fullKey, String uploadId, List<CompletedPart> done, long total) {
        String etag = call(key, () -> {
            try {
                CompleteMultipartUploadResponse r = client.completeMultipartUpload(CompleteMultipartUploadRequest.builder()
                        .bucket(settings.bucket()).key(fullKey).uploadId(uploadId)
                        .multipartUpload(CompletedMultipartUpload.builder().parts(done).build()).build());
                return present(r.eTag(), "an ETag", "the completion of", key);
            } catch (S3Exception e) {
                // S3 says NoSuchUpload for an upload it completed already; s3proxy NoSuchKey
                if (e.statusCode() == 404 && !isMissingBucket(e)) {
                    Optional<HeadObjectResponse> h = head(key, fullKey);
                    if (h.isPresent() && h.get().contentLength() == total
                            && h.get().eTag().replace("\"", "").endsWith("-" + done.size())) {
                        return h.get().eTag();
                    }
                }
                throw e;
            }
        });
        OPEN_UPLOADS.remove(uploadId);
        return etag;
    }

    /** Starts a multipart upload; it stays registered (see {@link #close}) until completed or aborted. */
    private String startUpload(String key, String fullKey) {
        String id = call(key, () -> present(client.createMultipartUpload(CreateMultipartUploadRequest.builder()
                .bucket(settings.bucket()).key(fullKey).build()).uploadId(), "an upload id", "starting an upload of", key));
        OPEN_UPLOADS.put(id, new OpenUpload(this, key, fullKey));
        return id;
    }

    /** A part's upload on the part pool: its result, and a way to stop it and wait until it has really ended. */
    private static final class Part {
        final CompletableFuture<CompletedPart> result = new CompletableFuture<>();
        private final java.util.concurrent.atomic.AtomicBoolean claimed = new java.util.concurrent.atomic.AtomicBoolean();
        private final java.util.concurrent.CountDownLatch ended = new java.util.concurrent.CountDownLatch(1);
        private volatile Future<?> task;

        void run(java.util.concurrent.Callable<CompletedPart> upload) {
            if (!claimed.compareAndSet(false, true)) {
                return; // stopped before it started
            }
            try {
                result.complete(upload.call());
            } catch (Throwable t) {
                result.completeExceptionally(t);
            } finally {
                ended.countDown();
            }
        }

        /** Stops the part: it never starts, or its thread is interrupted; then waits (bounded) until it ended. */
        void stop() {
            if (claimed.compareAndSet(false, true)) {
                result.cancel(false);
                ended.countDown();
                return;
            }
            Future<?> t = task;
            if (t != null) {
                t.cancel(true);
            }
        }

        void awaitEnd() {
            try {
                if (!ended.await(30, java.util.concurrent.TimeUnit.SECONDS)) {
                    LOG.warning("a part upload did not stop within 30 s; aborting its upload anyway");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private Part submitPart(java.util.concurrent.Callable<CompletedPart> upload) {
        Part p = new Part();
        p.task = partUploader.submit(() -> p.run(upload));
        return p;
    }

    /** Waits for every part in order; the first failure is thrown (the caller aborts the upload). */
    private List<CompletedPart> awaitParts(String key, List<Part> parts) throws IOException {
        List<CompletedPart> done = new ArrayList<>();
        for (Part p : parts) {
            try {
                done.add(p.result.get());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while uploading " + key);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof RuntimeException re) {
                    throw re;
                }
                if (e.getCause() instanceof Error err) {
                    throw err;
                }
                throw new IOException("uploading a part of " + key + " failed", e.getCause());
            }
        }
        return done;
    }

    /**
     * Aborts a multipart upload that will not be completed: first stops its parts and waits for those
     * still being sent (a part that lands after the abort would be kept, and billed, by S3), then asks
     * S3 to abort, retried like any request and with the thread's interrupt status cleared (a signal
     * stopped the upload, not its abort). A failure is only warned about: the next `expire` aborts
     * what is left (staleUploads).
     */
    private void abandon(String key, String fullKey, String uploadId, List<Part> parts) {
        boolean interrupted = Thread.interrupted();
        try {
            parts.forEach(Part::stop);
            parts.forEach(Part::awaitEnd);
            abortUpload(key, fullKey, uploadId);
        } catch (RuntimeException e) {
            LOG.warning("could not abort the unfinished upload of '" + key + "' in " + describe() + " (" + e.getMessage()
                    + "); `lifeboat expire` aborts it once it is a day old");
        } finally {
            OPEN_UPLOADS.remove(uploadId);
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** AbortMultipartUpload, retried; an upload S3 no longer knows (404 NoSuchUpload) is gone already. */
    private void abortUpload(String key, String fullKey, String uploadId) {
        call(key, () -> {
            try {
                client.abortMultipartUpload(AbortMultipartUploadRequest.builder().bucket(settings.bucket())
                        .key(fullKey).uploadId(uploadId).build());
            } catch (S3Exception e) {
                if (e.statusCode() != 404 || isMissingBucket(e)) {
                    throw e;
                }
            }
            return null;
        });
    }


    /**
     * Sends the array itself: one PUT with Content-MD5 (S3 refuses a body that does not match it)
     * up to the single-PUT limit (part size, at least 256 MiB), else a multipart upload whose parts
     * are slices of the array, each with its Content-MD5, sent in parallel. Confirmed when the
     * answer's ETag is the MD5 of the bytes (for a multipart upload: each part's ETag its MD5, and the
     * upload's the MD5 of the parts' MD5s, "-" and the number of parts); otherwise the caller reads
     * the size back, as for any write.
     */
    @Override
    public ObjectWriter createFrom(String key, byte[] data, int off, int len) {
        Objects.checkFromIndexSize(off, len, data.length);
        String full = fullKey(key);
        return new ObjectWriter() {
            private boolean done;
            private boolean confirmed;

            @Override
            public void write(int b) {
                throw new IllegalStateException("the writer of " + key + " holds its whole content already");
            }

            @Override
            public void write(byte[] b, int o, int l) {
                write(0);
            }

            @Override
            public long commit() {
                if (done) {
                    throw new IllegalStateException("writer for " + key + " already finished");
                }
                done = true;
                // a multipart upload that fails is aborted by putInParts itself
                confirmed = len <= singlePutLimit ? putOnce(key, full, data, off, len) : putInParts(key, full, data, off, len);
                return len;
            }

            @Override
            public boolean confirmed() {
                return confirmed;
            }

            @Override
            public void abort() {
                done = true; // nothing was sent before commit
            }
        };
    }

    private boolean putOnce(String key, String full, byte[] data, int off, int len) {
        byte[] md5 = md5(data, off, len);
        PutObjectRequest put = PutObjectRequest.builder().bucket(settings.bucket()).key(full).contentLength((long) len)
                .contentMD5(Base64.getEncoder().encodeToString(md5)).build();
        String etag = call(key, () -> present(client.putObject(put, slice(data, off, len)).eTag(), "an ETag",
                "the upload of", key));
        return isMd5(etag, md5);
    }

    private boolean putInParts(String key, String full, byte[] data, int off, int len) {
        int partSize = settings.partSizeBytes();
        String id = startUpload(key, full);
        List<Part> parts = new ArrayList<>();
        byte[][] md5s = new byte[(int) ((len + (long) partSize - 1) / partSize)][];
        boolean completed = false;
        try {
            for (int i = 0; i < md5s.length; i++) {
                int number = i + 1;
                int from = off + i * partSize;
                int n = Math.min(partSize, off + len - from);
                parts.add(submitPart(() -> {
                    byte[] md5 = md5(data, from, n);
                    md5s[number - 1] = md5;
                    UploadPartRequest up = UploadPartRequest.builder().bucket(settings.bucket()).key(full).uploadId(id)
                            .partNumber(number).contentLength((long) n)
                            .contentMD5(Base64.getEncoder().encodeToString(md5)).build();
                    String etag = call(key, () -> present(client.uploadPart(up, slice(data, from, n)).eTag(), "an ETag",
                            "part " + number + " of", key));
                    return CompletedPart.builder().partNumber(number).eTag(etag).build();
                }));
            }
            List<CompletedPart> done;
            try {
                done = awaitParts(key, parts);
            } catch (IOException e) {
                throw new LifeboatException(e instanceof InterruptedIOException ? ErrorKind.INTERRUPTED : ErrorKind.STORAGE,
                        "uploading '" + key + "' to " + describe() + " failed: " + e.getMessage(), null, e);
            }
            String etag = complete(key, full, id, done, len);
            completed = true;
            boolean partsProven = true;
            java.security.MessageDigest all = md5();
            for (int i = 0; i < md5s.length; i++) {
                partsProven &= isMd5(done.get(i).eTag(), md5s[i]);
                all.update(md5s[i]);
            }
            return partsProven && etag.replace("\"", "").equalsIgnoreCase(HexFormat.of().formatHex(all.digest()) + "-"
                    + md5s.length);
        } finally {
            if (!completed) {
                abandon(key, full, id, parts);
            }
        }
    }

    /** The body of a request: a fresh stream over the slice for every attempt, never a copy of it. */
    private static RequestBody slice(byte[] data, int off, int len) {
        return RequestBody.fromContentProvider(() -> new ByteArrayInputStream(data, off, len), len, "application/octet-stream");
    }

    private static boolean isMd5(String etag, byte[] md5) {
        return etag != null && etag.replace("\"", "").equalsIgnoreCase(HexFormat.of().formatHex(md5));
    }

    /**
     * Lists the multipart uploads under the prefix (ListMultipartUploads, page by page) and returns
     * those begun before {@code startedBefore}, aborted first if {@code abort}. A server that cannot
     * list by prefix (s3proxy answers 501) is asked for all of the bucket's, and those outside the
     * prefix are left alone; one that cannot list them at all keeps none that could be listed:
     * nothing to abort.
     */
    @Override
    public List<StaleUpload> staleUploads(String prefix, java.time.Instant startedBefore, boolean abort) {
        String full = settings.prefix().isEmpty() ? prefix : settings.prefix() + "/" + prefix;
        try {
            return staleUploads(prefix, full, startedBefore, true, abort);
        } catch (LifeboatException e) {
            if (!notImplemented(e)) {
                throw e;
            }
        }
        try {
            return staleUploads(prefix, full, startedBefore, false, abort);
        } catch (LifeboatException e) {
            if (notImplemented(e)) {
                return List.of();
            }
            throw e;
        }
    }

    private static boolean notImplemented(LifeboatException e) {
        return e.getCause() instanceof S3Exception s3 && (s3.statusCode() == 501 || "NotImplemented".equals(code(s3)));
    }

    private List<StaleUpload> staleUploads(String prefix, String full, java.time.Instant startedBefore, boolean byPrefix,
                                           boolean abort) {
        List<MultipartUpload> stale = new ArrayList<>();
        String keyMarker = null;
        String idMarker = null;
        do {
            String km = keyMarker;
            String im = idMarker;
            ListMultipartUploadsResponse page = call(prefix, () -> {
                ListMultipartUploadsResponse r = client.listMultipartUploads(ListMultipartUploadsRequest.builder()
                        .bucket(settings.bucket()).prefix(byPrefix ? full : null).keyMarker(km).uploadIdMarker(im).build());
                if (r.isTruncated() == null || (r.isTruncated() && r.nextKeyMarker() == null)) {
                    throw new TransientFailure("S3 answered the listing of the uploads under '" + prefix
                            + "' without saying where it goes on");
                }
                return r;
            });
            for (MultipartUpload u : page.uploads()) {
                if (!byPrefix && u.key() != null && !u.key().startsWith(full)) {
                    continue; // another cluster's, or not Lifeboat's
                }
                if (u.key() == null || !u.key().startsWith(full) || u.uploadId() == null || u.initiated() == null) {
                    throw new LifeboatException(ErrorKind.STORAGE, "S3 listed an upload of '" + u.key() + "' for the prefix '"
                            + full + "' in " + describe(), "the service is not answering like S3; check what serves the endpoint");
                }
                if (u.initiated().isBefore(startedBefore)) {
                    stale.add(u);
                }
            }
            keyMarker = page.isTruncated() ? page.nextKeyMarker() : null;
            idMarker = page.isTruncated() ? page.nextUploadIdMarker() : null;
        } while (keyMarker != null);
        List<StaleUpload> found = new ArrayList<>();
        for (MultipartUpload u : stale) {
            String key = relativeKey(u.key());
            if (abort) {
                abortUpload(key, u.key(), u.uploadId());
            }
            found.add(new StaleUpload(key, u.initiated()));
        }
        return found;
    }

    @Override
    public InputStream read(String key, long offset) throws IOException {
        String full = fullKey(key);
        return new ResumingInputStream(key, describe(), offset, (from, etag) -> open(key, full, from, etag), retry);
    }

    /** One GET from an offset (ranged after the start, and only of that ETag once one is known). */
    private ResumingInputStream.Body open(String key, String full, long from, String etag) throws IOException {
        GetObjectRequest.Builder r = GetObjectRequest.builder().bucket(settings.bucket()).key(full);
        if (from > 0) {
            r.range("bytes=" + from + "-");
        }
        if (etag != null) {
            r.ifMatch(etag);
        }
        ResponseInputStream<GetObjectResponse> in;
        try {
            in = client.getObject(r.build());
        } catch (S3Exception e) {
            if (e.statusCode() == 412) {
                throw new ResumingInputStream.Changed();
            }
            if (e.statusCode() == 416 && from > 0) {
                return endOf(key, full, from, etag);
            }
            throw once(key, e);
        } catch (SdkException e) {
            throw once(key, e);
        } catch (UncheckedIOException e) {
            throw new TransientFailure(rootMessage(e), e);
        }
        GetObjectResponse g = in.response();
        try {
            String tag = present(g.eTag(), "an ETag", "reading", key);
            long length = present(g.contentLength(), "a Content-Length", "reading", key);
            long start = 0;
            long size = length;
            if (g.contentRange() != null) {
                Matcher m = CONTENT_RANGE.matcher(g.contentRange());
                if (!m.matches() || Long.parseLong(m.group(2)) - Long.parseLong(m.group(1)) + 1 != length) {
                    throw new TransientFailure("S3 answered a read of '" + key + "' with Content-Range '" + g.contentRange()
                            + "' and " + length + " bytes");
                }
                start = Long.parseLong(m.group(1));
                size = Long.parseLong(m.group(3));
            }
            return new ResumingInputStream.Body(in, start, size, tag, in::abort);
        } catch (TransientFailure e) {
            in.abort();
            throw e;
        }
    }

    /** A range that starts at the object's end (S3 answers 416): an empty body, if that is where the object ends. */
    private ResumingInputStream.Body endOf(String key, String full, long from, String etag) throws IOException {
        Optional<HeadObjectResponse> h;
        try {
            h = head(key, full);
        } catch (SdkException e) {
            throw once(key, e);
        }
        if (h.isEmpty()) {
            throw new LifeboatException(ErrorKind.NOT_FOUND, "object '" + key + "' not found in " + describe());
        }
        if (etag != null && !etag.equals(h.get().eTag())) {
            throw new ResumingInputStream.Changed();
        }
        return new ResumingInputStream.Body(InputStream.nullInputStream(), from, h.get().contentLength(), h.get().eTag());
    }

    /** One HEAD, checked; empty on S3's explicit not-found (HEAD answers have no body, so no error code). */
    private Optional<HeadObjectResponse> head(String key, String full) throws TransientFailure {
        try {
            HeadObjectResponse r = client.headObject(HeadObjectRequest.builder().bucket(settings.bucket()).key(full).build());
            present(r.eTag(), "an ETag", "the lookup of", key);
            present(r.contentLength(), "a Content-Length", "the lookup of", key);
            return Optional.of(r);
        } catch (NoSuchKeyException e) {
            return Optional.empty();
        } catch (S3Exception e) {
            if (e.statusCode() == 404 && code(e) == null) {
                return Optional.empty();
            }
            throw e;
        }
    }

    @Override
    public Optional<ObjectInfo> stat(String key) {
        String full = fullKey(key);
        return call(key, () -> head(key, full)).map(r -> new ObjectInfo(key, r.contentLength(), r.lastModified()));
    }

    @Override
    public List<ObjectInfo> list(String prefix) {
        String full = settings.prefix().isEmpty() ? prefix : settings.prefix() + "/" + prefix;
        List<ObjectInfo> result = new ArrayList<>();
        String token = null;
        do {
            String asked = token;
            ListObjectsV2Response page = call(prefix, () -> checked(client.listObjectsV2(ListObjectsV2Request.builder()
                    .bucket(settings.bucket()).prefix(full).continuationToken(asked).maxKeys(listPageSize).build()), prefix,
                    full, asked));
            for (S3Object o : page.contents()) {
                if (o.key().endsWith("/")) {
                    continue; // a "directory" marker some S3 implementations list; never one of our keys
                }
                if (!o.key().startsWith(full) || o.size() == null) {
                    throw new LifeboatException(ErrorKind.STORAGE, "S3 listed '" + o.key() + "' for the prefix '" + full
                            + "' in " + describe(), "the service is not answering like S3; check what serves the endpoint");
                }
                result.add(new ObjectInfo(relativeKey(o.key()), o.size(), o.lastModified()));
            }
            token = page.isTruncated() ? page.nextContinuationToken() : null;
        } while (token != null);
        result.sort(Comparator.comparing(ObjectInfo::key));
        return result;
    }

    /**
     * A listing page is believed only if it is one: it names the bucket and the prefix asked for
     * (and the continuation token), says whether it is truncated, counts its keys right, and a
     * truncated one says where to go on. Anything else (an empty 200 from a proxy, a cut body) says
     * nothing about what the bucket holds.
     */
    private ListObjectsV2Response checked(ListObjectsV2Response page, String prefix, String full, String token)
            throws TransientFailure {
        String wrong = null;
        if (!settings.bucket().equals(page.name())) {
            wrong = "names the bucket " + (page.name() == null ? "(none)" : "'" + page.name() + "'");
        } else if (!full.equals(Objects.requireNonNullElse(page.prefix(), ""))) {
            wrong = "names the prefix " + (page.prefix() == null ? "(none)" : "'" + page.prefix() + "'");
        } else if (page.isTruncated() == null || page.keyCount() == null) {
            wrong = "says neither IsTruncated nor KeyCount";
        } else if (page.keyCount() != page.contents().size() + page.commonPrefixes().size()) {
            wrong = "has KeyCount " + page.keyCount() + " but " + page.contents().size() + " keys";
        } else if (page.isTruncated() && (page.nextContinuationToken() == null || page.nextContinuationToken().isEmpty())) {
            wrong = "is truncated without a continuation token";
        } else if (token != null && !token.equals(page.continuationToken())) {
            wrong = "does not continue from the token asked for";
        }
        if (wrong != null) {
            throw new TransientFailure("S3 answered the listing of '" + prefix + "' with a page that " + wrong);
        }
        return page;
    }

    /** For tests: listings come in pages of at most {@code n} keys. */
    void listPageSize(int n) {
        listPageSize = n;
    }

    @Override
    public void delete(String key) {
        String full = fullKey(key);
        call(key, () -> {
            int status = client.deleteObject(DeleteObjectRequest.builder().bucket(settings.bucket()).key(full).build())
                    .sdkHttpResponse().statusCode();
            if (status != 204) {
                // S3 answers a deletion with 204 No Content, whether the key existed or not
                throw new TransientFailure("S3 answered the deletion of '" + key + "' with HTTP " + status
                        + " instead of 204 No Content");
            }
            return null;
        });
    }

    /**
     * Checks bucket and credentials. The first contact of a run: an endpoint that cannot be
     * connected to at all (refused, unknown host) fails at once rather than after the retry time.
     */
    @Override
    public void probe() {
        call("(bucket)", () -> {
            try {
                return client.headBucket(HeadBucketRequest.builder().bucket(settings.bucket()).build());
            } catch (SdkClientException e) {
                if (cannotConnect(e)) {
                    throw translate("(bucket)", e, null);
                }
                throw e;
            } catch (S3Exception e) {
                if (e.statusCode() == 404) {
                    throw translate("(bucket)", e, null); // a HEAD has no body: its 404 is the whole answer
                }
                throw e;
            }
        });
    }

    private static boolean cannotConnect(Throwable e) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof ConnectException || c instanceof UnknownHostException || c instanceof NoRouteToHostException
                    || c instanceof org.apache.http.conn.ConnectTimeoutException) {
                return true;
            }
        }
        return false;
    }

    /** Uploads of {@code owner} (all, if null) still open: aborted, one attempt each, in at most {@code seconds}. */
    private static void abortOpenUploads(S3Storage owner, int seconds) {
        List<Thread> aborts = new ArrayList<>();
        OPEN_UPLOADS.forEach((id, u) -> {
            if (owner == null || u.storage() == owner) {
                Thread t = new Thread(() -> {
                    try {
                        u.storage().client.abortMultipartUpload(AbortMultipartUploadRequest.builder()
                                .bucket(u.storage().settings.bucket()).key(u.fullKey()).uploadId(id).build());
                        OPEN_UPLOADS.remove(id);
                    } catch (RuntimeException e) {
                        // left to staleUploads
                    }
                }, "lifeboat-s3-abort-one");
                t.setDaemon(true);
                t.start();
                aborts.add(t);
            }
        });
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        for (Thread t : aborts) {
            try {
                t.join(Math.max(1, (end - System.nanoTime()) / 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** Multipart uploads begun through this instance and not finished (tests). */
    int openUploads() {
        return (int) OPEN_UPLOADS.values().stream().filter(u -> u.storage() == this).count();
    }

    @Override
    public void close() {
        // A writer never closed (a bug, a thread that died) must not leave its upload behind: its parts are
        // stopped first (one that landed after the abort would be kept), then the upload is aborted.
        partUploader.shutdownNow();
        boolean interrupted = Thread.interrupted();
        try {
            if (!OPEN_UPLOADS.isEmpty()) {
                partUploader.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS);
                abortOpenUploads(this, 10);
            }
        } catch (InterruptedException e) {
            interrupted = true;
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        client.close();
        if (ownHttpClient != null) {
            ownHttpClient.close();
        }
    }

    private interface S3Call<T> {
        T run() throws TransientFailure;
    }

    /**
     * Runs a request, retrying transient failures (and answers that failed their check) for the
     * retry time; definitive failures are translated at once.
     */
    private <T> T call(String key, S3Call<T> c) {
        try {
            return retry.run(() -> {
                try {
                    return c.run();
                } catch (SdkException e) {
                    throw once(key, e);
                } catch (UncheckedIOException e) {
                    // the SDK's parsers wrap a connection that broke while the answer was read
                    throw new TransientFailure(rootMessage(e), e);
                }
            }, (e, a) -> e.getCause() instanceof SdkException sdk ? translate(key, sdk, a)
                    : new LifeboatException(ErrorKind.STORAGE, "S3 gave no valid answer for '" + key + "' in " + describe()
                    + " (" + a.summary() + "): " + e.getMessage(), "something between Lifeboat and S3 (a proxy, a load "
                    + "balancer) answers in S3's place, or the service is failing; check what serves the endpoint", e));
        } catch (IOException e) {
            throw new UncheckedIOException(e); // not thrown: an attempt throws TransientFailure or unchecked
        }
    }

    /** One attempt's failure: transient (to retry), or translated into the definitive error. */
    private TransientFailure once(String key, SdkException e) {
        if (isTransient(e)) {
            return new TransientFailure(rootMessage(e), e);
        }
        throw translate(key, e, null);
    }

    /** A value an answer must carry; without it the answer is not one S3 gives. */
    private <T> T present(T value, String what, String doing, String key) throws TransientFailure {
        if (value == null) {
            throw new TransientFailure("S3 answered " + doing + " '" + key + "' without " + what);
        }
        return value;
    }

    private static String code(S3Exception e) {
        return e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
    }

    /** 5xx, throttling and timeouts; resets, timeouts and unreadable answers; never a refusal or a bad certificate. */
    private static boolean isTransient(SdkException e) {
        if (e instanceof S3Exception s3) {
            String code = code(s3);
            // S3 names the error in the body of every answer that has one: a 404 GET without "NoSuchKey" (a body cut
            // short, a proxy's own page) proves nothing. (A HEAD has no body; head() takes its 404 for what it says.)
            return s3.statusCode() >= 500 || s3.statusCode() == 429 || (code != null && TRANSIENT_CODES.contains(code))
                    || (s3.statusCode() == 404 && code == null);
        }
        if (e instanceof SdkClientException) {
            for (Throwable c = e; c != null; c = c.getCause()) {
                if (c instanceof GeneralSecurityException || c instanceof javax.net.ssl.SSLPeerUnverifiedException) {
                    return false; // certificate not trusted, host name not in it
                }
            }
            String m = String.valueOf(e.getMessage());
            return !m.contains("Unable to load credentials") && !m.contains("Unable to load region");
        }
        return false;
    }

    private static boolean isMissingBucket(S3Exception e) {
        return e instanceof NoSuchBucketException || (e.awsErrorDetails() != null
                && "NoSuchBucket".equals(e.awsErrorDetails().errorCode()));
    }

    /** @param attempts the retries made, or null when the failure was definitive at once */
    private LifeboatException translate(String key, SdkException e, Retry.Attempts attempts) {
        String where = describe();
        String tries = attempts == null ? "" : " (" + attempts.summary() + ")";
        if (e instanceof NoSuchKeyException) {
            return new LifeboatException(ErrorKind.NOT_FOUND, "object '" + key + "' not found in " + where, null, e);
        }
        if (e instanceof S3Exception s3) {
            String code = code(s3);
            if (isMissingBucket(s3) || (s3.statusCode() == 404 && "(bucket)".equals(key))) {
                return new LifeboatException(ErrorKind.STORAGE, "bucket '" + settings.bucket() + "' does not exist at "
                        + (settings.endpoint() == null ? "AWS S3" : io.lifeboat.SecretMask.uri(settings.endpoint().toString())),
                        "create the bucket, or fix the bucket name in the repository URI", e);
            }
            if (s3.statusCode() == 404 && "NoSuchKey".equals(code)) {
                return new LifeboatException(ErrorKind.NOT_FOUND, "object '" + key + "' not found in " + where, null, e);
            }
            if (s3.statusCode() == 403 || "InvalidAccessKeyId".equals(code) || "SignatureDoesNotMatch".equals(code)) {
                return new LifeboatException(ErrorKind.STORAGE, "S3 refused the credentials for " + where
                        + " (" + (code == null ? "HTTP 403" : code) + ") while accessing '" + key + "'",
                        "check the access key id and secret key (repository settings or AWS_ACCESS_KEY_ID/"
                                + "AWS_SECRET_ACCESS_KEY) and the bucket policy", e);
            }
            return new LifeboatException(ErrorKind.STORAGE, "S3 request for '" + key + "' in " + where + " failed: HTTP "
                    + s3.statusCode() + (code == null ? "" : " " + code) + tries, "retry later; check the S3 service", e);
        }
        if (e instanceof SdkClientException) {
            if (!isTransient(e) && hasCause(e, javax.net.ssl.SSLException.class)) {
                return new LifeboatException(ErrorKind.STORAGE, "the TLS certificate of the S3 endpoint for " + where
                        + " is not trusted: " + rootMessage(e), "for a certificate from a private CA, set ca-file to the CA "
                        + "certificate (PEM) in the repository settings; verify-tls: false turns all checks off (never "
                        + "for production)", e);
            }
            return new LifeboatException(ErrorKind.STORAGE, "cannot reach S3 endpoint for " + where + " while accessing '"
                    + key + "'" + tries + ": " + rootMessage(e), "check the endpoint URL, DNS and network, and that the "
                    + "service runs", e);
        }
        return new LifeboatException(ErrorKind.STORAGE, "S3 error on '" + key + "' in " + where + tries + ": "
                + rootMessage(e), null, e);
    }

    private static boolean hasCause(Throwable t, Class<? extends Throwable> type) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (type.isInstance(c)) {
                return true;
            }
        }
        return false;
    }

    private static String rootMessage(Throwable t) {
        Throwable r = t;
        while (r.getCause() != null && r.getCause() != r) {
            r = r.getCause();
        }
        return r.getMessage() == null ? r.getClass().getSimpleName() : r.getMessage();
    }

    private static byte[] md5(PartBuffer data) {
        java.security.MessageDigest md = md5();
        if (data != null) {
            data.update(md);
        }
        return md.digest();
    }

    private static byte[] md5(byte[] data, int off, int len) {
        java.security.MessageDigest md = md5();
        md.update(data, off, len);
        return md.digest();
    }

    private static java.security.MessageDigest md5() {
        try {
            return java.security.MessageDigest.getInstance("MD5");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no MD5", e);
        }
    }
}
