package io.lifeboat.engine;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionService;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Runs independent tasks on a few threads; the first failure cancels the rest and is rethrown as is,
 * once the others have stopped: a caller that cleans up after a failure (removes a spool, deletes a
 * temporary object) must not do so under a task still writing there.
 */
public final class Parallel {
    private static final long STOP_WAIT_SECONDS = 30;

    private Parallel() {
    }

    public interface Task<T> {
        T call() throws Exception;
    }

    public static <T> List<T> run(int threads, List<? extends Task<T>> tasks) {
        if (tasks.isEmpty()) {
            return List.of();
        }
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Math.min(threads, tasks.size())), r -> {
            Thread t = new Thread(r, "lifeboat-worker");
            t.setDaemon(true);
            return t;
        });
        try {
            CompletionService<T> cs = new ExecutorCompletionService<>(pool);
            List<Future<T>> futures = new ArrayList<>();
            for (Task<T> task : tasks) {
                Callable<T> c = task::call;
                futures.add(cs.submit(c));
            }
            for (int i = 0; i < tasks.size(); i++) {
                try {
                    cs.take().get();
                } catch (ExecutionException e) {
                    futures.forEach(f -> f.cancel(true));
                    throw unwrap(e.getCause());
                }
            }
            List<T> results = new ArrayList<>();
            for (Future<T> f : futures) {
                results.add(f.get());
            }
            return results;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LifeboatException(ErrorKind.INTERRUPTED, "interrupted");
        } catch (ExecutionException e) {
            throw unwrap(e.getCause());
        } finally {
            pool.shutdownNow();
            awaitStopped(pool);
        }
    }

    /** A cancelled task ends at its next interruptible wait, read or write; a stuck one is given up on after a while. */
    private static void awaitStopped(ExecutorService pool) {
        boolean interrupted = Thread.interrupted();
        try {
            pool.awaitTermination(STOP_WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            interrupted = true;
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** A task's failure as thrown here: as {@link #unchecked}, but an Error is reported, not rethrown. */
    static RuntimeException unwrap(Throwable t) {
        return t instanceof Error ? general(t) : unchecked(t);
    }

    /**
     * What another thread failed with, to throw in this one: unchecked exceptions as they are,
     * IOException as UncheckedIOException (the CLI reports it as an I/O error), Errors rethrown,
     * anything else as a GENERAL error.
     */
    public static RuntimeException unchecked(Throwable t) {
        if (t instanceof RuntimeException re) {
            return re;
        }
        if (t instanceof Error err) {
            throw err;
        }
        if (t instanceof IOException io) {
            return new UncheckedIOException(io);
        }
        return general(t);
    }

    /** The future's result; what it failed with is thrown here as {@link #unchecked} says (not wrapped in a CompletionException). */
    public static <T> T join(java.util.concurrent.CompletableFuture<T> f) {
        try {
            return f.join();
        } catch (java.util.concurrent.CompletionException e) {
            throw unchecked(e.getCause());
        }
    }

    /** Waits until the future has ended, whatever its outcome: before removing what its task may still be using. */
    public static void settle(java.util.concurrent.CompletableFuture<?> f) {
        f.handle((v, e) -> null).join();
    }

    private static LifeboatException general(Throwable t) {
        return new LifeboatException(ErrorKind.GENERAL, String.valueOf(t), null, t);
    }
}
