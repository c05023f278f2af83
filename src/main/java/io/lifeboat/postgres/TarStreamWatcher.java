package io.lifeboat.postgres;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Follows a tar stream as it passes by, block by block, without buffering it: counts members and
 * keeps the content of a few small named members (backup_label from a base backup). It reads only
 * what PostgreSQL's tar writer produces (ustar headers, octal or base-256 sizes); extraction at
 * restore uses a full tar library.
 */
public final class TarStreamWatcher {
    private static final int BLOCK = 512;
    private static final int CAPTURE_LIMIT = 1 << 20;

    private final Set<String> wanted;
    private final Map<String, byte[]> captured = new LinkedHashMap<>();
    private final byte[] header = new byte[BLOCK];
    private int headerFill;
    private long dataLeft;
    private long paddingLeft;
    private ByteArrayOutputStream capturing;
    private String capturingName;
    private long members;
    private int zeroBlocks;
    private long totalBytes;

    /** Follows every member as it passes (to index the stream). */
    public interface Members {
        /**
         * A member's header; {@code dataOffset} is where its data starts in the stream,
         * {@code dataLength} how many bytes of data follow.
         */
        void header(byte[] header, String name, long dataOffset, long dataLength);

        /** Bytes of the current member's data. */
        void data(byte[] b, int off, int len);

        /** The current member's data is complete. */
        void end();
    }

    private final Members membersListener;

    public TarStreamWatcher(Set<String> wanted) {
        this(wanted, null);
    }

    public TarStreamWatcher(Set<String> wanted, Members members) {
        this.wanted = Set.copyOf(wanted);
        this.membersListener = members;
    }

    public void feed(byte[] b, int off, int len) {
        totalBytes += len;
        int i = off;
        int end = off + len;
        while (i < end) {
            if (dataLeft > 0) {
                int n = (int) Math.min(dataLeft, end - i);
                if (capturing != null) {
                    capturing.write(b, i, n);
                }
                if (membersListener != null) {
                    membersListener.data(b, i, n);
                }
                dataLeft -= n;
                i += n;
                if (dataLeft == 0 && membersListener != null) {
                    membersListener.end();
                }
                if (dataLeft == 0 && capturing != null) {
                    captured.put(capturingName, capturing.toByteArray());
                    capturing = null;
                }
                continue;
            }
            if (paddingLeft > 0) {
                int n = (int) Math.min(paddingLeft, end - i);
                paddingLeft -= n;
                i += n;
                continue;
            }
            int n = Math.min(BLOCK - headerFill, end - i);
            System.arraycopy(b, i, header, headerFill, n);
            headerFill += n;
            i += n;
            if (headerFill == BLOCK) {
                headerFill = 0;
                onHeader(totalBytes - (end - i));
            }
        }
    }

    private void onHeader(long dataOffset) {
        boolean zero = true;
        for (byte x : header) {
            if (x != 0) {
                zero = false;
                break;
            }
        }
        if (zero) {
            zeroBlocks++;
            return;
        }
        zeroBlocks = 0;
        members++;
        String name = cString(header, 0, 100);
        String prefix = cString(header, 345, 155);
        if (!prefix.isEmpty() && "ustar".equals(cString(header, 257, 6).trim())) {
            name = prefix + "/" + name;
        }
        long size = size(header);
        byte type = header[156];
        boolean hasData = type == '0' || type == 0 || type == '7' || type == 'x' || type == 'g' || type == 'L' || type == 'K';
        dataLeft = hasData ? size : 0;
        paddingLeft = hasData ? (BLOCK - size % BLOCK) % BLOCK : 0;
        if (membersListener != null) {
            membersListener.header(header, name, dataOffset, dataLeft);
            if (dataLeft == 0) {
                membersListener.end();
            }
        }
        if (hasData && size <= CAPTURE_LIMIT && wanted.contains(name)) {
            capturing = new ByteArrayOutputStream((int) size);
            capturingName = name;
            if (size == 0) {
                captured.put(name, new byte[0]);
                capturing = null;
            }
        }
    }

    /** The size field of a tar header (octal, or GNU base-256). */
    public static long size(byte[] h) {
        if ((h[124] & 0x80) != 0) { // base-256 (GNU) for sizes that do not fit 11 octal digits
            long v = 0;
            for (int i = 125; i < 136; i++) {
                v = (v << 8) | (h[i] & 0xFF);
            }
            return v;
        }
        return octal(h, 124, 12);
    }

    /** An octal field of a tar header (ends at a NUL or a space after digits). */
    public static long octal(byte[] h, int off, int len) {
        long v = 0;
        for (int i = off; i < off + len; i++) {
            byte c = h[i];
            if (c >= '0' && c <= '7') {
                v = v * 8 + (c - '0');
            } else if (c == 0 || (c == ' ' && v > 0)) {
                break;
            }
        }
        return v;
    }

    /** A NUL-terminated field of a tar header. */
    public static String cString(byte[] b, int off, int max) {
        int end = off;
        while (end < off + max && b[end] != 0) {
            end++;
        }
        return new String(b, off, end - off, StandardCharsets.UTF_8);
    }

    /** The content of a wanted member, or null if it did not pass by (yet). */
    public byte[] captured(String name) {
        return captured.get(name);
    }

    public long members() {
        return members;
    }

    public long totalBytes() {
        return totalBytes;
    }

    /** Whether the stream so far ends with tar's end-of-archive marker (two zero blocks). */
    public boolean terminated() {
        return zeroBlocks >= 2 && dataLeft == 0 && paddingLeft == 0 && headerFill == 0;
    }
}
