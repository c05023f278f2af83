package io.lifeboat.postgres;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The header of a file PostgreSQL 17+ sends as {@code INCREMENTAL.<relation file>} in an
 * incremental base backup: the magic number, the number of blocks it holds, the truncation block
 * length (the reconstructed file is that many blocks long; blocks below it that the file does not
 * hold come from older backups, blocks at or above it that it does not hold are zeros), the block
 * numbers (ascending, relative to the segment), padded to a whole block when there are blocks,
 * then the blocks in that order. Integers are in the server's byte order (little-endian on every
 * platform Lifeboat runs on).
 *
 * @param truncationBlocks the truncation block length
 * @param blocks           the block numbers the file holds, ascending
 * @param headerLength     where the first block starts in the file
 */
public record IncrementalFile(int truncationBlocks, int[] blocks, int headerLength) {
    public static final int MAGIC = 0xd3ae1f0d;
    public static final String PREFIX = "INCREMENTAL.";
    /** Bytes before the block numbers: magic, block count, truncation block length. */
    public static final int FIXED_BYTES = 12;

    /** The name of the relation file an INCREMENTAL.* file stands for, or null if {@code fileName} is not one. */
    public static String relationName(String fileName) {
        return fileName.startsWith(PREFIX) && fileName.length() > PREFIX.length() ? fileName.substring(PREFIX.length()) : null;
    }

    /**
     * The length of the whole header, from its first {@link #FIXED_BYTES} bytes (checks the magic
     * number and the block count).
     *
     * @param segmentBlocks the most blocks a relation segment has (RELSEG_SIZE)
     */
    public static int headerLength(byte[] first, int blockSize, int segmentBlocks, String what) {
        if (first.length < FIXED_BYTES) {
            throw bad(what, "is truncated: " + first.length + " bytes, less than its " + FIXED_BYTES + "-byte header");
        }
        ByteBuffer b = ByteBuffer.wrap(first).order(ByteOrder.LITTLE_ENDIAN);
        int magic = b.getInt(0);
        if (magic != MAGIC) {
            throw bad(what, "has the magic number 0x" + Integer.toHexString(magic) + ", not 0x" + Integer.toHexString(MAGIC)
                    + " of PostgreSQL's incremental files");
        }
        long count = b.getInt(4) & 0xFFFFFFFFL;
        if (count > segmentBlocks) {
            throw bad(what, "says it holds " + count + " blocks, more than a segment's " + segmentBlocks);
        }
        long length = FIXED_BYTES + 4 * count;
        if (count > 0 && length % blockSize != 0) {
            length += blockSize - length % blockSize;
        }
        return Math.toIntExact(length);
    }

    /**
     * Parses a header.
     *
     * @param data          at least the header ({@link #headerLength} bytes)
     * @param fileSize      the size of the whole INCREMENTAL file: it must hold exactly the header and its blocks
     */
    public static IncrementalFile parse(byte[] data, long fileSize, int blockSize, int segmentBlocks, String what) {
        int header = headerLength(data, blockSize, segmentBlocks, what);
        ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        int count = b.getInt(4);
        long truncation = b.getInt(8) & 0xFFFFFFFFL;
        if (truncation > segmentBlocks) {
            throw bad(what, "has the truncation block length " + truncation + ", more than a segment's " + segmentBlocks
                    + " blocks");
        }
        if (data.length < FIXED_BYTES + 4L * count) {
            throw bad(what, "is truncated: its header lists " + count + " blocks but holds only " + data.length + " bytes");
        }
        int[] blocks = new int[count];
        long previous = -1;
        for (int i = 0; i < count; i++) {
            long n = b.getInt(FIXED_BYTES + 4 * i) & 0xFFFFFFFFL;
            if (n <= previous || n >= segmentBlocks) {
                throw bad(what, "lists block " + n + (n <= previous ? " after block " + previous + " (not ascending)"
                        : ", beyond a segment's " + segmentBlocks + " blocks"));
            }
            blocks[i] = (int) n;
            previous = n;
        }
        long expected = (long) header + (long) count * blockSize;
        if (fileSize != expected) {
            throw bad(what, (fileSize < expected ? "is truncated" : "is too long") + ": " + fileSize + " bytes, but its "
                    + "header (" + header + " bytes) and " + count + " blocks of " + blockSize + " make " + expected);
        }
        return new IncrementalFile((int) truncation, blocks, header);
    }

    /** How many blocks the reconstructed file has (as pg_combinebackup computes it). */
    public int reconstructedBlocks() {
        int n = truncationBlocks;
        for (int blk : blocks) {
            n = Math.max(n, blk + 1);
        }
        return n;
    }

    private static LifeboatException bad(String what, String why) {
        return new LifeboatException(ErrorKind.CORRUPT, what + " " + why, "the incremental backup is damaged; "
                + "restore an older backup and take a new full backup (backup --type physical --full)");
    }
}
