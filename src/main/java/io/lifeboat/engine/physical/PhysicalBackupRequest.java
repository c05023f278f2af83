package io.lifeboat.engine.physical;

/**
 * How to take a physical backup.
 *
 * @param includeWal     also store the WAL from start to stop (streamed during the backup), so the
 *                       backup restores without a WAL archive
 * @param fastCheckpoint start with an immediate checkpoint (default) instead of a spread one, which
 *                       can take up to checkpoint_timeout × checkpoint_completion_target
 * @param maxRateKiB     the server reads at most this many KiB/s (32..1048576), 0 for no limit
 * @param jobs           compression/upload threads
 * @param chunkBytes     raw size of one tar chunk object
 */
public record PhysicalBackupRequest(boolean includeWal, boolean fastCheckpoint, int maxRateKiB, int jobs, int chunkBytes) {
    public static final int DEFAULT_CHUNK_BYTES = 16 << 20;

    public static PhysicalBackupRequest defaults(int jobs) {
        return new PhysicalBackupRequest(false, true, 0, jobs, DEFAULT_CHUNK_BYTES);
    }

    public PhysicalBackupRequest withIncludeWal(boolean include) {
        return new PhysicalBackupRequest(include, fastCheckpoint, maxRateKiB, jobs, chunkBytes);
    }
}
