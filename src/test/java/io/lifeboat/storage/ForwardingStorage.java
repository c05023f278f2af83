package io.lifeboat.storage;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Optional;

/** A storage that passes everything to another one: tests override the one call they break. */
public class ForwardingStorage implements Storage {
    protected final Storage inner;

    public ForwardingStorage(Storage inner) {
        this.inner = inner;
    }

    @Override
    public String describe() {
        return inner.describe();
    }

    @Override
    public ObjectWriter create(String key) throws IOException {
        return inner.create(key);
    }

    @Override
    public InputStream read(String key, long offset) throws IOException {
        return inner.read(key, offset);
    }

    @Override
    public Optional<ObjectInfo> stat(String key) throws IOException {
        return inner.stat(key);
    }

    @Override
    public List<ObjectInfo> list(String prefix) throws IOException {
        return inner.list(prefix);
    }

    @Override
    public void delete(String key) throws IOException {
        inner.delete(key);
    }

    @Override
    public void probe() throws IOException {
        inner.probe();
    }
}
