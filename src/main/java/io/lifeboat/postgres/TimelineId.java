package io.lifeboat.postgres;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;

/** A PostgreSQL timeline: 1 at initdb, +1 at each promotion after recovery. */
public record TimelineId(long value) implements Comparable<TimelineId> {
    public TimelineId {
        if (value < 1 || value > 0xFFFFFFFFL) {
            throw new LifeboatException(ErrorKind.USAGE, "timeline " + value + " is out of range",
                    "timelines are numbers from 1 to 4294967295");
        }
    }

    public static TimelineId of(long v) {
        return new TimelineId(v);
    }

    /** Parses the 8-hex-digit form used in WAL file names (00000002), or a decimal number. */
    public static TimelineId parse(String text) {
        if (text == null || text.isBlank()) {
            throw new LifeboatException(ErrorKind.USAGE, "empty timeline", "give a timeline number such as 2");
        }
        String t = text.trim();
        try {
            return new TimelineId(t.length() == 8 ? Long.parseLong(t, 16) : Long.parseLong(t));
        } catch (NumberFormatException e) {
            throw new LifeboatException(ErrorKind.USAGE, "'" + text + "' is not a timeline",
                    "give a timeline number such as 2 (or 00000002)");
        }
    }

    public String hex() {
        return String.format("%08X", value);
    }

    public TimelineId next() {
        return new TimelineId(value + 1);
    }

    @Override
    public int compareTo(TimelineId o) {
        return Long.compare(value, o.value);
    }

    @Override
    public String toString() {
        return Long.toString(value);
    }
}
