package io.lifeboat.codec;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdDecompressCtx;
import com.github.luben.zstd.ZstdException;
import com.github.luben.zstd.ZstdInputStream;
import com.github.luben.zstd.ZstdOutputStream;
import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import net.jpountz.lz4.LZ4FrameInputStream;
import net.jpountz.lz4.LZ4FrameOutputStream;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Locale;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * Compression stages. Each writes the standard frame format of its tool, so that `zstd -d`,
 * `lz4 -d` or `gzip -d` can read a stored object without Lifeboat.
 */
public enum Compression {
    ZSTD("zst", 3),
    LZ4("lz4", 1),
    GZIP("gz", 6),
    NONE("", 0);

    private final String extension;
    private final int defaultLevel;

    Compression(String extension, int defaultLevel) {
        this.extension = extension;
        this.defaultLevel = defaultLevel;
    }

    /** File name suffix including the dot, or "" for none. */
    public String suffix() {
        return extension.isEmpty() ? "" : "." + extension;
    }

    public int defaultLevel() {
        return defaultLevel;
    }

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The codec whose suffix ends this stored name ("x.zst" → ZSTD; no known suffix → NONE). */
    public static Compression ofStoredName(String name) {
        for (Compression c : values()) {
            if (c != NONE && name.endsWith(c.suffix())) {
                return c;
            }
        }
        return NONE;
    }

    public static Compression parse(String s) {
        if (s == null) {
            return ZSTD;
        }
        return switch (s.trim().toLowerCase(Locale.ROOT)) {
            case "zstd", "zst" -> ZSTD;
            case "lz4" -> LZ4;
            case "gzip", "gz" -> GZIP;
            case "none", "off" -> NONE;
            default -> throw new LifeboatException(ErrorKind.CONFIG, "unknown compression '" + s + "'",
                    "use one of: zstd, lz4, gzip, none");
        };
    }

    /**
     * Wraps the output. Closing the returned stream finishes the frame and closes {@code out}.
     *
     * @param workers extra zstd worker threads (0 = compress in the calling thread)
     */
    public OutputStream compress(OutputStream out, int level, int workers) throws IOException {
        int l = level <= 0 ? defaultLevel : level;
        return switch (this) {
            case ZSTD -> {
                ZstdOutputStream z = new ZstdOutputStream(out, l);
                if (workers > 0) {
                    z.setWorkers(workers);
                }
                z.setChecksum(true);
                yield z;
            }
            case LZ4 -> new LZ4FrameOutputStream(out, LZ4FrameOutputStream.BLOCKSIZE.SIZE_4MB,
                    LZ4FrameOutputStream.FLG.Bits.BLOCK_INDEPENDENCE, LZ4FrameOutputStream.FLG.Bits.CONTENT_CHECKSUM);
            case GZIP -> new GZIPOutputStream(out, 64 * 1024) {
                {
                    def.setLevel(l);
                }
            };
            case NONE -> new FilterOutputStream(out) {
                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    out.write(b, off, len);
                }
            };
        };
    }

    public OutputStream compress(OutputStream out) throws IOException {
        return compress(out, defaultLevel, 0);
    }

    /**
     * {@code data[off..off+len)} as one standalone frame (what {@link #compress} writes for it). Frames
     * of one codec concatenate: zstd, lz4 and gzip read several frames one after the other as one
     * stream, so stored frames can be joined without compressing again. zstd compresses in one call
     * here, sized to the input, which makes small frames cheap.
     */
    public byte[] compressFrame(byte[] data, int off, int len, int level) throws IOException {
        int l = level <= 0 ? defaultLevel : level;
        if (this == ZSTD) {
            try (com.github.luben.zstd.ZstdCompressCtx c = new com.github.luben.zstd.ZstdCompressCtx()) {
                c.setLevel(l);
                c.setChecksum(true);
                byte[] out = new byte[(int) Zstd.compressBound(len)];
                return java.util.Arrays.copyOf(out, c.compressByteArray(out, 0, out.length, data, off, len));
            }
        }
        java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream(len / 2 + 64);
        try (OutputStream c = compress(buf, l, 0)) {
            c.write(data, off, len);
        }
        return buf.toByteArray();
    }

    /**
     * Decodes a whole stored object held in {@code src[0..srcLen)} straight into
     * {@code dst[0..dstLen)}, in one call: zstd's streaming decoder would first decode into a window
     * of its own and copy out of it. Returns the decoded length, or -1 when this codec has no
     * one-call form (the caller then uses {@link #decompress(InputStream)}), or dstLen + 1 when the
     * content is longer than dstLen.
     *
     * @throws IOException when the data is not valid zstd frames
     */
    public int decompress(byte[] src, int srcLen, byte[] dst, int dstLen) throws IOException {
        if (this != ZSTD) {
            return -1;
        }
        try (ZstdDecompressCtx d = new ZstdDecompressCtx()) {
            return d.decompressByteArray(dst, 0, dstLen, src, 0, srcLen);
        } catch (ZstdException e) {
            if (e.getErrorCode() == Zstd.errDstSizeTooSmall()) {
                return dstLen + 1;
            }
            throw new IOException(e.getMessage(), e);
        }
    }

    public InputStream decompress(InputStream in) throws IOException {
        return switch (this) {
            case ZSTD -> new ZstdInputStream(in);
            case LZ4 -> new LZ4FrameInputStream(in);
            case GZIP -> new GZIPInputStream(in, 64 * 1024);
            case NONE -> in;
        };
    }
}
