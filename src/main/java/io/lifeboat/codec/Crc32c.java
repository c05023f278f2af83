package io.lifeboat.codec;

import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.CRC32C;

/**
 * CRC-32C, the checksum PostgreSQL's backup_manifest records for each file, and how to join the
 * CRCs of consecutive pieces into the CRC of their concatenation without the bytes: a file put
 * together from blocks of several backups gets its whole-file CRC from the blocks' CRCs.
 *
 * <p>For this CRC (initial value and final XOR both all ones) crc(A‖B) = crc(A)·x^(8|B|) ⊕ crc(B)
 * modulo the polynomial; multiplying by x^(8n) is running the bare CRC register over n zero bytes,
 * a linear map that is tabulated once per length.
 */
public final class Crc32c {
    private static final int POLY = 0x82F63B78; // Castagnoli, bit-reversed
    private static final ConcurrentHashMap<Long, int[][]> SHIFTS = new ConcurrentHashMap<>();

    private Crc32c() {
    }

    public static int of(byte[] b, int off, int len) {
        CRC32C c = new CRC32C();
        c.update(b, off, len);
        return (int) c.getValue();
    }

    /** The CRC of A‖B from crc(A), crc(B) and |B|. */
    public static int append(int crcA, int crcB, long lengthB) {
        int[][] t = SHIFTS.computeIfAbsent(lengthB, Crc32c::shiftTables);
        return (t[0][crcA & 0xFF] ^ t[1][(crcA >>> 8) & 0xFF] ^ t[2][(crcA >>> 16) & 0xFF] ^ t[3][crcA >>> 24]) ^ crcB;
    }

    /** As PostgreSQL's manifest writes a CRC-32C: its four bytes in little-endian order, in hex. */
    public static String manifestHex(int crc) {
        return String.format("%02x%02x%02x%02x", crc & 0xFF, (crc >>> 8) & 0xFF, (crc >>> 16) & 0xFF, crc >>> 24);
    }

    /** Byte-wise tables of the map "n zero bytes through the register", from the image of each bit. */
    private static int[][] shiftTables(long n) {
        int[] bit = power(n);
        int[][] t = new int[4][256];
        for (int k = 0; k < 4; k++) {
            for (int v = 0; v < 256; v++) {
                int r = 0;
                for (int j = 0; j < 8; j++) {
                    if ((v & (1 << j)) != 0) {
                        r ^= bit[k * 8 + j];
                    }
                }
                t[k][v] = r;
            }
        }
        return t;
    }

    /** The map for n zero bytes as the images of the 32 bits, by repeated squaring of the one-byte map. */
    private static int[] power(long n) {
        int[] result = new int[32];
        int[] base = new int[32];
        for (int i = 0; i < 32; i++) {
            result[i] = 1 << i;
            int s = 1 << i;
            for (int j = 0; j < 8; j++) {
                s = (s & 1) != 0 ? (s >>> 1) ^ POLY : s >>> 1;
            }
            base[i] = s;
        }
        for (long left = n; left > 0; left >>>= 1) {
            if ((left & 1) != 0) {
                result = compose(base, result);
            }
            base = compose(base, base);
        }
        return result;
    }

    /** a after b. */
    private static int[] compose(int[] a, int[] b) {
        int[] out = new int[32];
        for (int i = 0; i < 32; i++) {
            out[i] = apply(a, b[i]);
        }
        return out;
    }

    private static int apply(int[] m, int v) {
        int r = 0;
        for (int j = 0; j < 32; j++) {
            if ((v & (1 << j)) != 0) {
                r ^= m[j];
            }
        }
        return r;
    }
}
