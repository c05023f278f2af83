package io.lifeboat.storage;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.retry.RetryMode;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.model.AbortMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.CompleteMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.CompletedMultipartUpload;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.CreateMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.DeleteObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.HeadBucketRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;
import software.amazon.awssdk.services.s3.model.UploadPartRequest;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * S3 and S3-compatible object storage (AWS SDK v2). Large objects go up as multipart uploads whose
 * parts are sent in parallel; a global semaphore bounds the part buffers in memory across all
 * writers, so many parallel writers never hold more than (concurrency + 2) parts.
 */
public final class S3Storage implements Storage {
    private static final int FIRST_BUFFER = 256 * 1024;
    private static final int MAX_SINGLE_PUT = 256 * 1024 * 1024;
    private final S3Settings settings;
    private final S3Client client;
    private final ExecutorService partUploader;
    private final Semaphore buffers;

    public S3Storage(S3Settings settings) {
        this.settings = settings;
        AwsCredentialsProvider credentials = settings.accessKeyId() != null
                ? StaticCredentialsProvider.create(
                        AwsBasicCredentials.create(settings.accessKeyId(), settings.secretAccessKey()))
                : DefaultCredentialsProvider.create();
        ApacheHttpClient.Builder http = ApacheHttpClient.builder()
                .maxConnections(Math.max(16, settings.concurrency() * 2))
                .connectionTimeout(Duration.ofSeconds(10))
                .socketTimeout(Duration.ofSeconds(60));
        if (settings.endpoint() != null && "http".equalsIgnoreCase(settings.endpoint().getScheme())) {
            http.socketFactory(new PlainHttpSocketFactory());
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
                        .retryStrategy(RetryMode.STANDARD)
                        .apiCallAttemptTimeout(Duration.ofMinutes(5))
                        .build())
                .httpClientBuilder(http);
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
        this.buffers = new Semaphore(settings.concurrency() + 2);
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
        return new MultipartWriter(key, fullKey(key), 0);
    }

    @Override
    public ObjectWriter create(String key, long sizeHint) {
        return new MultipartWriter(key, fullKey(key), sizeHint);
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
        private byte[] part;
        private int filled;
        private String uploadId;
        private final List<Future<CompletedPart>> parts = new ArrayList<>();
        private long total;
        private boolean finished;

        MultipartWriter(String key, String fullKey, long sizeHint) {
            this.key = key;
            this.fullKey = fullKey;
            this.firstPartLimit = (int) Math.max(settings.partSizeBytes(), Math.min(sizeHint, MAX_SINGLE_PUT));
        }

        /** How full the current buffer may get before it is sent as a part. */
        private int limit() {
            return uploadId == null ? firstPartLimit : settings.partSizeBytes();
        }

        private byte[] buffer() throws IOException {
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
                // After a first full part the object is large: later parts get their full size at once.
                part = new byte[uploadId != null ? settings.partSizeBytes() : Math.min(FIRST_BUFFER, limit())];
                filled = 0;
            } else if (filled == part.length && part.length < limit()) {
                // Most objects (WAL, compressed chunks) are far smaller than a part: grow on demand
                // rather than zero a whole part for each.
                part = Arrays.copyOf(part, (int) Math.min((long) part.length * 2, limit()));
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
                byte[] buf = buffer();
                int n = Math.min(len, buf.length - filled);
                System.arraycopy(b, off, buf, filled, n);
                filled += n;
                off += n;
                len -= n;
                total += n;
                if (filled == limit()) {
                    sendPart();
                }
            }
        }

