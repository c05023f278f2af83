package io.lifeboat.engine.physical;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.FileIndex;
import io.lifeboat.codec.Crc32c;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Where each block of a file comes from when the newest backup of the chain holds it as the
 * server's INCREMENTAL.* file (PostgreSQL 17+ over the replication protocol), by the rules
 * pg_combinebackup follows: the file is as long as the blocks it holds and its truncation block
 * length say; a block it holds comes from it; a block below the truncation length comes from the
 * newest older incremental of the chain that holds it, or else from the newest older backup that
 * holds the file whole (if that copy is long enough); every other block is zeros. Zero blocks get
 * no extent: the restore writes nothing there (a new file reads zeros).
 */
final class ServerIncrementalBlocks {
    private ServerIncrementalBlocks() {
    }

    static ChainView.Resolved resolve(List<ChainView.Link> links, int blockSize, FileIndex.Entry entry) {
        int n = links.size() - 1;
        if (entry.size() % blockSize != 0) {
            throw broken(links, n, entry.path(), "gives it a size " + entry.size() + " that is not whole blocks");
        }
        int blocks = Math.toIntExact(entry.size() / blockSize);
        long truncation = entry.truncationBlocks();
        int[] from = new int[blocks];
        long[] offset = new long[blocks];
        int[] crc = new int[blocks];
        Arrays.fill(from, -1);
        take(links, n, entry, blockSize, blocks, blocks, from, offset, crc);
        for (int k = n - 1; k >= 0; k--) {
            FileIndex.Entry e = links.get(k).byPath().get(entry.path());
            if (e == null || !e.isFile()) {
                throw broken(links, n, entry.path(), "takes blocks of it from older backups, but "
                        + links.get(k).manifest().id() + " does not have that file");
            }
            if (e.truncationBlocks() != null) {
                take(links, k, e, blockSize, blocks, truncation, from, offset, crc);
                continue;
            }
            if (!e.blocks()) {
                throw broken(links, k, entry.path(), "holds it whole but not in blocks, and a newer incremental of the chain "
                        + "takes blocks of it");
            }
            // The file whole: its blocks below the truncation length fill what is still missing, and the search ends.
            take(links, k, e, blockSize, blocks, Math.min(truncation, e.size() / blockSize), from, offset, crc);
            break;
        }
        int zeroCrc = 0;
        for (int b = 0; b < blocks; b++) {
            if (from[b] < 0) {
                if (zeroCrc == 0) {
                    zeroCrc = Crc32c.of(new byte[blockSize], 0, blockSize);
                }
                crc[b] = zeroCrc;
            }
        }
        List<ChainView.Extent> extents = new ArrayList<>();
        int b = 0;
        while (b < blocks) {
            int k = from[b];
            if (k < 0) {
                b++;
                continue;
            }
            String archive = links.get(k).byPath().get(entry.path()).archive();
            int end = b + 1;
            while (end < blocks && from[end] == k && offset[end] == offset[end - 1] + blockSize) {
                end++;
            }
            extents.add(new ChainView.Extent((long) b * blockSize, (long) (end - b) * blockSize, k, archive, offset[b]));
            b = end;
        }
        return new ChainView.Resolved(entry, extents, crc);
    }

    /** Takes from link {@code k}'s entry every block it holds below {@code limit} that no newer backup gave. */
    private static void take(List<ChainView.Link> links, int k, FileIndex.Entry e, int blockSize, int blocks, long limit,
                             int[] from, long[] offset, int[] crc) {
        if (e.runs() == null) {
            return;
        }
        int crcIndex = 0;
        for (long[] r : e.runs()) {
            for (long i = 0; i < r[1]; i++, crcIndex++) {
                long blk = r[0] + i;
                if (blk < limit && blk < blocks && from[(int) blk] < 0) {
                    from[(int) blk] = k;
                    offset[(int) blk] = r[2] + i * blockSize;
                    crc[(int) blk] = e.blockCrc(crcIndex);
                }
            }
        }
        if (e.blockCrcs() == null || e.blockCrcs().length != crcIndex * 4) {
            throw broken(links, k, e.path(), "has block CRCs that do not match its runs");
        }
    }

    private static LifeboatException broken(List<ChainView.Link> links, int link, String path, String what) {
        return new LifeboatException(ErrorKind.CORRUPT, "backup " + links.get(link).manifest().id() + " " + what
                + " (" + path + ")", "the chain of backups is damaged: restore an older backup, and take a new full "
                + "backup (backup --type physical --full)");
    }
}
