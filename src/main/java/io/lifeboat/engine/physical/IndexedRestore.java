package io.lifeboat.engine.physical;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.BackupManifest;
import io.lifeboat.catalog.Catalog;
import io.lifeboat.catalog.FileIndex;
import io.lifeboat.catalog.StoredObject;
import io.lifeboat.codec.Crc32c;
import io.lifeboat.engine.LocalWrite;
import io.lifeboat.engine.MemoryBudget;
import io.lifeboat.engine.ObjectPipeline;
import io.lifeboat.engine.Parallel;
import io.lifeboat.engine.Progress;
import io.lifeboat.postgres.ControlFile;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Restores a backup with a file index straight from the repository, whatever the length of its
 * chain: every file is put together from the newest copy of each of its blocks in the chain
 * ({@link ChainView}); the chunks that hold any of those bytes are each downloaded once, verified
 * (size and SHA-256) and decoded, and their pieces written where they belong, several chunks at
 * once. No backup of the chain is copied to local disk first.
 *
 * <p>Into an existing data directory (delta), a file whose size and CRC already match is kept,
 * of a relation file only the blocks whose CRC differs are written, and what the backup does not
 * hold is removed; {@link DeltaTarget} decides beforehand that the directory may be written.
 */
final class IndexedRestore {
    private final Catalog catalog;
    private final ObjectPipeline pipeline;
    private final Progress progress;
    private final Consumer<String> log;

    /** What was done. */
    /** @param unread files a delta restore compared by the record of the last restore, without reading them */
    record Written(long files, long bytes, long filesKept, long bytesKept, long removed, long unread) {
    }

    IndexedRestore(Catalog catalog, ObjectPipeline pipeline, Progress progress, Consumer<String> log) {
        this.catalog = catalog;
        this.pipeline = pipeline;
        this.progress = progress;
        this.log = log;
    }

    /** A file being restored: how many of its pieces are still to be written. */
    private static final class Target {
        final FileIndex.Entry entry;
        final Path path;
        final AtomicInteger pending = new AtomicInteger();
        /** Already on disk as it is: no flush needed. */
        boolean durable;

        Target(FileIndex.Entry entry, Path path) {
            this.entry = entry;
            this.path = path;
        }
    }

    /** Bytes of one chunk that go to one place of one file. */
    private record Piece(Target target, long fileOffset, int chunkOffset, int length) {
    }

    /** One archive of one backup of the chain: its chunks and where each starts in the tar stream. */
    private record Archive(BackupManifest backup, List<StoredObject> chunks, long[] starts) {
        int chunkAt(long offset) {
            int lo = 0;
            int hi = starts.length - 1;
            while (lo < hi) {
                int mid = (lo + hi + 1) >>> 1;
                if (starts[mid] <= offset) {
                    lo = mid;
                } else {
                    hi = mid - 1;
                }
            }
            return lo;
        }

        long end(int chunk) {
            return starts[chunk] + chunks.get(chunk).rawSize();
        }
    }

