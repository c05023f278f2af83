package io.lifeboat.engine;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Clean-up after a failure runs with the thread's interrupt status cleared: a signal stopped the
 * work, not the clean-up (an interrupted thread's file channel, S3 request or pool wait fails at
 * once, and the unfinished backup would stay). The status is restored afterwards.
 */
public final class Cleanup {
    private Cleanup() {
    }

    public static void run(Runnable r) {
        boolean interrupted = Thread.interrupted();
        try {
            r.run();
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Removes the objects of a backup that failed or was interrupted (uninterrupted, as above) and
     * says so; if the repository is what failed, says how to remove them later (invariant 3: without
     * a manifest the backup is unfinished, listed as such and never restored from).
     */
    public static void discardBackup(io.lifeboat.catalog.Catalog catalog, io.lifeboat.catalog.BackupId id,
                                     java.util.function.Consumer<String> log) {
        run(() -> {
            try {
                int n = catalog.delete(id);
                log.accept("backup " + id + " failed; removed the " + n + " objects stored so far");
            } catch (RuntimeException e) {
                log.accept("backup " + id + " failed; its objects could not be removed (" + e.getMessage()
                        + "): `lifeboat list` shows it as unfinished, `lifeboat delete " + id + "` removes it");
            }
        });
    }

    /**
     * Interrupts a pool's tasks and waits (at most {@code seconds}) for them to end, so that nothing
     * they store lands after the caller removed what was stored.
     */
    public static void stop(ExecutorService pool, long seconds) {
        pool.shutdownNow();
        run(() -> {
            try {
                pool.awaitTermination(seconds, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }
}
