package io.lifeboat.storage;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.List;

/**
 * The bytes of one upload part, held in blocks: growing it allocates one more block and copies
 * nothing, so a part takes the memory of what was written into it (rounded up to a block), never
 * the garbage of a buffer grown by doubling (256 KiB to 32 MiB leaves 32 MiB behind per object).
 * Full-size blocks come from and go back to a shared {@link Blocks} pool.
 */
final class PartBuffer {
    /** Full-size blocks that a part gave back, kept (up to a cap) for the next part. */
    static final class Blocks {
        private final int blockSize;
        private final int keep;
        private final Deque<byte[]> free = new ArrayDeque<>();

        /**
         * @param blockSize the size of a full block
         * @param keep      how many free blocks to keep at most (the rest are left to the collector)
         */
        Blocks(int blockSize, int keep) {
            this.blockSize = blockSize;
            this.keep = keep;
        }

        int blockSize() {
            return blockSize;
        }

        synchronized byte[] take() {
            byte[] b = free.poll();
            return b != null ? b : new byte[blockSize];
        }

        synchronized void give(byte[] b) {
            if (b.length == blockSize && free.size() < keep) {
                free.push(b);
            }
        }

        synchronized int free() {
            return free.size();
        }
    }

    private final Blocks pool;
    private final int limit;
    private final List<byte[]> blocks = new ArrayList<>();
    private int firstSize;
    private int size;
    private int lastUsed;

    /**
     * @param limit     the most bytes this part holds
     * @param firstSize the size of its first block when smaller than a full one (a small object's
     *                  announced size), so that a small object takes no full block
     */
    PartBuffer(Blocks pool, int limit, int firstSize) {
        this.pool = pool;
        this.limit = limit;
        this.firstSize = Math.max(1, Math.min(firstSize, Math.min(limit, pool.blockSize())));
    }

    int size() {
        return size;
    }

    /** Room left before the part is full. */
    int room() {
        return limit - size;
    }

    /** Takes up to {@code len} bytes of {@code b}; returns how many it took (fewer only when full). */
    int write(byte[] b, int off, int len) {
        int taken = 0;
        while (taken < len && size < limit) {
            if (blocks.isEmpty() || lastUsed == blocks.get(blocks.size() - 1).length) {
                blocks.add(blocks.isEmpty() && firstSize < pool.blockSize() ? new byte[firstSize] : pool.take());
                lastUsed = 0;
            }
            byte[] last = blocks.get(blocks.size() - 1);
            int n = Math.min(Math.min(len - taken, last.length - lastUsed), limit - size);
            System.arraycopy(b, off + taken, last, lastUsed, n);
            lastUsed += n;
            taken += n;
            size += n;
        }
        return taken;
    }

    /** Feeds the part's bytes, in order, to {@code md}. */
    void update(java.security.MessageDigest md) {
        int left = size;
        for (byte[] b : blocks) {
            int n = Math.min(left, b.length);
            md.update(b, 0, n);
            left -= n;
        }
    }

    /** A fresh stream of the part's bytes (the SDK asks again for each attempt and for the signature). */
    InputStream stream() {
        List<InputStream> parts = new ArrayList<>(blocks.size());
        int left = size;
        for (byte[] b : blocks) {
            int n = Math.min(left, b.length);
            parts.add(new ByteArrayInputStream(b, 0, n));
            left -= n;
        }
        return new SequenceInputStream(Collections.enumeration(parts));
    }

    /** Gives the blocks back; the part is empty afterwards. */
    void release() {
        for (byte[] b : blocks) {
            pool.give(b);
        }
        blocks.clear();
        size = 0;
        lastUsed = 0;
        firstSize = pool.blockSize();
    }
}
