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
 * @param archiveTimeoutSeconds without the WAL included and with archiving on: how long to wait for
 *                       the backup's last WAL segment to reach the repository before failing
 */
public record PhysicalBackupRequest(boolean includeWal, boolean fastCheckpoint, int maxRateKiB, int jobs, int chunkBytes,
                                    int archiveTimeoutSeconds) {
    public static final int DEFAULT_CHUNK_BYTES = 32 << 20;
    public static final int DEFAULT_ARCHIVE_TIMEOUT_SECONDS = 300;

    public PhysicalBackupRequest(boolean includeWal, boolean fastCheckpoint, int maxRateKiB, int jobs, int chunkBytes) {
        this(includeWal, fastCheckpoint, maxRateKiB, jobs, chunkBytes, DEFAULT_ARCHIVE_TIMEOUT_SECONDS);
    }

    public static PhysicalBackupRequest defaults(int jobs) {
        return new PhysicalBackupRequest(false, true, 0, jobs, DEFAULT_CHUNK_BYTES);
    }

    public PhysicalBackupRequest withChunkBytes(int bytes) {
        return new PhysicalBackupRequest(includeWal, fastCheckpoint, maxRateKiB, jobs, bytes, archiveTimeoutSeconds);
    }

    /**
     * This request with chunks whose buffers fit in {@code budget} (smaller than asked for when they
     * do not, said through {@code log}); fails with RESOURCE when none do.
     */
    public PhysicalBackupRequest fitting(io.lifeboat.engine.MemoryBudget budget, java.util.function.Consumer<String> log) {
        int c = budget.backupChunk(jobs, chunkBytes);
        if (c != chunkBytes) {
            log.accept("tar chunks of " + (c >> 20) + " MiB instead of " + (chunkBytes >> 20) + " MiB: the buffers of "
                    + Math.max(1, jobs) + " jobs must fit in the JVM's heap (" + (budget.buffers() >> 20) + " MiB for buffers)");
        }
        return withChunkBytes(c);
    }

    public PhysicalBackupRequest withIncludeWal(boolean include) {
        return new PhysicalBackupRequest(include, fastCheckpoint, maxRateKiB, jobs, chunkBytes, archiveTimeoutSeconds);
    }
}
