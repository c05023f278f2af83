package io.lifeboat.engine.physical;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.postgres.ReplicationConnection;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Cuts one archive stream (a tar file as the server sends it) into chunks of a fixed raw size and
 * hands each full chunk to the uploader, so that the chunks are compressed in parallel while the
 * next one is read. Chunk i of archive "base.tar" is stored as base.tar.00000i plus the codec
 * suffixes; every chunk is an independent frame, so {@code cat base.tar.*.zst | zstd -d} gives the
 * tar file back. Chunk buffers come from a small pool shared by all archives of a backup.
 */
final class ChunkedArchive {
    /** Observes the raw bytes as they pass (e.g. to find backup_label in the tar stream). */
    interface Tap {
        void bytes(byte[] b, int off, int len);
    }

    /** Told of every full chunk as it is handed to the uploader: its raw name, number (from 1) and end offset. */
    interface Cuts {
        void chunk(String rawName, int index, long end);
    }

    /** Fixed-size byte arrays, at most {@code count} of them ever allocated. */
    static final class BufferPool {
        private final int size;
        private final BlockingQueue<byte[]> free;
        private int allocated;
        private final int count;

        BufferPool(int size, int count) {
            this.size = size;
            this.count = count;
            this.free = new ArrayBlockingQueue<>(count);
        }

        int size() {
            return size;
        }

        byte[] take() {
            synchronized (this) {
                byte[] b = free.poll();
                if (b != null) {
                    return b;
                }
                if (allocated < count) {
                    allocated++;
                    return new byte[size];
                }
            }
            try {
                return free.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new LifeboatException(ErrorKind.INTERRUPTED, "interrupted while waiting for a buffer");
            }
        }

        void give(byte[] b) {
            free.offer(b);
        }
    }

    private final String name;
    private final ParallelUploader uploader;
    private final BufferPool pool;
    private final Tap tap;
    private final List<String> chunks = new ArrayList<>();
    private byte[] buffer;
    private int fill;
    private long rawBytes;
    private Cuts cuts;

    ChunkedArchive(String name, ParallelUploader uploader, BufferPool pool, Tap tap) {
        this.name = name;
        this.uploader = uploader;
        this.pool = pool;
        this.tap = tap;
    }

    /**
     * Goes on with the stream of an interrupted backup: its first {@code stored} chunks (raw names,
     * {@code end} bytes in all) are kept, the next chunk gets the next number. Before anything is written.
     */
    void continueAfter(List<String> stored, long end) {
        if (!chunks.isEmpty() || rawBytes != 0 || buffer != null) {
            throw new IllegalStateException("archive " + name + " was already written to");
        }
        chunks.addAll(stored);
        rawBytes = end;
    }

    void onChunk(Cuts c) {
        this.cuts = c;
    }

    static String chunkName(String archive, int index) {
        return String.format("%s.%06d", archive, index);
    }

    String name() {
        return name;
    }

    /** Reads {@code length} bytes from the source into chunks. */
    void write(ReplicationConnection.DataSource in, int length) throws IOException {
        int left = length;
        while (left > 0) {
            if (buffer == null) {
                buffer = pool.take();
                fill = 0;
            }
            int n = Math.min(left, buffer.length - fill);
            in.readFully(buffer, fill, n);
            if (tap != null) {
                tap.bytes(buffer, fill, n);
            }
            fill += n;
            left -= n;
            rawBytes += n;
            if (fill == buffer.length) {
                flush();
            }
        }
    }

    void write(byte[] b, int off, int len) throws IOException {
        int[] pos = {off};
        write((dst, dOff, dLen) -> {
            System.arraycopy(b, pos[0], dst, dOff, dLen);
            pos[0] += dLen;
        }, len);
    }

    private void flush() {
        String chunk = chunkName(name, chunks.size() + 1);
        chunks.add(chunk);
        if (cuts != null && fill == buffer.length) {
            cuts.chunk(chunk, chunks.size(), rawBytes);
        }
        byte[] b = buffer;
        buffer = null;
        uploader.submit(chunk, b, fill, () -> pool.give(b));
        fill = 0;
    }

    /** Queues the last, partial chunk. Returns the raw chunk names in order. */
    List<String> close() {
        if (buffer != null && fill > 0) {
            flush();
        } else if (buffer != null) {
            pool.give(buffer);
            buffer = null;
        }
        if (chunks.isEmpty()) {
            // An empty archive still gets one (empty) chunk, so that every archive can be restored the same way.
            chunks.add(chunkName(name, 1));
            uploader.submit(chunks.get(0), new byte[0], 0, () -> { });
        }
        return List.copyOf(chunks);
    }

    /** Gives the current buffer back without storing it (the backup failed). */
    void discard() {
        if (buffer != null) {
            pool.give(buffer);
            buffer = null;
        }
    }

    long rawBytes() {
        return rawBytes;
    }
}
