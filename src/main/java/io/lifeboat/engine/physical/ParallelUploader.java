package io.lifeboat.engine.physical;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.StoredObject;
import io.lifeboat.engine.ObjectPipeline;
import io.lifeboat.engine.Parallel;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.function.Function;

/**
 * Compresses, checksums and stores in-memory pieces (tar chunks, WAL segments, small files) on a
 * few worker threads while the producer keeps reading. At most {@code workers + 1} pieces are in
 * flight: a producer faster than compression and upload waits, so memory stays bounded. The first
 * failure stops everything and is rethrown to the producer at its next call.
 */
final class ParallelUploader implements AutoCloseable {
    private final ObjectPipeline pipeline;
    private final Function<String, String> keyOf;
    private final ExecutorService pool;
    private final Semaphore inFlight;
    /** Each worker encodes into its own array, which the storage uploads from (the pool's threads end with it). */
    private final ThreadLocal<ObjectPipeline.EncodeBuffer> encoded = ThreadLocal.withInitial(ObjectPipeline.EncodeBuffer::new);
    private final List<Future<StoredObject>> results = new ArrayList<>();
    private volatile Throwable failure;
    private volatile java.util.function.BiConsumer<String, StoredObject> onStored = (raw, o) -> { };

    /**
     * @param keyOf   storage key of a path relative to the backup
     * @param workers compression/upload threads
     */
    ParallelUploader(ObjectPipeline pipeline, Function<String, String> keyOf, int workers) {
        this.pipeline = pipeline;
        this.keyOf = keyOf;
        int n = Math.max(1, workers);
        this.pool = Executors.newFixedThreadPool(n, r -> {
            Thread t = new Thread(r, "lifeboat-upload");
            t.setDaemon(true);
            return t;
        });
        this.inFlight = new Semaphore(n + 1);
    }

    /** Told of every piece once it is stored (raw path, its entry), on the worker that stored it. */
    void onStored(java.util.function.BiConsumer<String, StoredObject> listener) {
        this.onStored = listener;
    }

    ObjectPipeline pipeline() {
        return pipeline;
    }

    /**
     * Queues {@code data[0..length)} to be stored as {@code rawPath} plus the codec suffixes. Blocks
     * while too many pieces are in flight.
     *
     * @param release called when the data array is no longer needed (success or failure)
     */
    synchronized void submit(String rawPath, byte[] data, int length, Runnable release) {
        check();
        try {
            inFlight.acquire();
        } catch (InterruptedException e) {
            release.run();
            Thread.currentThread().interrupt();
            throw new LifeboatException(ErrorKind.INTERRUPTED, "interrupted while storing " + rawPath);
        }
        String path = pipeline.storedName(rawPath);
        try {
            results.add(pool.submit(() -> {
                try {
                    if (failure != null) {
                        throw new IllegalStateException("cancelled after an earlier failure");
                    }
                    StoredObject o = pipeline.store(keyOf.apply(path), path, data, length, encoded.get());
                    onStored.accept(rawPath, o);
                    return o;
                } catch (Throwable t) {
                    if (failure == null) {
                        failure = t;
                    }
                    throw t;
                } finally {
                    release.run();
                    inFlight.release();
                }
            }));
        } catch (RuntimeException e) {
            inFlight.release();
            release.run();
            throw e;
        }
    }

    /** Rethrows the first failure of a worker, if any. */
    void check() {
        Throwable t = failure;
        if (t != null) {
            throw Parallel.unchecked(t);
        }
    }

    /** Waits for everything queued; the stored objects in the order they were submitted. */
    List<StoredObject> finish() {
        List<StoredObject> out = new ArrayList<>();
        List<Future<StoredObject>> all;
        synchronized (this) {
            all = List.copyOf(results);
        }
        for (Future<StoredObject> f : all) {
            try {
                out.add(f.get());
            } catch (ExecutionException e) {
                throw Parallel.unchecked(failure != null ? failure : e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new LifeboatException(ErrorKind.INTERRUPTED, "interrupted while waiting for uploads");
            }
        }
        return out;
    }

    /** Stops the workers; uploads still running are interrupted and their objects discarded. */
    @Override
    public void close() {
        // Let aborted writers clean up before the caller deletes what was stored.
        io.lifeboat.engine.Cleanup.stop(pool, 30);
    }
}
