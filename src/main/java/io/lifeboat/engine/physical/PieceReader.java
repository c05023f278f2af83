package io.lifeboat.engine.physical;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.codec.Crc32c;
import io.lifeboat.postgres.Lsn;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * Reads one piece of a file (a stretch of whole blocks for relation files) for a backup. Files
 * change while they are read, as with pg_basebackup: a piece is read up to the size the file had
 * when it was listed, a file that got shorter is padded with zeros and one that vanished is
 * reported so; WAL replay from the backup's start puts every such page right.
 *
 * <p>For an incremental, a block of a relation file is kept when it cannot be left to the parent:
 * its page LSN is at or after the parent backup's start (changed since the parent began reading,
 * or torn there), it is 0 (a new page, or one written without WAL), the parent does not have
 * that block, or its content is not the chain's (checked by CRC-32C: the LSN rule is trusted only
 * where the bytes agree). Kept blocks are moved to the front of the piece's buffer and listed as runs.
 */
final class PieceReader {
    /**
     * How a block-tracked file is read: which blocks the parent can supply.
     *
     * @param parentCrcs the CRC-32C the chain has of each of the parent's blocks (null: not checked)
     */
    record BlockRule(long parentBlocks, Lsn parentStart, int[] parentCrcs) {
        /** Everything is stored (a full backup, or a file the parent cannot be trusted for). */
        static final BlockRule ALL = new BlockRule(0, Lsn.ZERO, null);

        BlockRule(long parentBlocks, Lsn parentStart) {
            this(parentBlocks, parentStart, null);
        }

        boolean keep(long block, long pageLsn) {
            return block >= parentBlocks || pageLsn == 0 || Long.compareUnsigned(pageLsn, parentStart.value()) >= 0;
        }

        /**
         * A block the page LSN leaves to the chain must be the chain's block: a page unchanged since the
         * parent started is byte for byte what the parent read. One that differs (another history on the
         * same timeline and system: the data directory rolled back in place by a delta restore, a copy
         * restored without promotion and backed up into the same repository; a file copied with its old
         * LSNs into a reused inode) is stored after all.
         */
        boolean differsFromChain(long block, byte[] page, int at, int blockSize) {
            return parentCrcs != null && (block >= parentCrcs.length || Crc32c.of(page, at, blockSize) != parentCrcs[(int) block]);
        }
    }

    /**
     * What was read.
     *
     * @param length bytes of {@code data} to store: the piece's bytes, or for a block-tracked file the kept blocks
     * @param gone   the file no longer existed when this piece was read
     * @param runs   for block-tracked files: kept blocks as {first, count} pairs, absolute block numbers
     * @param crcs   for block-tracked files: the CRC-32C of each kept block, in order
     * @param olderButDifferent kept blocks whose page LSN would have left them to the chain but whose bytes differ
     */
    record Piece(byte[] data, int length, boolean gone, long[] runs, int runCount, int[] crcs, int crcCount,
                 int olderButDifferent) {
    }

    private PieceReader() {
    }

    /**
     * @param rule      null for a file stored as it is; else how its blocks are chosen
     * @param offset    where the piece starts in the file (a multiple of the block size for block files)
     * @param length    bytes to read (the piece ends at most at the file's listed size)
     * @param buffer    at least {@code length} bytes
     */
    static Piece read(Path file, long offset, int length, byte[] buffer, BlockRule rule, int blockSize) {
        int got = 0;
        boolean gone = false;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer bb = ByteBuffer.wrap(buffer, 0, length);
            while (bb.hasRemaining()) {
                int n = ch.read(bb, offset + bb.position());
                if (n < 0) {
                    break; // shorter than when listed: the rest is zeros, replay truncates it
                }
            }
            got = bb.position();
        } catch (NoSuchFileException e) {
            gone = true;
        } catch (IOException e) {
            throw new LifeboatException(ErrorKind.RESOURCE, "cannot read " + file + ": " + e.getMessage(),
                    "check the file's permissions and the disk (dmesg)", e);
        }
        Arrays.fill(buffer, got, length, (byte) 0);
        if (rule == null) {
            return new Piece(buffer, length, gone, null, 0, null, 0, 0);
        }
        int blocks = length / blockSize;
        long first = offset / blockSize;
        long[] runs = new long[blocks * 2];
        int[] crcs = new int[blocks];
        int runCount = 0;
        int kept = 0;
        int olderButDifferent = 0;
        for (int i = 0; i < blocks; i++) {
            int at = i * blockSize;
            long block = first + i;
            if (!rule.keep(block, pageLsn(buffer, at))) {
                if (!rule.differsFromChain(block, buffer, at, blockSize)) {
                    continue;
                }
                olderButDifferent++;
            }
            if (kept != i) {
                System.arraycopy(buffer, at, buffer, kept * blockSize, blockSize);
            }
            crcs[kept] = Crc32c.of(buffer, kept * blockSize, blockSize);
            if (runCount > 0 && runs[(runCount - 1) * 2] + runs[(runCount - 1) * 2 + 1] == block) {
                runs[(runCount - 1) * 2 + 1]++;
            } else {
                runs[runCount * 2] = block;
                runs[runCount * 2 + 1] = 1;
                runCount++;
            }
            kept++;
        }
        return new Piece(buffer, kept * blockSize, gone, runs, runCount, crcs, kept, olderButDifferent);
    }

    /**
     * A page's LSN (pd_lsn, its first eight bytes: the high and the low half of the LSN, each in the
     * machine's byte order; little-endian here, as on every platform Lifeboat runs PostgreSQL on).
     */
    static long pageLsn(byte[] page, int at) {
        long hi = (page[at] & 0xFFL) | (page[at + 1] & 0xFFL) << 8 | (page[at + 2] & 0xFFL) << 16 | (page[at + 3] & 0xFFL) << 24;
        long lo = (page[at + 4] & 0xFFL) | (page[at + 5] & 0xFFL) << 8 | (page[at + 6] & 0xFFL) << 16
                | (page[at + 7] & 0xFFL) << 24;
        return hi << 32 | lo;
    }
}
