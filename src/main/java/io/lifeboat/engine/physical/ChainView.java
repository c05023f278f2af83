package io.lifeboat.engine.physical;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.BackupManifest;
import io.lifeboat.catalog.FileIndex;
import io.lifeboat.codec.Crc32c;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A chain of backups with file indexes, the full backup first, seen from its newest backup: for
 * every file of the newest, where each of its bytes is stored. A block-tracked file takes each
 * block from the newest backup of the chain that holds it; every backup leaves to its parent only
 * blocks the parent has (checked here, so a damaged or mismatched chain fails naming the backups
 * instead of restoring wrong blocks).
 */
final class ChainView {
    /** One backup of the chain. */
    record Link(BackupManifest manifest, FileIndex index, Map<String, FileIndex.Entry> byPath) {
        static Link of(BackupManifest m, FileIndex index) {
            Map<String, FileIndex.Entry> byPath = new HashMap<>(index.files().size() * 2);
            for (FileIndex.Entry e : index.files()) {
                byPath.put(e.path(), e);
            }
            return new Link(m, index, byPath);
        }
    }

    /**
     * A run of a file's bytes stored contiguously in one archive of one backup.
     *
     * @param link         index into the chain (0 = the full backup)
     * @param streamOffset where the bytes start in that archive's tar stream
     */
    record Extent(long fileOffset, long length, int link, String archive, long streamOffset) {
    }

    /**
     * A file as the newest backup has it.
     *
     * @param blockCrcs CRC-32C of each block, for block-tracked files; null otherwise
     */
    record Resolved(FileIndex.Entry entry, List<Extent> extents, int[] blockCrcs) {
        /** The CRC of the whole file, from its blocks' CRCs for block-tracked files. */
        Integer crc() {
            if (blockCrcs == null) {
                return entry.crc();
            }
            return wholeCrc(blockCrcs, blockCrcs.length, entry.size() / Math.max(1, blockCrcs.length));
        }
    }

    private final List<Link> links;
    private final int blockSize;

    ChainView(List<Link> links) {
        if (links.isEmpty()) {
            throw new IllegalArgumentException("an empty chain");
        }
        this.links = List.copyOf(links);
        this.blockSize = links.get(links.size() - 1).index().blockSize();
        for (Link l : links) {
            if (l.index().blockSize() != blockSize) {
                throw new LifeboatException(ErrorKind.CORRUPT, "backup " + l.manifest().id() + " has block size "
                        + l.index().blockSize() + ", the newest of its chain " + blockSize,
                        "the chain is inconsistent; restore its full backup");
            }
        }
    }

    List<Link> links() {
        return links;
    }

    Link newest() {
        return links.get(links.size() - 1);
    }

    int blockSize() {
        return blockSize;
    }

    /** The newest backup's entry for {@code path}, or null. */
    FileIndex.Entry entry(String path) {
        return newest().byPath().get(path);
    }

    /** Where every byte of a file of the newest backup is stored. */
    Resolved resolve(FileIndex.Entry entry) {
        int n = links.size() - 1;
        if (!entry.isFile()) {
            return new Resolved(entry, List.of(), null);
        }
        if (!entry.blocks()) {
            if (entry.size() == 0) {
                return new Resolved(entry, List.of(), null);
            }
            if (entry.archive() == null) {
                throw broken(n, entry.path(), "lists it without storing it");
            }
            return new Resolved(entry, List.of(new Extent(0, entry.size(), n, entry.archive(), entry.offset())), null);
        }
        if (entry.truncationBlocks() != null) {
            return ServerIncrementalBlocks.resolve(links, blockSize, entry);
        }
        if (entry.size() % blockSize != 0) {
            throw broken(n, entry.path(), "tracks it in blocks but its size " + entry.size() + " is not a multiple of "
                    + blockSize);
        }
        int blocks = Math.toIntExact(entry.size() / blockSize);
        int[] from = new int[blocks];
        long[] offset = new long[blocks];
        int[] crc = new int[blocks];
        Arrays.fill(from, -1);
        int missing = blocks;
        FileIndex.Entry e = entry;
        for (int k = n; k >= 0 && missing > 0; k--) {
            if (k < n) {
                e = links.get(k).byPath().get(entry.path());
                if (e == null || !e.blocks()) {
                    throw broken(k + 1, entry.path(), "takes blocks of it from its parent " + links.get(k).manifest().id()
                            + ", which " + (e == null ? "does not have that file" : "does not track it in blocks"));
                }
                long parentBlocks = e.size() / blockSize;
                for (int b = blocks - 1; b >= parentBlocks; b--) {
                    if (from[b] < 0) {
                        throw broken(k + 1, entry.path(), "takes block " + b + " of it from its parent "
                                + links.get(k).manifest().id() + ", which has only " + parentBlocks + " blocks of it");
                    }
                }
            }
            if (e.runs() != null) {
                int crcIndex = 0;
                for (long[] r : e.runs()) {
                    long first = r[0];
                    for (long i = 0; i < r[1]; i++, crcIndex++) {
                        long b = first + i;
                        if (b < blocks && from[(int) b] < 0) {
                            from[(int) b] = k;
                            offset[(int) b] = r[2] + i * blockSize;
                            crc[(int) b] = e.blockCrc(crcIndex);
                            missing--;
                        }
                    }
                }
                if (e.blockCrcs() == null || e.blockCrcs().length != crcIndex * 4) {
                    throw broken(k, entry.path(), "has block CRCs that do not match its runs");
                }
            }
            if (k == 0 && missing > 0) {
                throw broken(0, entry.path(), "is the full backup of its chain but does not hold every block of it");
            }
        }
        List<Extent> extents = new ArrayList<>();
        int b = 0;
        while (b < blocks) {
            int k = from[b];
            String archive = links.get(k).byPath().get(entry.path()).archive();
            int end = b + 1;
            while (end < blocks && from[end] == k && offset[end] == offset[end - 1] + blockSize) {
                end++;
            }
            extents.add(new Extent((long) b * blockSize, (long) (end - b) * blockSize, k, archive, offset[b]));
            b = end;
        }
        return new Resolved(entry, extents, crc);
    }

    /** The CRC of {@code count} blocks of {@code blockSize} bytes from their CRCs. */
    static int wholeCrc(int[] blockCrcs, int count, long blockSize) {
        int c = 0;
        for (int i = 0; i < count; i++) {
            c = i == 0 ? blockCrcs[0] : Crc32c.append(c, blockCrcs[i], blockSize);
        }
        return c;
    }

    private LifeboatException broken(int link, String path, String what) {
        return new LifeboatException(ErrorKind.CORRUPT, "backup " + links.get(link).manifest().id() + " " + what
                + " (" + path + ")", "the chain of backups is damaged: restore an older backup, and take a new full "
                + "backup (backup --type physical --full)");
    }
}
