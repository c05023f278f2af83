package io.lifeboat.postgres;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Stand-ins for WAL segments in tests: any content behind the long page header PostgreSQL starts a segment with. */
public final class TestWal {
    private TestWal() {
    }

    /**
     * Writes into {@code content} the long page header of segment {@code segmentName} as a PostgreSQL 15
     * server with 16 MiB segments and system identifier {@code systemIdentifier} writes it; returns it.
     */
    public static byte[] withHeader(byte[] content, String segmentName, String systemIdentifier) {
        long start = WalSegmentName.parse(segmentName).startLsn().value();
        ByteBuffer.wrap(content).order(ByteOrder.LITTLE_ENDIAN).putShort(0, (short) 0xD110).putShort(2, (short) 0x0002)
                .putInt(4, (int) WalSegmentName.parse(segmentName).timeline().value()).putLong(8, start).putInt(16, 0)
                .putLong(24, Long.parseUnsignedLong(systemIdentifier)).putInt(32, 16 << 20).putInt(36, 8192);
        return content;
    }
}
