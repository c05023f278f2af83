package io.lifeboat.storage;

import java.io.IOException;

/**
 * A failure the storage may not repeat: a reset or timed-out connection, a 5xx or SlowDown answer,
 * an answer that cannot be a valid one (an empty listing body, a GET without an ETag). Drivers throw
 * it from one attempt; {@link Retry} tries again. Everything else a driver throws is definitive.
 */
public final class TransientFailure extends IOException {
    public TransientFailure(String message, Throwable cause) {
        super(message, cause);
    }

    public TransientFailure(String message) {
        super(message);
    }
}
