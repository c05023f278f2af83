package io.lifeboat.storage;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;

/**
 * A storage whose driver is created and probed in the background; the first call waits for it.
 * Creating an S3 client takes about a second (class loading, endpoint rules): this lets that
 * second overlap with connecting to PostgreSQL instead of adding to every command's run time.
 */
public final class DeferredStorage implements Storage {
    private final String description;
    private final CompletableFuture<Storage> driver;

    public DeferredStorage(String description, Supplier<Storage> open) {
        this.description = description;
        this.driver = CompletableFuture.supplyAsync(open);
    }

    private Storage driver() {
        try {
            return driver.join();
        } catch (CompletionException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException re) {
                throw re;
            }
            throw new LifeboatException(ErrorKind.STORAGE, "repository " + description + " could not be opened: " + c,
                    "check the repository settings", c);
        }
    }

    /** Waits until the driver is open and probed; throws what opening it threw. */
    public void await() {
        driver();
    }

    @Override
    public String describe() {
        return driver.isDone() && !driver.isCompletedExceptionally() ? driver().describe() : description;
    }

    @Override
    public ObjectWriter create(String key) throws IOException {
        return driver().create(key);
    }

    @Override
    public ObjectWriter create(String key, long sizeHint) throws IOException {
        return driver().create(key, sizeHint);
    }

    @Override
    public ObjectWriter createConfirmed(String key, long sizeHint) throws IOException {
        return driver().createConfirmed(key, sizeHint);
    }

    @Override
    public InputStream read(String key) throws IOException {
        return driver().read(key);
    }

    @Override
    public InputStream read(String key, long offset) throws IOException {
        return driver().read(key, offset);
    }

    @Override
    public Optional<ObjectInfo> stat(String key) throws IOException {
        return driver().stat(key);
    }

    @Override
    public List<ObjectInfo> list(String prefix) throws IOException {
        return driver().list(prefix);
    }

    @Override
    public List<ObjectInfo> listWritable(String prefix) throws IOException {
        return driver().listWritable(prefix);
    }

    @Override
    public void delete(String key) throws IOException {
        driver().delete(key);
    }

    @Override
    public void probe() throws IOException {
        driver().probe();
    }

    @Override
    public ObjectWriter createFrom(String key, byte[] data, int off, int len) throws IOException {
        return driver().createFrom(key, data, off, len);
    }

    @Override
    public java.util.List<StaleUpload> staleUploads(String prefix, java.time.Instant startedBefore, boolean abort)
            throws IOException {
        return driver().staleUploads(prefix, startedBefore, abort);
    }

    @Override
    public int removeAbandonedWrites(String prefix, java.time.Duration idle) throws IOException {
        return driver().removeAbandonedWrites(prefix, idle);
    }

    @Override
    public boolean atomicCommit() {
        return driver().atomicCommit();
    }

    /** Closes the driver once it is open (at once if it is), without waiting for it; nothing if it failed to open. */
    public void closeWhenOpen() {
        driver.thenAccept(Storage::close);
    }

    @Override
    public void close() {
        try {
            driver.join().close();
        } catch (CompletionException | UncheckedIOException ignored) {
            // it never opened: nothing to close
        }
    }
}
