package io.lifeboat.agent.stream;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.postgres.Lsn;
import io.lifeboat.postgres.TimelineId;
import io.lifeboat.postgres.WalSegmentName;

import java.util.function.Consumer;

/**
 * Puts the WAL of one timeline, as it arrives in chunks, back together into whole segment files
 * (full segment size; what is not received yet stays zero, as in a segment PostgreSQL has not
 * finished). Pure logic: not thread-safe, the caller synchronises.
 */
final class SegmentAssembler {
    /** A segment to store: whole, or the unfinished one as a partial (WAL in {@code data[0..valid)}). */
    record Piece(WalSegmentName name, byte[] data, int valid, boolean partial) {
        Lsn end() {
            return name.startLsn().plus(valid);
        }
    }

    private final TimelineId timeline;
    private final long segmentSize;
    private long segment;
    private byte[] buffer;
    private int fill;

    /** @param start where the stream starts: the start of a segment */
    SegmentAssembler(TimelineId timeline, long segmentSize, Lsn start) {
        if (start.value() % segmentSize != 0) {
            throw new IllegalArgumentException(start + " is not the start of a segment");
        }
        this.timeline = timeline;
        this.segmentSize = segmentSize;
        this.segment = start.segmentNumber(segmentSize);
        this.buffer = new byte[(int) segmentSize];
    }

    /** The end of what was received. */
    Lsn received() {
        return new Lsn(segment * segmentSize + fill);
    }

    /**
     * Adds {@code data[0..length)}, which the server sent as the WAL from {@code lsn} on; hands each
     * segment that becomes whole to {@code whole}.
     */
    void append(long lsn, byte[] data, int length, Consumer<Piece> whole) {
        if (lsn != received().value()) {
            throw new LifeboatException(ErrorKind.DATABASE, "the WAL stream jumped from " + received() + " to "
                    + new Lsn(lsn), "the connection is restarted from the slot's position");
        }
        int off = 0;
        while (off < length) {
            int n = (int) Math.min(length - off, segmentSize - fill);
            System.arraycopy(data, off, buffer, fill, n);
            fill += n;
            off += n;
            if (fill == segmentSize) {
                whole.accept(new Piece(new WalSegmentName(timeline, segment, segmentSize), buffer, fill, false));
                segment++;
                buffer = new byte[(int) segmentSize];
                fill = 0;
            }
        }
    }

    /**
     * The unfinished segment, or null when nothing of it was received. Its data is the buffer the
     * stream goes on filling, not a copy: {@code data[0..valid)} never changes (WAL is only
     * appended), so the uploader may read it while more arrives behind it.
     */
    Piece partial() {
        if (fill == 0) {
            return null;
        }
        return new Piece(new WalSegmentName(timeline, segment, segmentSize), buffer, fill, true);
    }
}