        private void sendPart() {
            if (uploadId == null) {
                uploadId = call(key, () -> client.createMultipartUpload(CreateMultipartUploadRequest.builder()
                        .bucket(settings.bucket()).key(fullKey).build()).uploadId());
            }
            final byte[] data = part;
            final int length = filled;
            final int number = parts.size() + 1;
            part = null;
            parts.add(partUploader.submit(() -> {
                try {
                    String etag = call(key, () -> client.uploadPart(UploadPartRequest.builder()
                                    .bucket(settings.bucket()).key(fullKey).uploadId(uploadId)
                                    .partNumber(number).contentLength((long) length).build(),
                            RequestBody.fromContentProvider(() -> new ByteArrayInputStream(data, 0, length),
                                    length, "application/octet-stream")).eTag());
                    return CompletedPart.builder().partNumber(number).eTag(etag).build();
                } finally {
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
                    byte[] data = part == null ? new byte[0] : part;
                    int length = part == null ? 0 : filled;
                    call(key, () -> client.putObject(PutObjectRequest.builder().bucket(settings.bucket())
                                    .key(fullKey).contentLength((long) length).build(),
                            RequestBody.fromContentProvider(() -> new ByteArrayInputStream(data, 0, length),
                                    length, "application/octet-stream")));
                    releaseBuffer();
                } else {
                    if (part != null && filled > 0) {
                        sendPart();
                    } else {
                        releaseBuffer();
                    }
                    List<CompletedPart> done = new ArrayList<>();
                    for (Future<CompletedPart> f : parts) {
                        done.add(await(f));
                    }
                    call(key, () -> client.completeMultipartUpload(CompleteMultipartUploadRequest.builder()
                            .bucket(settings.bucket()).key(fullKey).uploadId(uploadId)
                            .multipartUpload(CompletedMultipartUpload.builder().parts(done).build()).build()));
                }
                finished = true;
                return total;
            } catch (RuntimeException | IOException e) {
                abort();
                throw e;
            }
        }

        private CompletedPart await(Future<CompletedPart> f) throws IOException {
            try {
                return f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while uploading " + key);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof RuntimeException re) {
                    throw re;
                }
                throw new IOException("uploading a part of " + key + " failed", e.getCause());
            }
        }

        private void releaseBuffer() {
            if (part != null) {
                part = null;
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
            for (Future<CompletedPart> f : parts) {
                f.cancel(false);
            }
            if (uploadId != null) {
                try {
                    client.abortMultipartUpload(AbortMultipartUploadRequest.builder().bucket(settings.bucket())
                            .key(fullKey).uploadId(uploadId).build());
                } catch (SdkException ignored) {
                    // an unaborted upload is invisible and expires by bucket lifecycle rules
                }
            }
        }
    }

    @Override
    public InputStream read(String key) {
        String full = fullKey(key);
        return call(key, () -> client.getObject(GetObjectRequest.builder().bucket(settings.bucket()).key(full).build()));
    }

    @Override
    public Optional<ObjectInfo> stat(String key) {
        String full = fullKey(key);
        try {
            HeadObjectResponse r = client.headObject(HeadObjectRequest.builder().bucket(settings.bucket()).key(full).build());
            return Optional.of(new ObjectInfo(key, r.contentLength(), r.lastModified()));
        } catch (NoSuchKeyException e) {
            return Optional.empty();
        } catch (S3Exception e) {
            if (e.statusCode() == 404 && !isMissingBucket(e)) {
                return Optional.empty();
            }
            throw translate(key, e);
        } catch (SdkException e) {
            throw translate(key, e);
        }
    }

    @Override
    public List<ObjectInfo> list(String prefix) {
        String full = settings.prefix().isEmpty() ? prefix : settings.prefix() + "/" + prefix;
        List<ObjectInfo> result = new ArrayList<>();
        call(prefix, () -> {
            for (S3Object o : client.listObjectsV2Paginator(ListObjectsV2Request.builder()
                    .bucket(settings.bucket()).prefix(full).build()).contents()) {
                if (o.key().endsWith("/")) {
                    continue; // a "directory" marker some S3 implementations list; never one of our keys
                }
                result.add(new ObjectInfo(relativeKey(o.key()), o.size(), o.lastModified()));
            }
            return null;
        });
        result.sort(Comparator.comparing(ObjectInfo::key));
        return result;
    }

    @Override
    public void delete(String key) {
        String full = fullKey(key);
        call(key, () -> client.deleteObject(DeleteObjectRequest.builder().bucket(settings.bucket()).key(full).build()));
    }

    @Override
    public void probe() {
        call("(bucket)", () -> client.headBucket(HeadBucketRequest.builder().bucket(settings.bucket()).build()));
    }

    @Override
    public void close() {
        partUploader.shutdownNow();
        client.close();
    }

    private interface S3Call<T> {
        T run();
    }

    private <T> T call(String key, S3Call<T> c) {
        try {
            return c.run();
        } catch (SdkException e) {
            throw translate(key, e);
        }
    }

    private static boolean isMissingBucket(S3Exception e) {
        return e instanceof NoSuchBucketException || (e.awsErrorDetails() != null
                && "NoSuchBucket".equals(e.awsErrorDetails().errorCode()));
    }

    private LifeboatException translate(String key, SdkException e) {
        String where = describe();
        if (e instanceof NoSuchKeyException) {
            return new LifeboatException(ErrorKind.NOT_FOUND, "object '" + key + "' not found in " + where, null, e);
        }
        if (e instanceof S3Exception s3) {
            String code = s3.awsErrorDetails() == null ? null : s3.awsErrorDetails().errorCode();
            if (isMissingBucket(s3) || (s3.statusCode() == 404 && "(bucket)".equals(key))) {
                return new LifeboatException(ErrorKind.STORAGE, "bucket '" + settings.bucket() + "' does not exist at "
                        + (settings.endpoint() == null ? "AWS S3" : io.lifeboat.SecretMask.uri(settings.endpoint().toString())),
                        "create the bucket, or fix the bucket name in the repository URI", e);
            }
            if (s3.statusCode() == 404) {
                return new LifeboatException(ErrorKind.NOT_FOUND, "object '" + key + "' not found in " + where, null, e);
            }
            if (s3.statusCode() == 403 || "InvalidAccessKeyId".equals(code) || "SignatureDoesNotMatch".equals(code)) {
                return new LifeboatException(ErrorKind.STORAGE, "S3 refused the credentials for " + where
                        + " (" + (code == null ? "HTTP 403" : code) + ") while accessing '" + key + "'",
                        "check the access key id and secret key (repository settings or AWS_ACCESS_KEY_ID/"
                                + "AWS_SECRET_ACCESS_KEY) and the bucket policy", e);
            }
            return new LifeboatException(ErrorKind.STORAGE, "S3 request for '" + key + "' in " + where + " failed: HTTP "
                    + s3.statusCode() + (code == null ? "" : " " + code), "retry later; check the S3 service", e);
        }
        if (e instanceof SdkClientException) {
            return new LifeboatException(ErrorKind.STORAGE, "cannot reach S3 endpoint for " + where + " while accessing '"
                    + key + "': " + rootMessage(e), "check the endpoint URL, DNS and network, and that the service runs", e);
        }
        return new LifeboatException(ErrorKind.STORAGE, "S3 error on '" + key + "' in " + where + ": " + rootMessage(e),
                null, e);
    }

    private static String rootMessage(Throwable t) {
        Throwable r = t;
        while (r.getCause() != null && r.getCause() != r) {
            r = r.getCause();
        }
        return r.getMessage() == null ? r.getClass().getSimpleName() : r.getMessage();
    }
}
