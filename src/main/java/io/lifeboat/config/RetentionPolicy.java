package io.lifeboat.config;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;

import java.time.Duration;

/**
 * How long backups are kept. For each type, a count (keep the newest N) and/or a recovery window
 * (keep what is needed to restore to any moment of the last W); when both are set, a backup is kept
 * if either rule keeps it. Unfinished backups older than the grace time are removed.
 *
 * @param physicalCount  newest complete physical backups to keep, or 0 for no count rule
 * @param physicalWindow point-in-time recovery window, or null
 * @param logicalCount   newest complete logical backups to keep, or 0
 * @param logicalWindow  keep logical backups this young (and the newest older one), or null
 * @param unfinishedGrace an unfinished backup untouched this long is abandoned (a running one is younger)
 */
public record RetentionPolicy(int physicalCount, Duration physicalWindow, int logicalCount, Duration logicalWindow,
                              Duration unfinishedGrace) {
    /** How long an unfinished backup may be still running when no unfinished-grace is configured. */
    public static final Duration DEFAULT_UNFINISHED_GRACE = Duration.ofHours(24);

    /** The unfinished-grace of a cluster's policy, or the default when it has none. */
    public static Duration unfinishedGraceOf(RetentionPolicy policy) {
        return policy != null ? policy.unfinishedGrace() : DEFAULT_UNFINISHED_GRACE;
    }

    public RetentionPolicy {
        if (physicalCount < 0 || logicalCount < 0) {
            throw new LifeboatException(ErrorKind.CONFIG, "retention counts cannot be negative",
                    "set retention counts to 1 or more (or leave them out)");
        }
        for (Duration d : new Duration[] {physicalWindow, logicalWindow}) {
            if (d != null && (d.isNegative() || d.isZero())) {
                throw new LifeboatException(ErrorKind.CONFIG, "a retention window of " + d + " would keep nothing",
                        "use a positive window such as 14d, or leave it out");
            }
        }
        if (unfinishedGrace == null) {
            unfinishedGrace = DEFAULT_UNFINISHED_GRACE;
        }
    }

    public boolean governsPhysical() {
        return physicalCount > 0 || physicalWindow != null;
    }

    public boolean governsLogical() {
        return logicalCount > 0 || logicalWindow != null;
    }
}
