package io.lifeboat.postgres;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;

import java.util.regex.Pattern;

/**
 * The name of a WAL segment file: 24 hex digits, timeline + log + segment, e.g.
 * 000000010000000A000000FE. The split of a segment number into log and segment depends on the
 * segment size (16 MiB by default: 256 segments per log).
 */
public record WalSegmentName(TimelineId timeline, long segmentNumber, long segmentSize) implements Comparable<WalSegmentName> {
    public static final long DEFAULT_SEGMENT_SIZE = 16L * 1024 * 1024;
    private static final Pattern SHAPE = Pattern.compile("[0-9A-F]{24}");

    public WalSegmentName {
        if (segmentSize < 1024 * 1024 || Long.bitCount(segmentSize) != 1) {
            throw new LifeboatException(ErrorKind.USAGE, "WAL segment size " + segmentSize + " is not a power of two "
                    + "of at least 1 MiB", "check wal_segment_size of the server");
        }
    }

    private static long segmentsPerLog(long segmentSize) {
        return 0x100000000L / segmentSize;
    }

    public static WalSegmentName parse(String name, long segmentSize) {
        if (name == null || !SHAPE.matcher(name).matches()) {
            throw new LifeboatException(ErrorKind.USAGE, "'" + name + "' is not a WAL segment name",
                    "WAL segment names are 24 upper-case hex digits, like 000000010000000000000003");
        }
        long tli = Long.parseLong(name.substring(0, 8), 16);
        long log = Long.parseLong(name.substring(8, 16), 16);
        long seg = Long.parseLong(name.substring(16, 24), 16);
        if (seg >= segmentsPerLog(segmentSize)) {
            throw new LifeboatException(ErrorKind.USAGE, "'" + name + "' is not a valid WAL segment name for "
                    + segmentSize / (1024 * 1024) + " MiB segments", "check wal_segment_size of the server");
        }
        return new WalSegmentName(TimelineId.of(tli), log * segmentsPerLog(segmentSize) + seg, segmentSize);
    }

    public static WalSegmentName parse(String name) {
        return parse(name, DEFAULT_SEGMENT_SIZE);
    }

    public static boolean looksLikeSegment(String name) {
        return name != null && SHAPE.matcher(name).matches();
    }

    public static WalSegmentName containing(TimelineId timeline, Lsn lsn, long segmentSize) {
        return new WalSegmentName(timeline, lsn.segmentNumber(segmentSize), segmentSize);
    }

    /** The segment holding the last byte before {@code end}: where WAL that stops at {@code end} ends. */
    public static WalSegmentName endingAt(TimelineId timeline, Lsn end, long segmentSize) {
        return new WalSegmentName(timeline, Long.divideUnsigned(end.value() - 1, segmentSize), segmentSize);
    }

    public long log() {
        return segmentNumber / segmentsPerLog(segmentSize);
    }

    public long segmentInLog() {
        return segmentNumber % segmentsPerLog(segmentSize);
    }

    /** The first 16 hex digits (timeline + log): the repository's WAL directory for this segment. */
    public String directory() {
        return toString().substring(0, 16);
    }

    public WalSegmentName next() {
        return new WalSegmentName(timeline, segmentNumber + 1, segmentSize);
    }

    public WalSegmentName withTimeline(TimelineId t) {
        return new WalSegmentName(t, segmentNumber, segmentSize);
    }

    /** The LSN where this segment starts. */
    public Lsn startLsn() {
        return new Lsn(segmentNumber * segmentSize);
    }

    @Override
    public int compareTo(WalSegmentName o) {
        int c = timeline.compareTo(o.timeline);
        return c != 0 ? c : Long.compare(segmentNumber, o.segmentNumber);
    }

    @Override
    public String toString() {
        return String.format("%s%08X%08X", timeline.hex(), log(), segmentInLog());
    }
}