    /**
     * @param spaceTargets tablespace OID → where it is restored
     * @param delta        write into an existing data directory of the same cluster
     * @param vouching     for a delta restore: what files unchanged since the last restore hold (null: read every file)
     */
    Written run(ChainView chain, Path dataDir, Map<String, Path> spaceTargets, Ownership owner, FileSyncer syncer, int jobs,
                boolean delta, RestoredState.Vouching vouching) {
        String what = "the file index of backup " + chain.newest().manifest().id();
        if (delta && chain.newest().index().files().stream().anyMatch(e -> e.truncationBlocks() != null)) {
            throw new LifeboatException(ErrorKind.USAGE, "backup " + chain.newest().manifest().id() + " is an incremental "
                    + "the server took (PostgreSQL 17, over the replication protocol), which cannot be restored with --delta",
                    "restore it into an empty directory, or restore its full backup with --delta");
        }
        Map<String, Archive> archives = archives(chain);
        List<FileIndex.Entry> entries = chain.newest().index().files();
        Map<Path, FileIndex.Entry> expected = new LinkedHashMap<>();
        for (FileIndex.Entry e : entries) {
            expected.put(local(e.path(), dataDir, spaceTargets, what), e);
        }
        long removed = delta ? DeltaTarget.removeExtras(dataDir, spaceTargets, expected, log) : 0;
        for (FileIndex.Entry e : entries) {
            Path p = local(e.path(), dataDir, spaceTargets, what);
            if (e.isDirectory()) {
                directory(p, e.mode(), owner);
            } else if (e.isLink()) {
                String oid = e.path().startsWith("pg_tblspc/") ? e.path().substring("pg_tblspc/".length()) : null;
                Path to = oid != null && spaceTargets.containsKey(oid) ? spaceTargets.get(oid) : Path.of(e.link());
                link(p, to, owner);
            }
        }
        List<Target> targets = new ArrayList<>();
        Map<String, List<Piece>> byChunk = new LinkedHashMap<>();
        List<ChainView.Resolved> resolved = new ArrayList<>();
        for (FileIndex.Entry e : entries) {
            if (e.isFile()) {
                targets.add(new Target(e, local(e.path(), dataDir, spaceTargets, what)));
                resolved.add(chain.resolve(e));
            }
        }
        AtomicLong kept = new AtomicLong();
        AtomicLong keptBytes = new AtomicLong();
        boolean[] unread = new boolean[targets.size()];
        DeltaTarget.Known known = vouching == null ? null
                : i -> vouching.onDisk(targets.get(i).entry.path(), targets.get(i).path);
        List<List<ChainView.Extent>> toWrite = delta ? DeltaTarget.compare(targets.stream().map(t -> t.path).toList(),
                resolved, chain.blockSize(), jobs, kept, keptBytes, known, unread)
                : resolved.stream().map(ChainView.Resolved::extents).toList();
        io.lifeboat.Trace.mark(delta ? "delta: directory compared" : "files listed");
        long total = 0;
        for (int i = 0; i < targets.size(); i++) {
            Target t = targets.get(i);
            // Kept as the record of the last restore vouches for: flushed by that restore, not written since.
            t.durable = unread[i] && toWrite.get(i).isEmpty() && vouching.state().synced();
            for (ChainView.Extent x : toWrite.get(i)) {
                total += x.length();
                Archive a = archives.get(x.link() + "/" + x.archive());
                if (a == null) {
                    throw new LifeboatException(ErrorKind.CORRUPT, what + " puts " + t.entry.path() + " in archive "
                            + x.archive() + " of backup " + chain.links().get(x.link()).manifest().id() + ", which has no such "
                            + "archive", "the backup is damaged; restore another one");
                }
                long pos = x.streamOffset();
                long left = x.length();
                long fileOff = x.fileOffset();
                while (left > 0) {
                    int c = a.chunkAt(pos);
                    if (pos >= a.end(c)) {
                        throw new LifeboatException(ErrorKind.CORRUPT, what + " puts bytes of " + t.entry.path()
                                + " past the end of archive " + x.archive(), "the backup is damaged; restore another one");
                    }
                    int n = (int) Math.min(left, a.end(c) - pos);
                    byChunk.computeIfAbsent(x.link() + "/" + x.archive() + "/" + c, k -> new ArrayList<>())
                            .add(new Piece(t, fileOff, (int) (pos - a.starts()[c]), n));
                    t.pending.incrementAndGet();
                    pos += n;
                    fileOff += n;
                    left -= n;
                }
            }
        }
        // The files are created while the first chunks download and decode; each chunk waits for them
        // only before it writes. (No piece is written before this ends, so the pending counts are still whole.)
        FutureTask<Void> prepared = new FutureTask<>(() -> {
            prepareFiles(targets, owner, delta, jobs);
            for (Target t : targets) {
                if (t.pending.get() == 0) {
                    finish(t, owner, syncer);
                }
            }
            io.lifeboat.Trace.mark("files prepared");
            return null;
        });
        Thread preparing = new Thread(prepared, "lifeboat-prepare");
        preparing.setDaemon(true);
        preparing.start();
        io.lifeboat.Trace.mark(byChunk.size() + " chunks to fetch");
        List<Parallel.Task<Void>> tasks = new ArrayList<>();
        List<Parallel.Task<Void>> last = new ArrayList<>();
        for (Map.Entry<String, List<Piece>> e : byChunk.entrySet()) {
            String key = e.getKey();
            int slash = key.lastIndexOf('/');
            Archive a = archives.get(key.substring(0, slash));
            StoredObject chunk = a.chunks().get(Integer.parseInt(key.substring(slash + 1)));
            // Into an existing directory, pg_control is written after everything else (see DeltaTarget).
            boolean control = delta && e.getValue().stream().anyMatch(p -> p.target().entry.path().equals(ControlFile.PATH));
            (control ? last : tasks).add(() -> {
                writeChunk(a.backup(), chunk, e.getValue(), owner, syncer, prepared);
                return null;
            });
        }
        try {
            // Each thread holds one chunk decoded and stored (writeChunk): as many threads as the heap holds.
            long raw = 0;
            long stored = 0;
            for (String key : byChunk.keySet()) {
                int slash = key.lastIndexOf('/');
                StoredObject c = archives.get(key.substring(0, slash)).chunks().get(Integer.parseInt(key.substring(slash + 1)));
                raw = Math.max(raw, c.rawSize());
                stored = Math.max(stored, c.size());
            }
            MemoryBudget budget = MemoryBudget.ofThisJvm();
            int threads = budget.threads(jobs, raw + stored, "restoring chunks of " + (raw >> 20) + " MiB");
            try (MemoryBudget.Lease held = budget.hold(threads * (raw + stored), log)) {
                Parallel.run(threads, tasks);
            }
            Parallel.run(1, last);
            await(prepared);
        } finally {
            prepared.cancel(true);
        }
        io.lifeboat.Trace.mark("chunks written");
        long files = targets.size() - kept.get();
        long unreadFiles = 0;
        for (boolean u : unread) {
            unreadFiles += u ? 1 : 0;
        }
        return new Written(files, total, kept.get(), keptBytes.get(), removed, unreadFiles);
    }

