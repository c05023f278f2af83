package io.lifeboat.engine.physical;

import io.lifeboat.catalog.FileIndex;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Decides, file by file, what a backup stores of a file: everything (a full backup; a file that is
 * not relation data; a relation file that is new since the parent), or only the blocks the parent
 * cannot supply. A relation file counts as the parent's only when it is the same file: the same
 * path, tracked in blocks there, the same inode (not dropped and created again under a reused
 * relfilenode), in the same database directory (the same inode, and the same PG_VERSION file: a
 * database created with STRATEGY FILE_COPY or moved with ALTER DATABASE SET TABLESPACE gets a new
 * directory of copied files that keep their old page LSNs).
 */
final class FilePlanner {
    private final IncrementalBase base;
    private final Map<String, DataDirectoryScan.Item> now = new HashMap<>();
    private final int blockSize;

    FilePlanner(IncrementalBase base, List<DataDirectoryScan.Item> items, int blockSize) {
        this.base = base;
        this.blockSize = blockSize;
        for (DataDirectoryScan.Item i : items) {
            now.put(i.path(), i);
        }
    }

    LocalArchiveWriter.FilePlan plan(DataDirectoryScan.Item it) {
        if (!it.blockFile() || it.size() % blockSize != 0 || it.size() / blockSize > Integer.MAX_VALUE) {
            return LocalArchiveWriter.FilePlan.PLAIN;
        }
        if (base == null) {
            return LocalArchiveWriter.FilePlan.ALL_BLOCKS;
        }
        ChainView parent = base.view();
        FileIndex.Entry was = parent.entry(it.path());
        if (was == null || !was.isFile() || !was.blocks() || it.inode() == 0 || was.inode() != it.inode()
                || !sameDirectory(parent, it.databaseDirectory() == null ? "global" : it.databaseDirectory())) {
            return LocalArchiveWriter.FilePlan.ALL_BLOCKS;
        }
        ChainView.Resolved r = parent.resolve(was);
        if (untouched(was, it)) {
            return new LocalArchiveWriter.FilePlan(null, false, r.blockCrcs(), true);
        }
        return new LocalArchiveWriter.FilePlan(new PieceReader.BlockRule(was.size() / blockSize, base.parentStart(),
                r.blockCrcs()), false, r.blockCrcs());
    }

    /**
     * Not written to since the parent listed it, so what the parent read is what it holds: the same
     * size, mtime and ctime as the parent recorded, that ctime well before the parent started (a
     * write after the listing then gets a later ctime, even with a coarse clock). The ctime, unlike
     * the mtime, cannot be set back: a restore that writes the file or sets its time moves it.
     */
    private boolean untouched(FileIndex.Entry was, DataDirectoryScan.Item it) {
        return was.ctimeNs() != null && it.ctimeNs() != 0 && was.ctimeNs() == it.ctimeNs()
                && was.mtimeNs() == it.mtimeNs() && was.size() == it.size()
                && was.ctimeNs() < base.parent().startTime().toEpochMilli() * 1_000_000L - UnchangedSince.MARGIN_NS;
    }

    /** The directory is the one the parent read: same inode, and the same PG_VERSION in it if it has one. */
    private boolean sameDirectory(ChainView parent, String dir) {
        DataDirectoryScan.Item d = now.get(dir);
        FileIndex.Entry was = parent.entry(dir);
        if (d == null || was == null || d.inode() == 0 || d.inode() != was.inode()) {
            return false;
        }
        DataDirectoryScan.Item version = now.get(dir + "/PG_VERSION");
        FileIndex.Entry wasVersion = parent.entry(dir + "/PG_VERSION");
        if (version == null && wasVersion == null) {
            return true;
        }
        return version != null && wasVersion != null && version.inode() == wasVersion.inode()
                && version.mtimeNs() == wasVersion.mtimeNs() && version.size() == wasVersion.size();
    }
}
