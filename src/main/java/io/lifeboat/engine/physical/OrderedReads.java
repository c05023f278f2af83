package io.lifeboat.engine.physical;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.engine.Parallel;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Runs reads on {@code readers} threads, a bounded number ahead, and hands their results out in
 * the order they were queued: the files of a backup are read in parallel while one writer puts
 * them into the tar stream in order.
 */
final class OrderedReads<T> implements AutoCloseable {
    private final ExecutorService pool;
    private final Deque<Future<T>> ahead = new ArrayDeque<>();

    OrderedReads(int readers) {
        this.pool = Executors.newFixedThreadPool(Math.max(1, readers), r -> {
            Thread t = new Thread(r, "lifeboat-read");
            t.setDaemon(true);
            return t;
        });
    }

    void submit(Callable<T> read) {
        ahead.add(pool.submit(read));
    }

    /** Reads queued and not yet taken. */
    int pending() {
        return ahead.size();
    }

    /** The oldest read's result (waiting for it); its failure is thrown as it was. */
    T next() {
        Future<T> f = ahead.poll();
        if (f == null) {
            throw new IllegalStateException("nothing queued");
        }
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LifeboatException(ErrorKind.INTERRUPTED, "interrupted while reading the data directory");
        } catch (ExecutionException e) {
            throw Parallel.unchecked(e.getCause());
        }
    }

    @Override
    public void close() {
        ahead.forEach(f -> f.cancel(true));
        ahead.clear();
        pool.shutdownNow();
    }
}
