package io.lifeboat.engine.physical;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.engine.LocalWrite;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Unpacks one tar archive of a base backup into a directory: regular files, directories and
 * symbolic links, with the archive's permission bits (never wider than owner rwx + group r-x) and
 * the given owner. Entry names that would leave the directory, or pass through a symbolic link the
 * archive created, are refused. Symbolic links named in {@code linkTargets} (pg_tblspc/OID) point
 * where the caller says instead of where the archive says: that is how tablespaces move.
 */
final class TarExtractor {
    private static final int BUFFER = 1 << 20;

    private final Path root;
    private final Ownership owner;
    private final Map<String, Path> linkTargets;
    private final Consumer<Long> written;
    private final Consumer<Path> completed;
    private final Set<Path> links = new HashSet<>();
    private final Set<Path> knownDirs = new HashSet<>();
    private final List<String> skipped = new ArrayList<>();
    private final byte[] buffer = new byte[BUFFER];
    private long files;
    private long bytes;

    /**
     * @param linkTargets symbolic link entry name (e.g. pg_tblspc/16385) → where it must point
     * @param written     receives the number of bytes as file content is written (for progress)
     */
    TarExtractor(Path root, Ownership owner, Map<String, Path> linkTargets, Consumer<Long> written) {
        this(root, owner, linkTargets, written, p -> { });
    }

    /** @param completed receives each regular file once it is fully written, with its owner, mode and time */
    TarExtractor(Path root, Ownership owner, Map<String, Path> linkTargets, Consumer<Long> written,
                 Consumer<Path> completed) {
        this.root = root.toAbsolutePath().normalize();
        this.owner = owner;
        this.linkTargets = linkTargets;
        this.written = written;
        this.completed = completed;
        knownDirs.add(this.root);
    }

    /**
     * Extracts everything; {@code archive} names the source in errors. The source reports its own
     * failures (STORAGE, CORRUPT: verified chunks); a failure to write is RESOURCE naming the path;
     * what is left, the tar reader choking on verified bytes, means the archive is damaged.
     */
    void extract(InputStream tar, String archive) {
        try {
            extractAll(tar, archive);
        } catch (IOException e) {
            throw new LifeboatException(ErrorKind.CORRUPT, archive + " is not a readable tar archive: " + e.getMessage(),
                    "the backup is damaged; restore another one", e);
        }
    }

    private void extractAll(InputStream tar, String archive) throws IOException {
        TarArchiveInputStream in = new TarArchiveInputStream(tar, 10240, 512);
        TarArchiveEntry e;
        while ((e = in.getNextEntry()) != null) {
            String name = normalize(e.getName(), archive);
            if (name.isEmpty()) {
                continue; // "./": the root itself
            }
            Path target = resolve(name, archive);
            int mode = e.getMode() & 07777;
            // Symbolic links first: PostgreSQL names tablespace links "pg_tblspc/OID/", which looks like a directory.
            if (e.isSymbolicLink()) {
                Path to = linkTargets.containsKey(name) ? linkTargets.get(name) : Path.of(e.getLinkName());
                ensureParent(target);
                LocalWrite.run(target, () -> {
                    Files.createSymbolicLink(target, to);
                    owner.apply(target);
                });
                links.add(target);
            } else if (e.isDirectory()) {
                if (!Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
                    ensureParent(target);
                    LocalWrite.run(target, () -> {
                        Files.createDirectory(target, PosixFilePermissions.asFileAttribute(dirPermissions(mode)));
                        owner.apply(target);
                    });
                } else {
                    // made before its entry came (a parent of an earlier file, or pg_wal for the WAL prefetch): the archive's mode
                    LocalWrite.run(target, () -> Files.setPosixFilePermissions(target, dirPermissions(mode)));
                }
                knownDirs.add(target);
            } else if (e.isFile()) {
                ensureParent(target);
                writeFile(in, target, e.getSize(), mode, archive, name);
                FileTime time = FileTime.from(e.getLastModifiedDate().toInstant());
                LocalWrite.run(target, () -> Files.setLastModifiedTime(target, time));
                completed.accept(target);
                files++;
            } else {
                skipped.add(name);
            }
        }
    }

