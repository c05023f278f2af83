package io.lifeboat.storage;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * In-memory storage for unit tests. It reads through the same {@link ResumingInputStream} as the
 * real drivers, and can be told to break reads and listings the way a network does
 * ({@link #cutReads}, {@link #failListings}), so the engine's handling of those is tested without one.
 */
public final class MemoryStorage implements Storage {
    private record Entry(byte[] data, Instant time, long generation) {
    }

    private final ConcurrentSkipListMap<String, Entry> objects = new ConcurrentSkipListMap<>();
    private final AtomicLong generations = new AtomicLong();
    private final AtomicInteger cutReads = new AtomicInteger();
    private final AtomicInteger failListings = new AtomicInteger();
    private volatile long cutAfter;
    private volatile Retry retry = new Retry(Duration.ofSeconds(2));

    /** Test hook: the next {@code times} read bodies fail after {@code afterBytes} bytes, as a reset connection does. */
    public void cutReads(int times, long afterBytes) {
        cutAfter = afterBytes;
        cutReads.set(times);
    }

    /** Test hook: the next {@code times} listings fail transiently, as an invalid answer of a server does. */
    public void failListings(int times) {
        failListings.set(times);
    }

    /** Test hook: how long failing reads and listings are retried. */
    public void retryFor(Duration budget) {
        retry = new Retry(budget);
    }

    private static boolean take(AtomicInteger counter) {
        return counter.getAndUpdate(n -> n > 0 ? n - 1 : 0) > 0;
    }

    @Override
    public String describe() {
        return "memory://";
    }

    @Override
    public ObjectWriter create(String key) {
        Keys.check(key);
        return new ObjectWriter() {
            private ByteArrayOutputStream buffer = new ByteArrayOutputStream();

            @Override
            public void write(int b) {
                open().write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                open().write(b, off, len);
            }

            private ByteArrayOutputStream open() {
                if (buffer == null) {
                    throw new IllegalStateException("writer for " + key + " is closed");
                }
                return buffer;
            }

            @Override
            public long commit() {
                byte[] data = open().toByteArray();
                objects.put(key, new Entry(data, Instant.now(), generations.incrementAndGet()));
                buffer = null;
                return data.length;
            }

            @Override
            public void abort() {
                buffer = null;
            }
        };
    }

    @Override
    public InputStream read(String key, long offset) throws IOException {
        Keys.check(key);
        return new ResumingInputStream(key, describe(), offset, (from, version) -> {
            Entry e = objects.get(key);
            if (e == null) {
                throw new LifeboatException(ErrorKind.NOT_FOUND, "object '" + key + "' not found in " + describe());
            }
            InputStream body = new ByteArrayInputStream(e.data(), (int) Math.min(from, e.data().length), e.data().length);
            if (take(cutReads)) {
                body = cut(body, cutAfter);
            }
            return new ResumingInputStream.Body(body, from, e.data().length, Long.toString(e.generation()));
        }, retry);
    }

    /** A body that fails after {@code limit} bytes. */
    private static InputStream cut(InputStream in, long limit) {
        return new FilterInputStream(in) {
            private long left = limit;

            @Override
            public int read() throws IOException {
                byte[] b = new byte[1];
                return read(b, 0, 1) < 0 ? -1 : b[0] & 0xFF;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (left <= 0) {
                    throw new IOException("Connection reset (memory storage test hook)");
                }
                int n = super.read(b, off, (int) Math.min(len, left));
                left -= Math.max(n, 0);
                return n;
            }
        };
    }

    @Override
    public Optional<ObjectInfo> stat(String key) {
        Entry e = objects.get(Keys.check(key));
        return e == null ? Optional.empty() : Optional.of(new ObjectInfo(key, e.data().length, e.time()));
    }

    @Override
    public List<ObjectInfo> list(String prefix) throws IOException {
        return retry.run(() -> {
            if (take(failListings)) {
                throw new TransientFailure("invalid listing (memory storage test hook)");
            }
            return listNow(prefix);
        }, (e, a) -> new LifeboatException(ErrorKind.STORAGE, "cannot list '" + prefix + "' in " + describe() + " ("
                + a.summary() + "): " + e.getMessage(), null, e));
    }

    private List<ObjectInfo> listNow(String prefix) {
        return objects.tailMap(prefix).entrySet().stream()
                .takeWhile(en -> en.getKey().startsWith(prefix))
                .map(en -> new ObjectInfo(en.getKey(), en.getValue().data().length, en.getValue().time()))
                .toList();
    }

    @Override
    public void delete(String key) {
        objects.remove(Keys.check(key));
    }

    @Override
    public void probe() {
    }

    /** Test hook: replace stored bytes behind the driver's back, to simulate corruption. */
    public void overwriteRaw(String key, byte[] data) {
        objects.put(key, new Entry(data, Instant.now(), generations.incrementAndGet()));
    }
}
