package io.lifeboat.storage;

import java.net.URI;

/**
 * Everything the S3 driver needs. The secret key is held here only in memory and is left out of
 * {@link #toString()} so that it can never reach a log line by accident.
 */
public record S3Settings(
        String bucket,
        String prefix,
        URI endpoint,
        String region,
        boolean pathStyle,
        String accessKeyId,
        String secretAccessKey,
        int partSizeBytes,
        int concurrency,
        Timeouts timeouts,
        TlsSettings tls) {

    public static final int DEFAULT_PART_SIZE = 16 * 1024 * 1024;
    public static final int DEFAULT_CONCURRENCY = 8;

    public S3Settings(String bucket, String prefix, URI endpoint, String region, boolean pathStyle, String accessKeyId,
                      String secretAccessKey, int partSizeBytes, int concurrency) {
        this(bucket, prefix, endpoint, region, pathStyle, accessKeyId, secretAccessKey, partSizeBytes, concurrency,
                Timeouts.DEFAULT, TlsSettings.DEFAULT);
    }

    /** The same settings with another endpoint (a test puts a proxy in between) and timeouts. */
    public S3Settings with(URI otherEndpoint, Timeouts otherTimeouts) {
        return new S3Settings(bucket, prefix, otherEndpoint, region, pathStyle, accessKeyId, secretAccessKey, partSizeBytes,
                concurrency, otherTimeouts, tls);
    }

    @Override
    public String toString() {
        return "S3Settings[bucket=" + bucket + ", prefix=" + prefix + ", endpoint=" + endpoint + ", region=" + region
                + ", pathStyle=" + pathStyle + ", accessKeyId=" + (accessKeyId == null ? "(default chain)" : "***")
                + ", partSize=" + partSizeBytes + ", concurrency=" + concurrency + ", " + timeouts + ", " + tls + "]";
    }
}
