package io.lifeboat.storage;

import java.io.IOException;
import java.io.OutputStream;

/**
 * A stream that becomes a stored object only on {@link #commit()}. Closing without committing
 * aborts, so a producer that fails half way inside try-with-resources never leaves a partial
 * object behind under the final key.
 */
public abstract class ObjectWriter extends OutputStream {
    /** Makes the written bytes visible under the key, atomically. Returns the stored size. */
    public abstract long commit() throws IOException;

    /** Discards what was written. Safe to call more than once and after commit (then a no-op). */
    public abstract void abort();

    @Override
    public void close() {
        abort();
    }
}