    /** Every archive of every backup of the chain, keyed "link/name". */
    private static Map<String, Archive> archives(ChainView chain) {
        Map<String, Archive> out = new HashMap<>();
        for (int k = 0; k < chain.links().size(); k++) {
            BackupManifest m = chain.links().get(k).manifest();
            Map<String, StoredObject> byPath = new HashMap<>();
            m.objects().forEach(o -> byPath.put(o.path(), o));
            for (BackupManifest.TarArchive t : m.physical().archives()) {
                List<StoredObject> chunks = new ArrayList<>();
                long[] starts = new long[t.chunks().size()];
                long at = 0;
                for (int i = 0; i < t.chunks().size(); i++) {
                    StoredObject o = byPath.get(t.chunks().get(i));
                    if (o == null) {
                        throw new LifeboatException(ErrorKind.CORRUPT, "the manifest of backup " + m.id() + " refers to "
                                + t.chunks().get(i) + " but does not list it", "the manifest is damaged; restore another backup");
                    }
                    chunks.add(o);
                    starts[i] = at;
                    at += o.rawSize();
                }
                out.put(k + "/" + t.name(), new Archive(m, chunks, starts));
            }
        }
        return out;
    }

    /** Where an entry of the index goes: under its tablespace's target, or under the data directory. */
    static Path local(String path, Path dataDir, Map<String, Path> spaceTargets, String what) {
        String n = TarExtractor.normalize(path, what);
        if (n.isEmpty()) {
            throw new LifeboatException(ErrorKind.CORRUPT, what + " lists the data directory itself as an entry",
                    "the backup is damaged; restore another one");
        }
        if (n.startsWith("pg_tblspc/")) {
            String[] parts = n.split("/", 3);
            if (parts.length == 3 && spaceTargets.containsKey(parts[1])) {
                return spaceTargets.get(parts[1]).resolve(parts[2]);
            }
        }
        return dataDir.resolve(n);
    }

