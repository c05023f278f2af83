package io.lifeboat.engine.physical;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.StoredObject;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/**
 * The decoded content of an archive's chunks, in order, as one stream. Chunks are downloaded,
 * verified and decoded ahead on a shared pool ({@code window} at a time); a chunk's bytes are
 * handed out only after its size and checksum were checked, so nothing unverified reaches the
 * tar extractor. A failed chunk fails the read with the error naming it. The chunk arrays are
 * reused ({@code window + 1} of them), so a restore of any size allocates them once.
 */
final class ChunkStream extends InputStream {
    /**
     * Downloads one object, verifies it and decodes it into {@code into}, failing unless it
     * decodes to exactly its raw size (ObjectPipeline.fetchInto does all that).
     */
    interface Fetcher {
        void fetch(StoredObject chunk, byte[] into) throws IOException;
    }

    private record Piece(byte[] data, int length) {
    }

    private final Iterator<StoredObject> pending;
    private final Deque<Future<Piece>> ahead = new ArrayDeque<>();
    private final Deque<byte[]> spare = new ArrayDeque<>();
    private final Fetcher fetcher;
    private final ExecutorService pool;
    private final int window;
    private final int arraySize;
    private byte[] current = new byte[0];
    private int length;
    private int pos;
    private boolean closed;

    ChunkStream(List<StoredObject> chunks, Fetcher fetcher, ExecutorService pool, int window) {
        this.pending = chunks.iterator();
        this.fetcher = fetcher;
        this.pool = pool;
        this.window = Math.max(1, window);
        this.arraySize = arrayLength("a chunk", chunks.stream().mapToLong(StoredObject::rawSize).max().orElse(0));
        fill();
    }

    /** {@code rawSize} as the length of an array to decode into; CORRUPT when no array can be that long. */
    static int arrayLength(String what, long rawSize) {
        if (rawSize > Integer.MAX_VALUE - 16) {
            throw new LifeboatException(ErrorKind.CORRUPT, what + " claims " + rawSize + " bytes",
                    "the manifest is damaged; restore another backup");
        }
        return (int) rawSize;
    }

    private void fill() {
        while (ahead.size() < window && pending.hasNext()) {
            StoredObject o = pending.next();
            byte[] into = spare.isEmpty() ? new byte[arraySize] : spare.pop();
            ahead.add(pool.submit(() -> {
                fetcher.fetch(o, into);
                return new Piece(into, (int) o.rawSize());
            }));
        }
    }

    private boolean advance() throws IOException {
        while (pos >= length) {
            if (ahead.isEmpty()) {
                return false;
            }
            if (current.length > 0) {
                spare.push(current);
                current = new byte[0];
                length = 0;
            }
            Future<Piece> next = ahead.poll();
            try {
                Piece p = next.get();
                current = p.data();
                length = p.length();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new LifeboatException(ErrorKind.INTERRUPTED, "interrupted while downloading");
            } catch (ExecutionException e) {
                Throwable c = e.getCause();
                if (c instanceof RuntimeException re) {
                    throw re;
                }
                if (c instanceof IOException io) {
                    throw io;
                }
                throw new LifeboatException(ErrorKind.GENERAL, String.valueOf(c), null, c);
            }
            pos = 0;
            fill();
        }
        return true;
    }

    @Override
    public int read() throws IOException {
        if (!advance()) {
            return -1;
        }
        return current[pos++] & 0xFF;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        if (!advance()) {
            return -1;
        }
        int n = Math.min(len, length - pos);
        System.arraycopy(current, pos, b, off, n);
        pos += n;
        return n;
    }

    @Override
    public int available() {
        return length - pos;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        ahead.forEach(f -> f.cancel(true));
        ahead.clear();
        spare.clear();
        current = new byte[0];
        length = 0;
    }

    static UncheckedIOException unchecked(IOException e) {
        return new UncheckedIOException(e);
    }
}
