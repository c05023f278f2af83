package io.lifeboat.engine;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;

import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * How many bytes of data buffers (tar chunks, their encoded copies that the storage uploads from,
 * decoded chunks of a restore, the S3 driver's part buffers of streamed uploads) a command may hold
 * at once: the JVM's heap cap (the launcher sets -Xmx) less a fixed reserve for
 * everything else. Buffer counts and sizes are chosen against it before anything is read, so that a
 * command either fits or says so at its start: never an OutOfMemoryError in the middle of a backup.
 * The buffers a command plans are then {@link #hold held} from the process's budget for as long as
 * they live, so that two jobs of one process (the agent's clusters) wait for each other's memory
 * instead of sharing a heap that holds only one of them.
 */
public final class MemoryBudget {
    public static final long MIB = 1L << 20;
    /**
     * Heap kept for what is not a data buffer: the S3 client and its TLS connections, manifests and
     * file lists, the WAL stream's segment, the codecs' own buffers, the S3 driver's free part blocks
     * kept for reuse (16 MiB at most), the collector's headroom.
     */
    public static final long RESERVE = 128 * MIB;
    /** The smallest tar chunk a backup falls back to when the heap cannot hold the chunks asked for. */
    public static final int MIN_CHUNK = 4 << 20;
    private static final String HINT = "use fewer jobs, or give the JVM a larger heap (LIFEBOAT_JAVA_OPTS=-Xmx<size>; "
            + "the launcher's default is -Xmx384m)";
    private static final MemoryBudget PROCESS = new MemoryBudget(Runtime.getRuntime().maxMemory());
    private final long heap;
    private final int totalMiB;
    private final Semaphore freeMiB;

    /** @param heap the heap cap in bytes (Runtime.maxMemory) */
    public MemoryBudget(long heap) {
        this.heap = heap;
        this.totalMiB = (int) Math.min(Integer.MAX_VALUE, buffers() / MIB);
        this.freeMiB = new Semaphore(totalMiB, true);
    }

    /** The budget of this process: one for all its jobs. */
    public static MemoryBudget ofThisJvm() {
        return PROCESS;
    }

    /** Buffers held from the budget until closed. */
    public interface Lease extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * Holds {@code bytes} of the budget (planned to fit it: {@link #backupChunk}, {@link #restore}),
     * waiting while other jobs of this process hold too much of it. Close the lease when the buffers
     * are gone.
     */
    public Lease hold(long bytes, Consumer<String> log) {
        int n = (int) Math.min(totalMiB, (bytes + MIB - 1) / MIB);
        if (!freeMiB.tryAcquire(n)) {
            log.accept("waiting for " + n + " MiB of buffers that another job of this process holds ("
                    + mib(buffers()) + " MiB in all)");
            try {
                freeMiB.acquire(n);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new LifeboatException(ErrorKind.INTERRUPTED, "interrupted while waiting for memory for buffers");
            }
        }
        AtomicBoolean open = new AtomicBoolean(true);
        return () -> {
            if (open.getAndSet(false)) {
                freeMiB.release(n);
            }
        };
    }

    /**
     * Where the S3 driver holds the part buffers of streamed uploads (unknown length: logical dumps,
     * files) from: this budget, part by part while each lives, so that they and the jobs' planned
     * buffers never add up to more than it. (Pieces encoded whole are uploaded from the job's own
     * buffer, already counted.)
     *
     * @throws LifeboatException RESOURCE when not even one part fits
     */
    public io.lifeboat.storage.PartMemory uploadParts(int partSize) {
        if (partSize > buffers()) {
            throw new LifeboatException(ErrorKind.RESOURCE, "S3 parts of " + mib(partSize) + " MiB do not fit in the "
                    + mib(buffers()) + " MiB of buffers of the JVM's heap of " + mib(heap) + " MiB", "lower "
                    + "part-size-mib, or give the JVM a larger heap (LIFEBOAT_JAVA_OPTS=-Xmx<size>; the launcher's "
                    + "default is -Xmx384m)");
        }
        return bytes -> {
            Lease l = hold(bytes, waiting -> { });
            return l::close;
        };
    }

    /** MiB of the budget no job holds now. */
    public int freeMiB() {
        return freeMiB.availablePermits();
    }

    /** Bytes the data buffers may take. */
    public long buffers() {
        return Math.max(0, heap - RESERVE);
    }

    /** The most a compressed (and encrypted) copy of {@code raw} bytes can take: the codecs' worst case. */
    public static long encodedBound(long raw) {
        return raw + raw / 64 + 65536;
    }

    /**
     * The data buffers of a backup: jobs + 2 chunk buffers (one filling from the stream, one queued,
     * one per compression job) and, per job, the compressed copy being uploaded.
     */
    public static long backupNeed(int jobs, long chunkBytes) {
        long j = Math.max(1, jobs);
        return (j + 2) * chunkBytes + j * encodedBound(chunkBytes);
    }

    /**
     * The tar chunk size a backup with {@code jobs} jobs cuts: {@code requested} when its buffers fit,
     * else the largest halving of it (not below {@link #MIN_CHUNK}) that fits. Chunk size is free:
     * restores and resumed backups read each chunk's size from the manifest.
     *
     * @throws LifeboatException RESOURCE when even the smallest chunks do not fit
     */
    public int backupChunk(int jobs, int requested) {
        int c = requested;
        while (backupNeed(jobs, c) > buffers() && c / 2 >= MIN_CHUNK) {
            c /= 2;
        }
        if (backupNeed(jobs, c) > buffers()) {
            throw new LifeboatException(ErrorKind.RESOURCE, "a backup with " + Math.max(1, jobs) + " jobs needs "
                    + mib(backupNeed(jobs, c)) + " MiB of buffers even with tar chunks of " + mib(c) + " MiB, and the "
                    + "JVM's heap of " + mib(heap) + " MiB holds " + mib(buffers()) + " MiB of them", HINT);
        }
        return c;
    }

    /** How a physical restore reads: archives extracted at once, and chunks downloaded ahead in each. */
    public record RestorePlan(int streams, int window, long bytes) {
    }

    /**
     * The data buffers of a restore: per archive being extracted window + 1 decoded chunks (the one
     * read, those downloaded ahead), and per download thread one stored chunk.
     */
    public static long restoreNeed(int streams, int window, int jobs, long rawChunk, long storedChunk) {
        return (long) streams * (window + 1) * rawChunk + (long) Math.max(1, jobs) * storedChunk;
    }

    /**
     * The widest restore that fits: {@code min(archives, jobs)} archives at once, each {@code jobs}
     * chunks ahead; a smaller heap (or larger chunks) first reads fewer chunks ahead, then extracts
     * fewer archives at once.
     *
     * @param rawChunk    the largest chunk's decoded size
     * @param storedChunk the largest chunk's stored size
     * @throws LifeboatException RESOURCE when one archive, one chunk ahead, does not fit
     */
    public RestorePlan restore(int jobs, int archives, long rawChunk, long storedChunk) {
        int j = Math.max(1, jobs);
        int streams = Math.max(1, Math.min(archives, j));
        int window = j;
        while (restoreNeed(streams, window, j, rawChunk, storedChunk) > buffers() && window > 1) {
            window--;
        }
        while (restoreNeed(streams, window, j, rawChunk, storedChunk) > buffers() && streams > 1) {
            streams--;
        }
        long need = restoreNeed(streams, window, j, rawChunk, storedChunk);
        if (need > buffers()) {
            throw new LifeboatException(ErrorKind.RESOURCE, "this backup's chunks of " + mib(rawChunk) + " MiB need "
                    + mib(need) + " MiB of buffers for a restore with " + j + " jobs, and the JVM's heap of "
                    + mib(heap) + " MiB holds " + mib(buffers()) + " MiB of them", HINT);
        }
        return new RestorePlan(streams, window, need);
    }

    /**
     * How many of {@code jobs} threads that each hold {@code perThread} bytes of buffers fit (at least 1).
     *
     * @throws LifeboatException RESOURCE when not even one does
     */
    public int threads(int jobs, long perThread, String what) {
        int n = Math.max(1, jobs);
        while (n > 1 && n * perThread > buffers()) {
            n--;
        }
        if (perThread > buffers()) {
            throw new LifeboatException(ErrorKind.RESOURCE, what + " needs " + mib(perThread) + " MiB of buffers per "
                    + "thread, and the JVM's heap of " + mib(heap) + " MiB holds " + mib(buffers()) + " MiB of them", HINT);
        }
        return n;
    }

    private static long mib(long bytes) {
        return (bytes + MIB - 1) / MIB;
    }
}
