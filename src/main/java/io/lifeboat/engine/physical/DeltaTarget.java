package io.lifeboat.engine.physical;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.BackupManifest;
import io.lifeboat.catalog.FileIndex;
import io.lifeboat.engine.LocalWrite;
import io.lifeboat.engine.Parallel;
import io.lifeboat.postgres.ControlFile;
import io.lifeboat.postgres.ScratchCluster;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.zip.CRC32C;

/**
 * A restore into an existing data directory ({@code restore --delta}): only into a stopped server's
 * directory of the same cluster. While it runs the directory has no global/pg_control (it is moved
 * aside first and written last), so a restore that fails half-way leaves a directory no server
 * starts on by accident, and the next {@code --delta} still knows whose it is.
 */
final class DeltaTarget {
    static final String SET_ASIDE = ControlFile.PATH + ".lifeboat-delta";

    private DeltaTarget() {
    }

    /**
     * Refuses a directory a server is running on or that belongs to another cluster; sets its
     * pg_control aside. An absent or empty directory is a plain restore.
     *
     * @return whether the directory holds a cluster to restore over
     */
    static boolean prepare(BackupManifest m, Path dataDir, Consumer<String> log) {
        if (!Files.isDirectory(dataDir) || isEmpty(dataDir)) {
            return false;
        }
        Path pid = dataDir.resolve("postmaster.pid");
        if (Files.exists(pid)) {
            String first = "";
            try {
                List<String> lines = Files.readAllLines(pid);
                first = lines.isEmpty() ? "" : lines.get(0).trim();
            } catch (IOException ignored) {
                // unreadable: treated as running
            }
            if (!first.matches("\\d+") || Files.exists(Path.of("/proc", first))) {
                throw new LifeboatException(ErrorKind.CONFLICT, "a server is running on " + dataDir + " (postmaster.pid"
                        + (first.isEmpty() ? "" : ", pid " + first) + ")", "stop it first (pg_ctl stop -D " + dataDir
                        + "); a delta restore only writes into a stopped server's directory");
            }
        }
        Path control = dataDir.resolve(ControlFile.PATH);
        Path aside = dataDir.resolve(SET_ASIDE);
        Path which = Files.exists(control) ? control : Files.exists(aside) ? aside : null;
        if (which == null) {
            throw new LifeboatException(ErrorKind.CONFLICT, dataDir + " is not empty and holds no PostgreSQL cluster "
                    + "(no " + ControlFile.PATH + ")", "a delta restore only writes into a data directory of the same "
                    + "cluster; restore into an empty directory instead");
        }
        String system = ControlFile.systemIdentifierOf(which);
        if (!system.equals(m.systemIdentifier())) {
            throw new LifeboatException(ErrorKind.CONFLICT, dataDir + " belongs to the cluster with system identifier "
                    + system + ", backup " + m.id() + " to " + m.systemIdentifier(), "a delta restore only writes into a "
                    + "data directory of the same cluster; restore into an empty directory instead");
        }
        if (which == control) {
            LocalWrite.run(aside, () -> Files.move(control, aside, java.nio.file.StandardCopyOption.REPLACE_EXISTING));
        } else {
            log.accept("restore " + m.id() + ": " + dataDir + " was left by an unfinished delta restore; continuing it");
        }
        return true;
    }

    /** The restore is complete: the set-aside control file goes (the backup's is in place). */
    static void done(Path dataDir) {
        LocalWrite.run(dataDir, () -> Files.deleteIfExists(dataDir.resolve(SET_ASIDE)));
    }

    /**
     * Removes everything the backup does not hold: under the data directory (links are not
     * followed) and under each tablespace's version directories the backup has; returns how many
     * entries went.
     */
    static long removeExtras(Path dataDir, Map<String, Path> spaceTargets, Map<Path, FileIndex.Entry> expected,
                             Consumer<String> log) {
        long[] removed = {0};
        List<Path> roots = new ArrayList<>();
        roots.add(dataDir);
        for (Map.Entry<Path, FileIndex.Entry> e : expected.entrySet()) {
            String[] parts = e.getValue().path().split("/");
            if (parts.length == 3 && parts[0].equals("pg_tblspc") && spaceTargets.containsKey(parts[1])
                    && e.getValue().isDirectory()) {
                roots.add(e.getKey()); // a tablespace's version directory; other versions' are left alone
            }
        }
        // Kept: the set-aside control file, and the record of the last restore (rewritten at the end).
        Set<Path> keep = Set.of(dataDir.resolve(SET_ASIDE), dataDir.resolve(RestoredState.FILE));
        for (Path root : roots) {
            if (Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) {
                prune(root, expected, keep, removed);
            }
        }
        if (removed[0] > 0) {
            log.accept("delta restore: removed " + removed[0] + " files and directories the backup does not hold");
        }
        return removed[0];
    }

