package io.lifeboat.config;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;

import java.time.Duration;
import java.time.Instant;

/**
 * When a chain of incremental backups ends and a new full backup starts ({@code full-every} in a
 * cluster's configuration): after {@code incrementals} incrementals on one full backup, or once the
 * chain's full backup is older than {@code age}.
 */
public record FullEvery(int incrementals, Duration age) {

    /** "6" (a full after six incrementals) or a duration such as "7d" (a full once the last one is a week old). */
    public static FullEvery parse(String text) {
        String t = text == null ? "" : text.trim();
        if (t.matches("\\d{1,5}")) {
            int n = Integer.parseInt(t);
            if (n < 1) {
                throw new LifeboatException(ErrorKind.CONFIG, "full-every " + t + " would never take an incremental",
                        "give the number of incrementals per full backup (1 or more), or a duration such as 7d");
            }
            return new FullEvery(n, null);
        }
        try {
            return new FullEvery(0, Durations.parse(t));
        } catch (LifeboatException e) {
            throw new LifeboatException(ErrorKind.CONFIG, "full-every '" + text + "' is neither a number of incrementals "
                    + "nor a duration", "write e.g. full-every: 6 or full-every: 7d");
        }
    }

    /**
     * Why a chain with this full backup and this many incrementals gets a new full backup now, or
     * null if it may grow.
     */
    public String fullNeeded(Instant fullStarted, int incrementalsSoFar, Instant now) {
        if (incrementals > 0 && incrementalsSoFar >= incrementals) {
            return "full-every " + incrementals + ": the chain has " + incrementalsSoFar + " incrementals";
        }
        if (age != null && fullStarted.isBefore(now.minus(age))) {
            return "full-every " + Durations.text(age) + ": the chain's full backup "
                    + "is from " + fullStarted;
        }
        return null;
    }
}
