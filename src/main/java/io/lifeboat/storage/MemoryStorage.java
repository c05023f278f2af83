package io.lifeboat.storage;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentSkipListMap;

/** In-memory storage for unit tests. */
public final class MemoryStorage implements Storage {
    private record Entry(byte[] data, Instant time) {
    }

    private final ConcurrentSkipListMap<String, Entry> objects = new ConcurrentSkipListMap<>();

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
                objects.put(key, new Entry(data, Instant.now()));
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
    public InputStream read(String key) {
        Entry e = objects.get(Keys.check(key));
        if (e == null) {
            throw new LifeboatException(ErrorKind.NOT_FOUND, "object '" + key + "' not found in " + describe());
        }
        return new ByteArrayInputStream(e.data());
    }

    @Override
    public Optional<ObjectInfo> stat(String key) {
        Entry e = objects.get(Keys.check(key));
        return e == null ? Optional.empty() : Optional.of(new ObjectInfo(key, e.data().length, e.time()));
    }

    @Override
    public List<ObjectInfo> list(String prefix) {
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
        objects.put(key, new Entry(data, Instant.now()));
    }
}
