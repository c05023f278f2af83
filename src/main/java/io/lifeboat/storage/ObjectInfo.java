package io.lifeboat.storage;

import java.time.Instant;

/** A stored object as the storage sees it: its key relative to the storage root, size, and mtime. */
public record ObjectInfo(String key, long size, Instant lastModified) {
}
