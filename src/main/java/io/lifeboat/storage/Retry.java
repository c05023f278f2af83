package io.lifeboat.storage;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BiFunction;

/**
 * Retries what failed transiently ({@link TransientFailure}), with exponential backoff and jitter,
 * until the failures have gone on for the budget (a repository's retry-time) and at least
 * {@link #MIN_ATTEMPTS} attempts were made. Anything else an attempt throws ends it at once.
 */
public final class Retry {
    static final int MIN_ATTEMPTS = 3;
    private static final long FIRST_PAUSE_MS = 100;
    private static final long MAX_PAUSE_MS = 5_000;
    private final Duration budget;

    public Retry(Duration budget) {
        this.budget = budget;
    }

    public Duration budget() {
        return budget;
    }

    /** One attempt of an operation. */
    public interface Attempt<T> {
        T run() throws IOException;
    }

    /**
     * Runs {@code attempt} until it succeeds; when transient failures outlast the budget, throws
     * what {@code giveUp} makes of the last one and the record of attempts.
     */
    public <T> T run(Attempt<T> attempt, BiFunction<TransientFailure, Attempts, RuntimeException> giveUp)
            throws IOException {
        Attempts a = begin();
        while (true) {
            try {
                return attempt.run();
            } catch (TransientFailure e) {
                if (!a.again(e)) {
                    throw giveUp.apply(e, a);
                }
            }
        }
    }

    public Attempts begin() {
        return new Attempts();
    }

    /** The failures of one operation so far. */
    public final class Attempts {
        private int failures;
        private int total;
        private long firstFailure;
        private final long start = System.nanoTime();

        private Attempts() {
        }

        /**
         * Records a transient failure. Returns true after pausing before the next attempt, or false
         * when the budget is spent.
         */
        public boolean again(Exception e) {
            long now = System.nanoTime();
            if (failures == 0) {
                firstFailure = now;
            }
            failures++;
            total++;
            if (failures >= MIN_ATTEMPTS && now - firstFailure >= budget.toNanos()) {
                return false;
            }
            long cap = Math.min(MAX_PAUSE_MS, FIRST_PAUSE_MS << Math.min(failures - 1, 16));
            long pause = cap / 2 + ThreadLocalRandom.current().nextLong(cap / 2 + 1);
            try {
                Thread.sleep(pause);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                throw new LifeboatException(ErrorKind.INTERRUPTED, "interrupted while waiting to retry after: "
                        + e.getMessage(), null, e);
            }
            return true;
        }

        /** The operation made progress: the budget starts again at its next failure. */
        public void progressed() {
            failures = 0;
        }

        /** e.g. "4 attempts over 12 s": for the message of the final failure. */
        public String summary() {
            long seconds = Duration.ofNanos(System.nanoTime() - start).toSeconds();
            return total + (total == 1 ? " attempt" : " attempts") + " over " + seconds + " s";
        }
    }
}
