package io.lifeboat.storage;

import java.time.Duration;

/**
 * How long a network driver waits and retries.
 *
 * @param connect how long to wait for a connection to open
 * @param read    how long a request may go without a byte arriving (a stalled answer fails after this)
 * @param retry   how long a failing request, or a read that makes no progress, is retried before the
 *                operation fails (measured from its first failure; progress starts it again)
 */
public record Timeouts(Duration connect, Duration read, Duration retry) {
    public static final Timeouts DEFAULT = new Timeouts(Duration.ofSeconds(10), Duration.ofSeconds(60),
            Duration.ofMinutes(2));

    public Timeouts {
        if (connect.isNegative() || connect.isZero() || read.isNegative() || read.isZero() || retry.isNegative()) {
            throw new IllegalArgumentException("timeouts must be positive: " + connect + ", " + read + ", " + retry);
        }
    }
}
