package io.lifeboat.postgres;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The long page header at the start of every WAL segment (XLogLongPageHeaderData): which system
 * wrote it, the WAL address of its first page, its timeline and the segment size. The one place
 * that reads it, so the stream and wal-push make the same foreign-system check.
 */
public record SegmentHeader(int magic, long timeline, Lsn pageAddress, String systemIdentifier, long segmentSize) {
    /** XLP_LONG_HEADER: the first page of a segment carries the long header. */
    private static final int XLP_LONG_HEADER = 0x0002;
    public static final int LENGTH = 40;

    /** Parses the header in {@code data[0..length)}; throws CORRUPT when it is not one. */
    public static SegmentHeader parse(byte[] data, int length, String what) {
        if (length < LENGTH) {
            throw new LifeboatException(ErrorKind.CORRUPT, what + " is too short for a WAL segment header (" + length
                    + " bytes)", "it is not a WAL segment");
        }
        ByteBuffer b = ByteBuffer.wrap(data, 0, LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        int magic = b.getShort(0) & 0xFFFF;
        int info = b.getShort(2) & 0xFFFF;
        long tli = b.getInt(4) & 0xFFFFFFFFL;
        long addr = b.getLong(8);
        long sysid = b.getLong(24);
        long segSize = b.getInt(32) & 0xFFFFFFFFL;
        if ((info & XLP_LONG_HEADER) == 0 || magic < 0xD000) {
            throw new LifeboatException(ErrorKind.CORRUPT, what + " does not start with a WAL segment header (magic "
                    + Integer.toHexString(magic) + ", info " + Integer.toHexString(info) + ")", "it is not a WAL segment");
        }
        return new SegmentHeader(magic, tli, new Lsn(addr), Long.toUnsignedString(sysid), segSize);
    }

    /**
     * The foreign-system check: WAL of another cluster is never stored under this cluster's prefix
     * (invariant 8), and a segment must hold the WAL its name says.
     */
    public void check(String expectedSystemIdentifier, WalSegmentName name, String what) {
        if (expectedSystemIdentifier != null && !expectedSystemIdentifier.equals(systemIdentifier)) {
            throw new LifeboatException(ErrorKind.CONFLICT, what + " was written by the PostgreSQL system "
                    + systemIdentifier + ", but this repository prefix belongs to system " + expectedSystemIdentifier,
                    "WAL of another cluster is never stored here: check which server the configuration points to, and give "
                            + "each cluster its own name in lifeboat.yml");
        }
        if (name != null && !pageAddress.equals(name.startLsn())) {
            throw new LifeboatException(ErrorKind.CORRUPT, what + " starts at WAL address " + pageAddress + ", not at "
                    + name.startLsn() + " as segment " + name + " must", "the received WAL does not match its position");
        }
    }
}