    private static void prune(Path dir, Map<Path, FileIndex.Entry> expected, Set<Path> keep, long[] removed) {
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            for (Path p : s) {
                FileIndex.Entry e = expected.get(p);
                boolean isDir = Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS);
                boolean isLink = Files.isSymbolicLink(p);
                if (keep.contains(p)) {
                    continue;
                }
                boolean fits = e != null && (e.isDirectory() ? isDir : e.isLink() ? isLink : !isDir && !isLink);
                if (!fits) {
                    ScratchCluster.deleteTree(p);
                    if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
                        throw new LifeboatException(ErrorKind.RESOURCE, "cannot remove " + p, "check its permissions");
                    }
                    removed[0]++;
                } else if (isDir) {
                    prune(p, expected, keep, removed);
                }
            }
        } catch (IOException e) {
            throw LocalWrite.failed(dir, e);
        }
    }

    /**
     * What a file on disk is known to hold without reading it (see {@link RestoredState}), or null:
     * then it is read and compared.
     */
    interface Known {
        ChainView.Resolved onDisk(int file);
    }

    /**
     * What is to be written of each file: nothing when it already has the backup's content (size and
     * CRC), the blocks whose CRC differs for relation files, all of it otherwise. Files are read
     * {@code jobs} at a time, except those {@code known} (may be null) vouches for: their CRCs come
     * from the backup they hold (and {@code unread} is set for them).
     */
    static List<List<ChainView.Extent>> compare(List<Path> paths, List<ChainView.Resolved> resolved, int blockSize,
                                                int jobs, AtomicLong kept, AtomicLong keptBytes, Known known,
                                                boolean[] unread) {
        List<Parallel.Task<List<ChainView.Extent>>> tasks = new ArrayList<>();
        for (int i = 0; i < paths.size(); i++) {
            Path p = paths.get(i);
            ChainView.Resolved r = resolved.get(i);
            int file = i;
            tasks.add(() -> {
                ChainView.Resolved onDisk = known == null ? null : known.onDisk(file);
                List<ChainView.Extent> write = onDisk != null ? differingKnown(onDisk, r, blockSize) : null;
                if (write != null) {
                    unread[file] = true;
                } else {
                    write = differing(p, r, blockSize);
                }
                if (write.isEmpty()) {
                    kept.incrementAndGet();
                    keptBytes.addAndGet(r.entry().size());
                }
                return write;
            });
        }
        return Parallel.run(Math.max(1, jobs), tasks);
    }

    private static List<ChainView.Extent> differing(Path p, ChainView.Resolved r, int blockSize) throws IOException {
        FileIndex.Entry e = r.entry();
        if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
            return r.extents();
        }
        long size = Files.size(p);
        if (r.blockCrcs() == null) {
            Integer want = e.crc();
            return want != null && size == e.size() && crc(p) == want ? List.of() : r.extents();
        }
        return differingBlocks(IndexedRestore.blockCrcs(p, blockSize, r.blockCrcs().length), r, blockSize);
    }

    /**
     * What differs between a file whose content is that of {@code onDisk} and {@code want}, from their
     * CRCs; null when the CRCs cannot tell (then the file is read).
     */
    static List<ChainView.Extent> differingKnown(ChainView.Resolved onDisk, ChainView.Resolved want, int blockSize) {
        if (want.blockCrcs() == null) {
            Integer have = onDisk.crc();
            Integer wanted = want.entry().crc();
            if (have == null || wanted == null) {
                return null;
            }
            return onDisk.entry().size() == want.entry().size() && have.equals(wanted) ? List.of() : want.extents();
        }
        if (onDisk.blockCrcs() == null) {
            return null;
        }
        return differingBlocks(onDisk.blockCrcs(), want, blockSize);
    }

    /** The runs of blocks of {@code r} whose CRC is not the one in {@code local} (the file's blocks as they are). */
    private static List<ChainView.Extent> differingBlocks(int[] local, ChainView.Resolved r, int blockSize) {
        List<ChainView.Extent> out = new ArrayList<>();
        for (ChainView.Extent x : r.extents()) {
            long first = x.fileOffset() / blockSize;
            long count = x.length() / blockSize;
            long runStart = -1;
            for (long b = first; b <= first + count; b++) {
                boolean differs = b < first + count && (b >= local.length || local[(int) b] != r.blockCrcs()[(int) b]);
                if (differs && runStart < 0) {
                    runStart = b;
                } else if (!differs && runStart >= 0) {
                    out.add(new ChainView.Extent(runStart * blockSize, (b - runStart) * blockSize, x.link(), x.archive(),
                            x.streamOffset() + (runStart - first) * blockSize));
                    runStart = -1;
                }
            }
        }
        return out;
    }

    private static int crc(Path p) throws IOException {
        CRC32C c = new CRC32C();
        byte[] buf = new byte[1 << 20];
        try (InputStream in = Files.newInputStream(p)) {
            int n;
            while ((n = in.read(buf)) > 0) {
                c.update(buf, 0, n);
            }
        }
        return (int) c.getValue();
    }

    private static boolean isEmpty(Path dir) {
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            return !s.iterator().hasNext();
        } catch (IOException e) {
            throw LocalWrite.failed(dir, e);
        }
    }
}
