package io.lifeboat.catalog;

import java.time.Instant;

/** A backup as `list` sees it: complete (has a manifest) or unfinished (objects without one). */
public record BackupEntry(BackupId id, Status status, BackupManifest manifest, long storedBytes, int objectCount,
                          Instant lastModified) {
    public enum Status {
        COMPLETE, UNFINISHED;

        public String id() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public boolean complete() {
        return status == Status.COMPLETE;
    }
}