    private void writeFile(InputStream in, Path target, long size, int mode, String archive, String name) throws IOException {
        FileAttribute<Set<PosixFilePermission>> perms = PosixFilePermissions.asFileAttribute(filePermissions(mode));
        FileChannel opened;
        try {
            opened = FileChannel.open(target, EnumSet.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), perms);
        } catch (FileAlreadyExistsException ex) {
            throw new LifeboatException(ErrorKind.CORRUPT, archive + " holds " + name + " twice",
                    "the backup is damaged; restore another one", ex);
        } catch (IOException ex) {
            throw LocalWrite.failed(target, ex);
        }
        FileChannel ch = opened;
        try {
            long left = size;
            while (left > 0) {
                int n = in.read(buffer, 0, (int) Math.min(buffer.length, left));
                if (n < 0) {
                    throw new LifeboatException(ErrorKind.CORRUPT, archive + " ends inside " + name + " (" + left
                            + " of " + size + " bytes missing)", "the backup is damaged; restore another one");
                }
                ByteBuffer bb = ByteBuffer.wrap(buffer, 0, n);
                try {
                    while (bb.hasRemaining()) {
                        ch.write(bb);
                    }
                } catch (IOException ex) {
                    throw LocalWrite.failed(target, ex);
                }
                left -= n;
                bytes += n;
                written.accept((long) n);
            }
        } catch (IOException | RuntimeException e) {
            try {
                ch.close();
            } catch (IOException ignored) {
                // failing anyway
            }
            throw e;
        }
        LocalWrite.run(target, ch::close); // a network filesystem may report a failed write only here
        // Permissions at creation are subject to the umask: set them exactly.
        LocalWrite.run(target, () -> {
            Files.setPosixFilePermissions(target, filePermissions(mode));
            owner.apply(target);
        });
    }

    private void ensureParent(Path target) throws IOException {
        Path parent = target.getParent();
        if (knownDirs.contains(parent)) {
            return;
        }
        if (!Files.isDirectory(parent, LinkOption.NOFOLLOW_LINKS)) {
            ensureParent(parent);
            LocalWrite.run(parent, () -> {
                Files.createDirectory(parent, PosixFilePermissions.asFileAttribute(dirPermissions(0700)));
                owner.apply(parent);
            });
        }
        knownDirs.add(parent);
    }

    static String normalize(String raw, String archive) {
        String n = raw;
        while (n.startsWith("./")) {
            n = n.substring(2);
        }
        while (n.endsWith("/")) {
            n = n.substring(0, n.length() - 1);
        }
        if (n.equals(".")) {
            return "";
        }
        if (n.startsWith("/") || n.contains("\0")) {
            throw unsafe(raw, archive);
        }
        for (String part : n.split("/")) {
            if (part.equals("..")) {
                throw unsafe(raw, archive);
            }
        }
        return n;
    }

    private Path resolve(String name, String archive) {
        Path p = root.resolve(name).normalize();
        if (!p.startsWith(root) || p.equals(root)) {
            throw unsafe(name, archive);
        }
        for (Path q = p.getParent(); q != null && !q.equals(root); q = q.getParent()) {
            if (links.contains(q)) {
                throw unsafe(name, archive);
            }
        }
        return p;
    }

    private static LifeboatException unsafe(String name, String archive) {
        return new LifeboatException(ErrorKind.CORRUPT, archive + " holds an entry '" + name
                + "' that would be written outside the target directory", "the backup is damaged or forged; do not use it");
    }

    static Set<PosixFilePermission> dirPermissions(int mode) {
        return PosixFilePermissions.fromString(rwx((mode & 0750) | 0700));
    }

    static Set<PosixFilePermission> filePermissions(int mode) {
        return PosixFilePermissions.fromString(rwx((mode & 0750) | 0600));
    }

    private static String rwx(int mode) {
        StringBuilder sb = new StringBuilder(9);
        String letters = "rwxrwxrwx";
        for (int i = 0; i < 9; i++) {
            sb.append((mode & (1 << (8 - i))) != 0 ? letters.charAt(i) : '-');
        }
        return sb.toString();
    }

    long files() {
        return files;
    }

    long bytes() {
        return bytes;
    }

    /** Entries that are neither files, directories nor symbolic links (none in what PostgreSQL writes). */
    List<String> skipped() {
        return skipped;
    }
}
