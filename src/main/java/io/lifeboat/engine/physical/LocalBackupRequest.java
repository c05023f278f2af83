package io.lifeboat.engine.physical;

import io.lifeboat.config.FullEvery;

/**
 * How to take a physical backup on the database host, reading the data directory itself
 * ({@code --source local}).
 *
 * @param base        the settings every physical backup has (WAL, checkpoint, jobs: the readers and uploaders)
 * @param kind        full, incremental, or chosen by {@code fullEvery}
 * @param fullEvery   when a chain gets a new full backup (with kind AUTO); null: never on its own
 * @param resume      continue an interrupted backup, keeping what it stored
 */
public record LocalBackupRequest(PhysicalBackupRequest base, Kind kind, FullEvery fullEvery, boolean resume) {
    public enum Kind {
        /** Always a full backup. */
        FULL,
        /** An incremental of the newest backup taken this way; a full one if there is none (and says why). */
        INCREMENTAL,
        /** Incremental unless {@code fullEvery} (or the lack of a parent) asks for a full one. */
        AUTO
    }
}
