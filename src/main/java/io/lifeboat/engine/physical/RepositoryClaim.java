package io.lifeboat.engine.physical;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.BackupId;
import io.lifeboat.engine.Parallel;

import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

/**
 * The repository side of starting a backup (checking that the repository belongs to this cluster,
 * choosing a free backup id: two round trips, made at once), run on threads of its own while the
 * server checkpoints. The stream waits for it before anything is stored. If it fails,
 * {@code onFailure} runs at once, so that a refused repository stops the backup without waiting
 * for a slow checkpoint to finish.
 */
final class RepositoryClaim implements AutoCloseable {
    private final FutureTask<BackupId> task;

    private RepositoryClaim(Runnable check, Callable<BackupId> chooseId, Runnable onFailure) {
        FutureTask<BackupId> id = new FutureTask<>(chooseId);
        this.task = new FutureTask<>(() -> {
            try {
                daemon(id, "lifeboat-claim-id");
                try {
                    check.run();
                } finally {
                    await(id); // never left running against a storage that is about to close
                }
                return id.get();
            } catch (Throwable t) {
                onFailure.run();
                throw t;
            }
        });
    }

    /**
     * @param check    throws if the repository must not take this backup
     * @param chooseId the backup's id
     */
    static RepositoryClaim start(Runnable check, Callable<BackupId> chooseId, Runnable onFailure) {
        RepositoryClaim c = new RepositoryClaim(check, chooseId, onFailure);
        daemon(c.task, "lifeboat-claim");
        return c;
    }

    private static void daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        t.start();
    }

    private static void await(FutureTask<?> f) throws InterruptedException {
        try {
            f.get();
        } catch (ExecutionException ignored) {
            // its failure is reported by whoever asks for its value
        }
    }

    /** The claimed backup id; throws what the claim failed with. */
    BackupId await() {
        try {
            return task.get();
        } catch (ExecutionException e) {
            throw unchecked(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LifeboatException(ErrorKind.INTERRUPTED, "interrupted while checking the repository");
        }
    }

    /**
     * What to report for a failed stream: the claim's own failure if it failed (the stream was
     * stopped because of it), else {@code streamFailure}. Waits for the claim to end.
     */
    RuntimeException explain(RuntimeException streamFailure) {
        try {
            task.get();
        } catch (ExecutionException e) {
            return unchecked(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return streamFailure;
    }

    /** Waits for the claim to end, so that it never outlives the storage it uses. */
    @Override
    public void close() {
        try {
            task.get();
        } catch (ExecutionException ignored) {
            // reported by await() or explain(), or superseded by what ended the backup
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The cause of the claim's failure (the id's own, when the claim failed on it). */
    private static RuntimeException unchecked(Throwable t) {
        while (t instanceof ExecutionException && t.getCause() != null) {
            t = t.getCause();
        }
        return Parallel.unchecked(t);
    }
}
