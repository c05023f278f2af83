package io.lifeboat.engine.archive;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.postgres.WalSegmentName;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * The stored pieces of an unfinished (partial) segment, and the longest run of WAL they hold from
 * the segment's start. The agent's stream stores a partial segment as pieces, each one object
 * {@code <segment>.partial.sha256-<hex>.bytes-<from>-<to>.<codec>}: bytes {@code [from, to)} of the
 * segment (offsets in hex), checksummed by the SHA-256 of exactly those bytes. A piece from 0 holds
 * the segment's start; later ones (a synchronous stream stores one per flush) continue it; pieces may
 * overlap (the same WAL, stored again). The segment file they stand for is the run from 0, then
 * zeros to the segment size, as PostgreSQL pads a segment it has not finished. A copy without the
 * range (the server's own .partial at a promotion, or a partial stored by an older agent) is a whole
 * segment-size file.
 */
public final class PartialPieces {
    static final String RANGE_MARK = ".bytes-";

    private PartialPieces() {
    }

    /** A partial copy: bytes [from, to) of its segment; a copy without a range is the whole file (to = -1). */
    public record Piece(WalArchive.Archived archived, long from, long to) {
        public boolean ranged() {
            return to >= 0;
        }
    }

    /** The run of WAL from the segment's start that the pieces hold, in the order to write them. */
    public record Run(List<Piece> pieces, long end) {
    }

    /** The raw-name suffix of a piece holding [from, to): between the checksum and the codec suffixes. */
    static String suffix(long from, long to) {
        return RANGE_MARK + String.format("%08X-%08X", from, to);
    }

    /**
     * The range a partial copy's key names, after the 64 hex digits of its checksum; a key without
     * one is a whole-file copy.
     *
     * @throws LifeboatException CORRUPT for a range that cannot be (empty, backwards, beyond 1 GiB)
     */
    public static Piece of(WalArchive.Archived a) {
        String key = a.key();
        int at = key.lastIndexOf(WalArchive.HASH_MARK) + WalArchive.HASH_MARK.length() + 64;
        if (!key.startsWith(RANGE_MARK, at)) {
            return new Piece(a, 0, -1);
        }
        int start = at + RANGE_MARK.length();
        long from;
        long to;
        try {
            from = Long.parseLong(key.substring(start, start + 8), 16);
            to = key.charAt(start + 8) == '-' ? Long.parseLong(key.substring(start + 9, start + 17), 16) : -1;
        } catch (NumberFormatException | IndexOutOfBoundsException e) {
            throw badRange(a);
        }
        if (from < 0 || to <= from || to > 1L << 30) {
            throw badRange(a);
        }
        return new Piece(a, from, to);
    }

    private static LifeboatException badRange(WalArchive.Archived a) {
        return new LifeboatException(ErrorKind.CORRUPT, "archived WAL object " + a.key() + " names no valid byte range "
                + "of its segment", "the object was not written by Lifeboat, or its name was changed: look at it");
    }

    /**
     * The longest run from the segment's start over the ranged pieces (empty when there are none).
     * A piece after the run's end means WAL the archive once held is missing in between: that is a
     * hole, never a shorter end of the archive.
     *
     * @throws LifeboatException CONFLICT naming the missing bytes
     */
    public static Optional<Run> longestRun(WalSegmentName segment, List<Piece> pieces) {
        List<Piece> ranged = new ArrayList<>(pieces.stream().filter(Piece::ranged).toList());
        if (ranged.isEmpty()) {
            return Optional.empty();
        }
        ranged.sort(Comparator.comparingLong(Piece::from).thenComparing(Comparator.comparingLong(Piece::to).reversed()));
        List<Piece> run = new ArrayList<>();
        long end = 0;
        while (true) {
            Piece best = null;
            for (Piece p : ranged) {
                if (p.from() <= end && p.to() > end && (best == null || p.to() > best.to())) {
                    best = p;
                }
            }
            if (best == null) {
                break;
            }
            run.add(best);
            end = best.to();
        }
        long reached = end;
        Optional<Piece> after = ranged.stream().filter(p -> p.from() > reached).findFirst();
        if (after.isPresent()) {
            throw new LifeboatException(ErrorKind.CONFLICT, "the partial segment " + segment + " lacks its bytes "
                    + String.format("0x%X to 0x%X", reached, after.get().from()) + ", but a later piece of it is archived ("
                    + after.get().archived().key() + "): the archive has a hole there", "recovery stops here rather "
                    + "than end early; recover to a target before it, or restore the missing piece from another "
                    + "repository");
        }
        return Optional.of(new Run(List.copyOf(run), end));
    }
}
