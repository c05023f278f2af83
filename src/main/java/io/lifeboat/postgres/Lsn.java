package io.lifeboat.postgres;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;

import java.util.regex.Pattern;

/** A WAL location (log sequence number), written by PostgreSQL as two hex halves: 16/B374D848. */
public record Lsn(long value) implements Comparable<Lsn> {
    private static final Pattern SHAPE = Pattern.compile("[0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8}");
    public static final Lsn ZERO = new Lsn(0);

    public static Lsn parse(String text) {
        if (text == null || !SHAPE.matcher(text.trim()).matches()) {
            throw new LifeboatException(ErrorKind.USAGE, "'" + text + "' is not an LSN",
                    "LSNs look like 0/16B3748 (two hexadecimal numbers separated by '/')");
        }
        String[] p = text.trim().split("/");
        return new Lsn((Long.parseLong(p[0], 16) << 32) | Long.parseLong(p[1], 16));
    }

    /** The number of the WAL segment that contains this LSN. */
    public long segmentNumber(long segmentSize) {
        return Long.divideUnsigned(value, segmentSize);
    }

    public Lsn plus(long bytes) {
        return new Lsn(value + bytes);
    }

    @Override
    public int compareTo(Lsn o) {
        return Long.compareUnsigned(value, o.value);
    }

    public boolean isBefore(Lsn o) {
        return compareTo(o) < 0;
    }

    @Override
    public String toString() {
        return String.format("%X/%X", value >>> 32, value & 0xFFFFFFFFL);
    }
}