    private static void directory(Path p, int mode, Ownership owner) {
        LocalWrite.run(p, () -> {
            if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                Files.createDirectories(p);
            }
            Files.setPosixFilePermissions(p, TarExtractor.dirPermissions(mode));
            owner.apply(p);
        });
    }

    private static void link(Path p, Path to, Ownership owner) {
        LocalWrite.run(p, () -> {
            if (Files.isSymbolicLink(p)) {
                if (Files.readSymbolicLink(p).equals(to)) {
                    return;
                }
                Files.delete(p);
            }
            Files.createDirectories(p.getParent());
            Files.createSymbolicLink(p, to);
            owner.apply(p);
        });
    }

    /** Every file created (or its mode and owner set), {@code jobs} at a time: a thousand creations add up. */
    private static void prepareFiles(List<Target> targets, Ownership owner, boolean delta, int jobs) {
        int threads = Math.max(1, jobs);
        List<Parallel.Task<Void>> tasks = new ArrayList<>();
        for (int k = 0; k < threads; k++) {
            int first = k;
            tasks.add(() -> {
                for (int i = first; i < targets.size(); i += threads) {
                    prepareFile(targets.get(i), owner, delta);
                }
                return null;
            });
        }
        Parallel.run(threads, tasks);
    }

    /** Creates the file (empty) with its mode and owner; a delta restore keeps what is there. */
    private static void prepareFile(Target t, Ownership owner, boolean delta) {
        LocalWrite.run(t.path, () -> {
            Set<PosixFilePermission> perms = TarExtractor.filePermissions(t.entry.mode());
            if (delta && Files.isRegularFile(t.path, LinkOption.NOFOLLOW_LINKS)) {
                // Only what differs: a chmod or chown moves the ctime, which the next --trust-unchanged compares.
                PosixFileAttributes a = Files.readAttributes(t.path, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                if (!a.permissions().equals(perms)) {
                    Files.setPosixFilePermissions(t.path, perms);
                }
                if (!owner.owns(a)) {
                    owner.apply(t.path);
                }
                return;
            }
            if (delta && Files.exists(t.path, LinkOption.NOFOLLOW_LINKS)) {
                io.lifeboat.postgres.ScratchCluster.deleteTree(t.path);
            }
            Files.createFile(t.path, PosixFilePermissions.asFileAttribute(perms));
            Files.setPosixFilePermissions(t.path, perms);
            owner.apply(t.path);
        });
    }

    /** The file is complete: its exact size, its time, flushed to disk. */
    private static void finish(Target t, Ownership owner, FileSyncer syncer) {
        LocalWrite.run(t.path, () -> {
            try (FileChannel ch = FileChannel.open(t.path, StandardOpenOption.WRITE)) {
                if (ch.size() > t.entry.size()) {
                    ch.truncate(t.entry.size());
                } else if (ch.size() < t.entry.size()) {
                    ch.write(ByteBuffer.allocate(1), t.entry.size() - 1); // trailing zero blocks (ServerIncrementalBlocks)
                }
            }
            FileTime mtime = FileTime.from(t.entry.mtimeNs(), TimeUnit.NANOSECONDS);
            if (!Files.getLastModifiedTime(t.path, LinkOption.NOFOLLOW_LINKS).equals(mtime)) {
                Files.setLastModifiedTime(t.path, mtime);
            }
        });
        if (!t.durable) {
            syncer.file(t.path);
        }
    }

    static final int WRITE_SLICE = 1 << 20;
    private static final ThreadLocal<byte[]> DECODED = ThreadLocal.withInitial(() -> new byte[0]);
    private static final ThreadLocal<byte[]> STORED = ThreadLocal.withInitial(() -> new byte[0]);

    /** Waits for the files to be there; their creation's failure is thrown as it was. */
    private static void await(Future<Void> prepared) {
        try {
            prepared.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LifeboatException(ErrorKind.INTERRUPTED, "interrupted while creating the restored files");
        } catch (ExecutionException e) {
            throw Parallel.unchecked(e.getCause());
        }
    }

    private void writeChunk(BackupManifest backup, StoredObject chunk, List<Piece> pieces, Ownership owner,
                            FileSyncer syncer, Future<Void> prepared) throws IOException {
        int raw = ChunkStream.arrayLength("chunk " + chunk.path(), chunk.rawSize());
        byte[] decoded = DECODED.get();
        if (decoded.length < raw) {
            decoded = new byte[raw];
            DECODED.set(decoded);
        }
        pipeline.fetchInto(catalog.layout().backupObject(backup.id(), chunk.path()), chunk, decoded, size -> {
            byte[] b = STORED.get();
            if (b.length < size) {
                b = new byte[size];
                STORED.set(b);
            }
            return b;
        });
        await(prepared);
        byte[] data = decoded;
        Target open = null;
        FileChannel ch = null;
        try {
            for (Piece p : pieces) {
                if (p.target() != open) {
                    if (ch != null) {
                        close(ch, open);
                        ch = null;
                    }
                    open = p.target();
                    Path path = open.path;
                    ch = LocalWrite.at(path, () -> FileChannel.open(path, EnumSet.of(StandardOpenOption.WRITE)));
                }
                long at = p.fileOffset();
                FileChannel c = ch;
                LocalWrite.run(open.path, () -> write(c, data, p.chunkOffset(), p.length(), at));
                progress.advance(p.length());
            }
        } finally {
            if (ch != null) {
                close(ch, open);
            }
        }
        for (Piece p : pieces) {
            if (p.target().pending.decrementAndGet() == 0) {
                finish(p.target(), owner, syncer);
            }
        }
    }

    /**
     * Writes {@code length} bytes at {@code pos}, at most {@link #WRITE_SLICE} per call: the JDK copies a
     * heap buffer into a temporary direct buffer of the write's size, and a piece can be a whole chunk
     * (tens of MiB), which made the kernel's copy into the page cache ten times as expensive (perf).
     */
    static void write(FileChannel c, byte[] data, int offset, int length, long pos) throws IOException {
        int done = 0;
        while (done < length) {
            ByteBuffer bb = ByteBuffer.wrap(data, offset + done, Math.min(WRITE_SLICE, length - done));
            while (bb.hasRemaining()) {
                int n = c.write(bb, pos + done);
                done += n;
            }
        }
    }

    private static void close(FileChannel ch, Target t) {
        LocalWrite.run(t.path, ch::close);
    }

    /** CRC-32C of each whole block of a local file (up to {@code maxBlocks}), for a delta restore's comparison. */
    static int[] blockCrcs(Path file, int blockSize, long maxBlocks) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long blocks = Math.min(maxBlocks, ch.size() / blockSize);
            int[] out = new int[(int) blocks];
            ByteBuffer bb = ByteBuffer.allocate(blockSize * 128);
            long b = 0;
            while (b < blocks) {
                bb.clear();
                int want = (int) Math.min(128, blocks - b) * blockSize;
                bb.limit(want);
                while (bb.hasRemaining() && ch.read(bb, b * blockSize + bb.position()) >= 0) {
                    // fill
                }
                int got = bb.position() / blockSize;
                for (int i = 0; i < got; i++) {
                    out[(int) (b + i)] = Crc32c.of(bb.array(), i * blockSize, blockSize);
                }
                if (got == 0) {
                    return java.util.Arrays.copyOf(out, (int) b);
                }
                b += got;
            }
            return out;
        }
    }
}
