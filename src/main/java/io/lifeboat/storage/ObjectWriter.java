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

    /**
     * Whether the storage's own answer to {@link #commit()} proved that exactly the written bytes are
     * stored under the key (S3: a single PUT sent with Content-MD5, which the server checks, answered
     * with that MD5 as its ETag). Then a caller that would read the object's size back to verify the
     * write need not. False by default, and always before commit.
     */
    public boolean confirmed() {
        return false;
    }

    /** Discards what was written. Safe to call more than once and after commit (then a no-op). */
    public abstract void abort();

    @Override
    public void close() {
        abort();
    }
}
