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
        int concurrency) {

    public static final int DEFAULT_PART_SIZE = 16 * 1024 * 1024;
    public static final int DEFAULT_CONCURRENCY = 8;

    @Override
    public String toString() {
        return "S3Settings[bucket=" + bucket + ", prefix=" + prefix + ", endpoint=" + endpoint + ", region=" + region
                + ", pathStyle=" + pathStyle + ", accessKeyId=" + (accessKeyId == null ? "(default chain)" : "***")
                + ", partSize=" + partSizeBytes + ", concurrency=" + concurrency + "]";
    }
}
