package io.lifeboat.storage;

import java.time.Instant;

/** An upload a writer began and never committed nor abandoned (it was killed): what {@link Storage#staleUploads} lists and aborts. */
public record StaleUpload(String key, Instant started) {
}
