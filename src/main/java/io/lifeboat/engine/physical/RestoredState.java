package io.lifeboat.engine.physical;

import io.lifeboat.catalog.FileIndex;
import io.lifeboat.catalog.Json;
import io.lifeboat.engine.LocalWrite;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * What a restore left in a data directory, recorded in it ({@value #FILE}) so that the next
 * {@code restore --delta --trust-unchanged} need not read files nobody wrote since: for every
 * regular file, its inode, size, mtime and ctime right after the restore wrote (or kept) it with
 * the content of backup {@code backup}.
 *
 * <p>A file still holds that content when all four are unchanged and one of two things shows that
 * no write can hide behind an equal ctime (the ctime, unlike the mtime, cannot be set back: every
 * write, truncation, chmod or utimes moves it to the present): either its ctime is well before the
 * record was taken, so a later write gets a later ctime even with a coarse filesystem clock; or the
 * restore set its mtime well before its ctime (to the backup's time), so any later write moves the
 * mtime to the present. What this cannot see is a change below the filesystem (a damaged disk) or a
 * write followed by setting both times back by hand: that is why it is an option, and a plain
 * {@code --delta} reads and checksums every file.
 */
final class RestoredState {
    static final String FILE = "lifeboat-restored.json";
    static final int FORMAT_VERSION = 1;
    /** How far apart times must be to rule out a write within the same tick of a coarse clock: the backups' margin. */
    static final long MARGIN_NS = UnchangedSince.MARGIN_NS;

    /** One regular file as the restore left it; path as in the file index (tablespace files under pg_tblspc/OID/). */
    record Stat(String path, long inode, long size, long mtimeNs, long ctimeNs) {
    }

    /**
     * @param backup       the backup whose content the files hold
     * @param recordedAtNs when the files were looked at (epoch nanoseconds)
     * @param device       the data directory's filesystem and inode: a copy of this file elsewhere describes nothing
     * @param synced       the restore flushed every file to disk before writing the record
     */
    record Record(int formatVersion, String backup, String systemIdentifier, long recordedAtNs, long device, long inode,
                  boolean synced, List<Stat> files) {
    }

    private final Record record;
    private final Map<String, Stat> byPath = new HashMap<>();

    private RestoredState(Record record) {
        this.record = record;
        for (Stat s : record.files()) {
            byPath.put(s.path(), s);
        }
    }

    String backup() {
        return record.backup();
    }

    /** The files it vouches for are on disk (the restore that recorded them flushed them). */
    boolean synced() {
        return record.synced();
    }

    int size() {
        return byPath.size();
    }

    /**
     * Looks at every regular file under the data directory and the tablespace targets (the content of
     * {@code backup}, written or kept by the restore that just finished extracting).
     */
    static RestoredState take(String backup, String systemIdentifier, Path dataDir, Map<String, Path> spaceTargets,
                              boolean synced) {
        long now = epochNanos();
        List<Stat> files = new ArrayList<>();
        walk(dataDir, "", files);
        spaceTargets.forEach((oid, dir) -> walk(dir, "pg_tblspc/" + oid + "/", files));
        long[] dir = identity(dataDir);
        return new RestoredState(new Record(FORMAT_VERSION, backup, systemIdentifier, now, dir[0], dir[1], synced,
                files));
    }

    private static void walk(Path root, String prefix, List<Stat> into) {
        if (!Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        LocalWrite.run(root, () -> Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                if (attrs.isRegularFile()) {
                    String rel = prefix + root.relativize(file).toString();
                    Stat s = stat(rel, file);
                    if (s != null) {
                        into.add(s);
                    }
                }
                return FileVisitResult.CONTINUE;
            }
        }));
    }

    /** A file's attributes, or null when it is not a regular file (or is gone). */
    static Stat stat(String path, Path file) {
        try {
            Map<String, Object> a = Files.readAttributes(file, "unix:ino,size,lastModifiedTime,ctime,mode",
                    LinkOption.NOFOLLOW_LINKS);
            if (((Integer) a.get("mode") & 0170000) != 0100000) {
                return null;
            }
            return new Stat(path, (Long) a.get("ino"), (Long) a.get("size"),
                    ((FileTime) a.get("lastModifiedTime")).to(TimeUnit.NANOSECONDS),
                    ((FileTime) a.get("ctime")).to(TimeUnit.NANOSECONDS));
        } catch (IOException e) {
            return null;
        }
    }

    /** Writes the record into the data directory (replacing an older one), readable by the directory's owner only. */
    void write(Path dataDir, Ownership owner) {
        Path target = dataDir.resolve(FILE);
        Path tmp = dataDir.resolve(FILE + ".tmp");
        LocalWrite.run(target, () -> {
            Files.write(tmp, Json.MAPPER.writer().without(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT)
                    .writeValueAsBytes(record));
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
            owner.apply(tmp);
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        });
    }

    /**
     * The record in {@code dataDir}, or null (said why) when there is none, it cannot be read, it is
     * of another cluster, or it was copied from another directory.
     */
    static RestoredState read(Path dataDir, String systemIdentifier, Consumer<String> log) {
        Path f = dataDir.resolve(FILE);
        if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
            log.accept("delta restore: " + dataDir + " has no record of an earlier restore (" + FILE + "): every file is "
                    + "read and compared");
            return null;
        }
        Record r;
        try {
            r = Json.MAPPER.readValue(Files.readAllBytes(f), Record.class);
        } catch (IOException | RuntimeException e) {
            log.accept("delta restore: cannot read " + f + " (" + e.getMessage() + "): every file is read and compared");
            return null;
        }
        long[] dir;
        try {
            dir = identity(dataDir);
        } catch (RuntimeException e) {
            return null;
        }
        if (r.formatVersion() != FORMAT_VERSION || r.files() == null || r.backup() == null
                || !systemIdentifier.equals(r.systemIdentifier()) || r.device() != dir[0] || r.inode() != dir[1]) {
            log.accept("delta restore: " + f + " does not describe this directory of this cluster: every file is read "
                    + "and compared");
            return null;
        }
        return new RestoredState(r);
    }

    /** Whether {@code local} (index path {@code path}) still holds what the recorded restore left there. */
    boolean unchanged(String path, Path local) {
        Stat was = byPath.get(path);
        if (was == null) {
            return false;
        }
        Stat now = stat(path, local);
        return now != null && holds(was, now, record.recordedAtNs());
    }

    /**
     * The record with the chain of the backup it names: what a file it vouches for holds.
     */
    record Vouching(RestoredState state, ChainView recorded) {
        /** The recorded backup's version of the file at {@code local} (index path {@code path}), or null. */
        ChainView.Resolved onDisk(String path, Path local) {
            FileIndex.Entry e = recorded.entry(path);
            Stat was = state.byPath.get(path);
            if (e == null || !e.isFile() || was == null || was.size() != e.size() || !state.unchanged(path, local)) {
                return null;
            }
            try {
                return recorded.resolve(e);
            } catch (RuntimeException damaged) {
                return null; // read and compared instead
            }
        }
    }

    /** The rule (see the class comment), on its own for tests. */
    static boolean holds(Stat was, Stat now, long recordedAtNs) {
        return was.inode() != 0 && now.inode() == was.inode() && now.size() == was.size()
                && now.mtimeNs() == was.mtimeNs() && now.ctimeNs() == was.ctimeNs()
                && (was.ctimeNs() < recordedAtNs - MARGIN_NS || was.mtimeNs() < was.ctimeNs() - MARGIN_NS);
    }

    private static long[] identity(Path dir) {
        return LocalWrite.at(dir, () -> {
            Map<String, Object> a = Files.readAttributes(dir, "unix:dev,ino", LinkOption.NOFOLLOW_LINKS);
            return new long[] {(Long) a.get("dev"), (Long) a.get("ino")};
        });
    }

    private static long epochNanos() {
        Instant t = Instant.now();
        return t.getEpochSecond() * 1_000_000_000L + t.getNano();
    }
}
