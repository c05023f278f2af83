package io.lifeboat.storage;

import java.time.Instant;

/** An upload a writer began and never committed nor abandoned (it was killed), aborted by {@link Storage#abortStaleUploads}. */
public record StaleUpload(String key, Instant started) {
}
