package io.lifeboat.postgres;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The long page header at the start of every WAL segment (XLogLongPageHeaderData): which cluster
 * wrote it (the system identifier of pg_control), the segment and page sizes, and the WAL location
 * of the page. It is how wal-push and the agent's stream tell this cluster's WAL from another's
 * before storing it: the one place that reads it.
 *
 * @param magic            XLOG_PAGE_MAGIC, one value per WAL format (major version)
 * @param timeline         xlp_tli: the timeline the page was written on (a new timeline's first
 *                         segment is a copy of its parent's, so this may be the parent)
 * @param pageAddress      xlp_pageaddr: the WAL location of the segment's first byte
 * @param systemIdentifier xlp_sysid, as pg_controldata prints it (unsigned decimal)
 */
public record WalPageHeader(int magic, long timeline, Lsn pageAddress, String systemIdentifier, long segmentSize,
                            int blockSize) {
    static final int LENGTH = 40;
    private static final int XLP_LONG_HEADER = 0x0002;
    private static final int XLP_ALL_FLAGS = 0x000F;
    private static final Map<Integer, Integer> MAJOR_BY_MAGIC = Map.of(0xD101, 12, 0xD106, 13, 0xD10D, 14, 0xD110, 15,
            0xD113, 16, 0xD116, 17);

    /** Reads the header of a segment (or partial segment) file; CORRUPT if it has none. */
    public static WalPageHeader read(Path segment) throws IOException {
        byte[] b = new byte[LENGTH];
        int n = 0;
        try (InputStream in = Files.newInputStream(segment)) {
            for (int r; n < b.length && (r = in.read(b, n, b.length - n)) > 0; ) {
                n += r;
            }
        }
        return parse(b, n, segment.toString());
    }

    /** Reads the header at the start of {@code data[0..length)}, a file named {@code what} in messages. */
    public static WalPageHeader parse(byte[] data, int length, String what) {
        if (length < LENGTH) {
            throw notWal(what, "it is shorter than a WAL page header");
        }
        byte[] b = data.length == LENGTH ? data : java.util.Arrays.copyOf(data, LENGTH);
        // PostgreSQL writes in the server's byte order: the one in which the sizes make sense.
        for (ByteOrder order : new ByteOrder[] {ByteOrder.LITTLE_ENDIAN, ByteOrder.BIG_ENDIAN}) {
            ByteBuffer h = ByteBuffer.wrap(b).order(order);
            int magic = Short.toUnsignedInt(h.getShort(0));
            int info = Short.toUnsignedInt(h.getShort(2));
            long tli = Integer.toUnsignedLong(h.getInt(4));
            long pageAddr = h.getLong(8);
            long sysid = h.getLong(24);
            long segSize = Integer.toUnsignedLong(h.getInt(32));
            long blockSize = Integer.toUnsignedLong(h.getInt(36));
            if ((info & XLP_LONG_HEADER) != 0 && (info & ~XLP_ALL_FLAGS) == 0 && (magic & 0xF000) == 0xD000
                    && powerOfTwo(segSize, 1L << 20, 1L << 30) && powerOfTwo(blockSize, 1024, 65536) && tli > 0
                    && pageAddr % segSize == 0) {
                return new WalPageHeader(magic, tli, new Lsn(pageAddr), Long.toUnsignedString(sysid), segSize,
                        (int) blockSize);
            }
        }
        throw notWal(what, "it does not start with a WAL segment's page header");
    }

    private static boolean powerOfTwo(long v, long min, long max) {
        return v >= min && v <= max && Long.bitCount(v) == 1;
    }

    /** The PostgreSQL major version whose WAL format this is; 0 when not known here. */
    public int pgMajor() {
        return MAJOR_BY_MAGIC.getOrDefault(magic, 0);
    }

    private static LifeboatException notWal(String file, String why) {
        return new LifeboatException(ErrorKind.CORRUPT, file + " is not a WAL segment: " + why + "; nothing was stored",
                "archive_command must pass %p, a segment PostgreSQL finished; a damaged file in pg_wal needs a look "
                        + "before anything else");
    }
}
