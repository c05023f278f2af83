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
 * tar extractor. A failed chunk fails the read with the error naming it.
 */
final class ChunkStream extends InputStream {
    /** Downloads one object, verifies it and returns its decoded bytes. */
    interface Fetcher {
        byte[] fetch(StoredObject chunk) throws IOException;
    }

    private final Iterator<StoredObject> pending;
    private final Deque<Future<byte[]>> ahead = new ArrayDeque<>();
    private final Fetcher fetcher;
    private final ExecutorService pool;
    private final int window;
    private byte[] current = new byte[0];
    private int pos;
    private boolean closed;

    ChunkStream(List<StoredObject> chunks, Fetcher fetcher, ExecutorService pool, int window) {
        this.pending = chunks.iterator();
        this.fetcher = fetcher;
        this.pool = pool;
        this.window = Math.max(1, window);
        fill();
    }

    private void fill() {
        while (ahead.size() < window && pending.hasNext()) {
            StoredObject o = pending.next();
            ahead.add(pool.submit(() -> fetcher.fetch(o)));
        }
    }

    private boolean advance() throws IOException {
        while (pos >= current.length) {
            if (ahead.isEmpty()) {
                return false;
            }
            Future<byte[]> next = ahead.poll();
            try {
                current = next.get();
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
        int n = Math.min(len, current.length - pos);
        System.arraycopy(current, pos, b, off, n);
        pos += n;
        return n;
    }

    @Override
    public int available() {
        return current.length - pos;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        ahead.forEach(f -> f.cancel(true));
        ahead.clear();
        current = new byte[0];
    }

    static UncheckedIOException unchecked(IOException e) {
        return new UncheckedIOException(e);
    }
}
