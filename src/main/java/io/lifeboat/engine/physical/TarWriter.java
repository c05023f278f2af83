package io.lifeboat.engine.physical;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * Writes a tar stream as PostgreSQL's base backups have it (POSIX ustar headers; a GNU long-name
 * or long-link entry first where a name or link target does not fit; sizes beyond 11 octal digits
 * in base-256) into a {@link ChunkedArchive}, and says where each file's bytes start in the stream,
 * so the file index can point into the chunks.
 */
final class TarWriter {
    static final int BLOCK = 512;
    private static final byte[] ZEROS = new byte[BLOCK * 2];

    private final ChunkedArchive out;
    private long fileLeft;
    /** Where the member being written ends (its data and padding); -1 inside a header or the end marker. */
    private long memberEnd;

    TarWriter(ChunkedArchive out) {
        this.out = out;
        this.memberEnd = out.rawBytes();
    }

    /**
     * Goes on with a stream another process cut off inside a member: writes the {@code zeros} bytes
     * that complete it (the member is left to a later copy of its file, see {@link ResumeJournal}).
     */
    void completeMember(long zeros) {
        memberEnd = position() + zeros;
        for (long left = zeros; left > 0; ) {
            int n = (int) Math.min(left, ZEROS.length);
            write(ZEROS, 0, n);
            left -= n;
        }
    }

    /** Bytes written so far: the offset of whatever comes next. */
    long position() {
        return out.rawBytes();
    }

    /** Starts a regular file of {@code size} bytes; returns where its content starts in the stream. */
    long file(String name, long size, int mode, long mtimeSeconds, int uid, int gid) {
        if (fileLeft != 0) {
            throw new IllegalStateException("the previous file is not complete");
        }
        header(name, '0', size, mode, mtimeSeconds, uid, gid, null);
        fileLeft = size;
        memberEnd = position() + size + (BLOCK - size % BLOCK) % BLOCK;
        return position();
    }

    void data(byte[] b, int off, int len) {
        if (len > fileLeft) {
            throw new IllegalStateException("more data than the file's size");
        }
        write(b, off, len);
        fileLeft -= len;
    }

    /** Pads the file just written to a whole block. */
    void endFile(long size) {
        if (fileLeft != 0) {
            throw new IllegalStateException(fileLeft + " bytes of the file are missing");
        }
        int pad = (int) ((BLOCK - size % BLOCK) % BLOCK);
        write(ZEROS, 0, pad);
    }

    void directory(String name, int mode, long mtimeSeconds, int uid, int gid) {
        header(name.endsWith("/") ? name : name + "/", '5', 0, mode, mtimeSeconds, uid, gid, null);
    }

    void link(String name, String target, int mode, long mtimeSeconds, int uid, int gid) {
        header(name, '2', 0, mode, mtimeSeconds, uid, gid, target);
    }

    /** The end-of-archive marker. */
    void finish() {
        memberEnd = -1;
        write(ZEROS, 0, ZEROS.length);
    }

    /**
     * For a chunk that ends at stream offset {@code at} (while this writer is writing): how many
     * zero bytes complete the member being written there, so that another process can go on with
     * the stream from {@code at} (see {@link ResumeJournal}); -1 where that is not possible (inside a
     * header, where the header's own bytes would be needed, or in the end marker).
     */
    long completionAt(long at) {
        return memberEnd < 0 || at > memberEnd ? -1 : memberEnd - at;
    }

    private void header(String name, char type, long size, int mode, long mtime, int uid, int gid, String link) {
        memberEnd = -1;
        headerBlocks(name, type, size, mode, mtime, uid, gid, link);
        memberEnd = position();
    }

    private void headerBlocks(String name, char type, long size, int mode, long mtime, int uid, int gid, String link) {
        byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
        byte[] linkBytes = link == null ? new byte[0] : link.getBytes(StandardCharsets.UTF_8);
        if (linkBytes.length > 100) {
            longEntry('K', linkBytes);
        }
        int split = nameBytes.length <= 100 ? -1 : prefixSplit(nameBytes);
        if (nameBytes.length > 100 && split < 0) {
            longEntry('L', nameBytes);
        }
        byte[] h = new byte[BLOCK];
        if (nameBytes.length <= 100) {
            System.arraycopy(nameBytes, 0, h, 0, nameBytes.length);
        } else if (split >= 0) {
            System.arraycopy(nameBytes, split + 1, h, 0, nameBytes.length - split - 1);
            System.arraycopy(nameBytes, 0, h, 345, split);
        } else {
            System.arraycopy(nameBytes, 0, h, 0, 100);
        }
        octal(h, 100, 8, mode & 07777);
        octal(h, 108, 8, Math.max(0, uid));
        octal(h, 116, 8, Math.max(0, gid));
        if (size < 077777777777L) {
            octal(h, 124, 12, size);
        } else {
            h[124] = (byte) 0x80;
            for (int i = 135; i > 124; i--) {
                h[i] = (byte) (size >>> ((135 - i) * 8));
            }
        }
        octal(h, 136, 12, Math.max(0, mtime));
        h[156] = (byte) type;
        System.arraycopy(linkBytes, 0, h, 157, Math.min(100, linkBytes.length));
        System.arraycopy("ustar\u000000".getBytes(StandardCharsets.US_ASCII), 0, h, 257, 8);
        for (int i = 148; i < 156; i++) {
            h[i] = ' ';
        }
        long sum = 0;
        for (byte x : h) {
            sum += x & 0xFF;
        }
        octal(h, 148, 7, sum);
        h[155] = ' ';
        write(h, 0, BLOCK);
    }

    /** A GNU long-name ('L') or long-link ('K') entry carrying the full name for the header after it. */
    private void longEntry(char type, byte[] value) {
        byte[] data = new byte[value.length + 1];
        System.arraycopy(value, 0, data, 0, value.length);
        headerBlocks("././@LongLink", type, data.length, 0644, 0, 0, 0, null);
        write(data, 0, data.length);
        write(ZEROS, 0, (BLOCK - data.length % BLOCK) % BLOCK);
    }

    /** Where to cut a long name into ustar's prefix (at most 155) and name (at most 100), or -1. */
    private static int prefixSplit(byte[] name) {
        for (int i = Math.min(155, name.length - 1); i > 0; i--) {
            if (name[i] == '/' && name.length - i - 1 <= 100 && name.length - i - 1 > 0) {
                return i;
            }
        }
        return -1;
    }

    /** {@code width - 1} octal digits and a NUL. */
    private static void octal(byte[] h, int off, int width, long v) {
        String s = Long.toOctalString(v);
        int digits = width - 1;
        if (s.length() > digits) {
            throw new IllegalArgumentException(v + " does not fit a tar header field");
        }
        for (int i = 0; i < digits; i++) {
            int from = s.length() - digits + i;
            h[off + i] = (byte) (from < 0 ? '0' : s.charAt(from));
        }
        h[off + digits] = 0;
    }

    private void write(byte[] b, int off, int len) {
        if (len == 0) {
            return;
        }
        try {
            out.write(b, off, len);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
