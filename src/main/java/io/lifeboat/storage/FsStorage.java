package io.lifeboat.storage;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * A repository on a mounted filesystem (meant for NFS/CIFS/sshfs mounts: the off-server guard
 * refuses local disks of the database host). Writes go to a hidden temporary file that is fsynced
 * and renamed into place, so a crash never leaves a partial object under its final name.
 */
public final class FsStorage implements Storage {
    static final String TEMP_MARK = ".lifeboat-tmp-";
    /** Who writes a temporary file, in its name: host~pid~process start (ms)~, so a dead writer's can be told. */
    private static final String OWNER = ownerTag();
    private final Path root;
    private final Retry retry;

    public FsStorage(Path root) {
        this(root, Timeouts.DEFAULT.retry());
    }

    /** @param retryTime how long a read that fails (a network filesystem's I/O error) is retried */
    public FsStorage(Path root, java.time.Duration retryTime) {
        this.root = root.toAbsolutePath().normalize();
        this.retry = new Retry(retryTime);
    }

    public Path root() {
        return root;
    }

    @Override
    public String describe() {
        return "file://" + root;
    }

    private Path path(String key) {
        return root.resolve(Keys.check(key));
    }

    @Override
    public ObjectWriter create(String key) throws IOException {
        Path target = path(key);
        Files.createDirectories(target.getParent());
        Path temp = target.resolveSibling(TEMP_MARK + OWNER + target.getFileName() + "." + UUID.randomUUID());
        FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        OutputStream out = java.nio.channels.Channels.newOutputStream(channel);
        return new ObjectWriter() {
            private boolean done;

            @Override
            public void write(int b) throws IOException {
                try {
                    out.write(b);
                } catch (IOException e) {
                    throw writeFailed(key, e);
                }
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                try {
                    out.write(b, off, len);
                } catch (IOException e) {
                    throw writeFailed(key, e);
                }
            }

            @Override
            public long commit() throws IOException {
                if (done) {
                    throw new IllegalStateException("writer for " + key + " already finished");
                }
                long size;
                try {
                    channel.force(true); // a network filesystem may report a full disk only here
                    size = channel.size();
                    channel.close();
                } catch (IOException e) {
                    throw writeFailed(key, e);
                }
                try {
                    Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
                }
                syncDirectory(target.getParent());
                done = true;
                return size;
            }

            @Override
            public void abort() {
                if (done) {
                    return;
                }
                done = true;
                try {
                    channel.close();
                    Files.deleteIfExists(temp);
                } catch (IOException ignored) {
                    // best effort: a leftover temp file is invisible to list() and harmless
                }
            }
        };
    }

    private static String ownerTag() {
        String host;
        try {
            host = Files.readString(Path.of("/proc/sys/kernel/hostname")).trim(); // no name lookup on every start
        } catch (IOException | RuntimeException e) {
            host = "unknown";
        }
        ProcessHandle self = ProcessHandle.current();
        long started = self.info().startInstant().map(java.time.Instant::toEpochMilli).orElse(0L);
        return host.replaceAll("[^A-Za-z0-9-]", "-") + "~" + self.pid() + "~" + started + "~";
    }

    /**
     * Removes the temporary files of writers that died before they committed: those this host's
     * process named in them is gone (no process with that pid, or one that started at another
     * time), and any other (another host's, or of an older Lifeboat that did not name its writer)
     * not written to for {@code idle}: a live writer keeps moving its file's mtime.
     */
    @Override
    public int removeAbandonedWrites(String prefix, java.time.Duration idle) throws IOException {
        int slash = prefix.lastIndexOf('/');
        Path start = slash < 0 ? root : root.resolve(prefix.substring(0, slash));
        if (!Files.isDirectory(start)) {
            return 0;
        }
        String host = OWNER.substring(0, OWNER.indexOf('~') + 1);
        long cutoff = System.currentTimeMillis() - idle.toMillis();
        List<Path> abandoned = new ArrayList<>();
        Files.walkFileTree(start, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                String name = file.getFileName().toString();
                if (!attrs.isRegularFile() || !name.startsWith(TEMP_MARK)
                        || !root.relativize(file).toString().replace('\\', '/').startsWith(prefix.substring(0, slash + 1))) {
                    return FileVisitResult.CONTINUE;
                }
                String rest = name.substring(TEMP_MARK.length());
                if (rest.startsWith(host) ? !writerAlive(rest.substring(host.length()))
                        : attrs.lastModifiedTime().toMillis() < cutoff) {
                    abandoned.add(file);
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException exc) throws IOException {
                if (exc instanceof NoSuchFileException) {
                    return FileVisitResult.CONTINUE;
                }
                throw exc;
            }
        });
        int n = 0;
        for (Path p : abandoned) {
            if (Files.deleteIfExists(p)) {
                n++;
            }
        }
        return n;
    }

    /** "pid~start~..." of a writer on this host: whether that very process still runs (unparsable: assumed alive). */
    static boolean writerAlive(String pidAndStart) {
        String[] f = pidAndStart.split("~", 3);
        if (f.length < 3) {
            return true;
        }
        long pid;
        long started;
        try {
            pid = Long.parseLong(f[0]);
            started = Long.parseLong(f[1]);
        } catch (NumberFormatException e) {
            return true;
        }
        Optional<ProcessHandle> p = ProcessHandle.of(pid);
        if (p.isEmpty() || !p.get().isAlive()) {
            return false;
        }
        long now = p.get().info().startInstant().map(java.time.Instant::toEpochMilli).orElse(started);
        return Math.abs(now - started) < 2000; // another process under a reused pid started at another time
    }

    /** A write that failed: the repository's fault (a full disk says so), naming the object. */
    private LifeboatException writeFailed(String key, IOException e) {
        boolean full = String.valueOf(e.getMessage()).contains("No space left") || String.valueOf(e.getMessage())
                .contains("Disk quota exceeded");
        return new LifeboatException(ErrorKind.STORAGE, "cannot write object '" + key + "' in " + describe() + ": "
                + e.getMessage(), full ? "the repository's file system is full: free space there (lifeboat expire, "
                + "delete) or give it more, then run the command again; what this command stored so far was not made "
                + "complete" : "check the repository's file system (mounted, writable)", e);
    }

    private static void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException ignored) {
            // some network filesystems refuse to open directories; the rename is still durable there
        }
    }

    /**
     * A file that is not there is "not in the repository" only while the repository's directory
     * itself is there: an unmounted or vanished filesystem is a STORAGE error, never "missing".
     */
    private void provePresent() {
        if (!Files.isDirectory(root)) {
            throw new LifeboatException(ErrorKind.STORAGE, "repository directory " + root + " does not exist",
                    "is the network filesystem mounted? Mount it (or create the directory) and try again");
        }
    }

    @Override
    public InputStream read(String key, long offset) throws IOException {
        Path p = path(key);
        return new ResumingInputStream(key, describe(), offset, (from, version) -> {
            FileChannel ch;
            String before;
            try {
                before = identity(p);
                ch = FileChannel.open(p, StandardOpenOption.READ);
            } catch (NoSuchFileException e) {
                provePresent();
                throw new LifeboatException(ErrorKind.NOT_FOUND, "object '" + key + "' not found in " + describe());
            } catch (java.nio.file.AccessDeniedException e) {
                throw new LifeboatException(ErrorKind.STORAGE, "cannot read " + p + ": permission denied",
                        "check ownership and permissions in the repository directory", e);
            } catch (IOException e) {
                throw new TransientFailure("cannot open " + p + ": " + e.getMessage(), e);
            }
            try {
                // The same file before and after opening: the channel is that file, not one renamed over it meanwhile.
                if (!before.equals(identity(p))) {
                    throw new TransientFailure(p + " was replaced while it was opened");
                }
                ch.position(from);
                return new ResumingInputStream.Body(java.nio.channels.Channels.newInputStream(ch), from, ch.size(), before);
            } catch (IOException e) {
                ch.close();
                throw e instanceof TransientFailure t ? t : new TransientFailure("cannot read " + p + ": " + e.getMessage(), e);
            }
        }, retry);
    }

    /** What tells one file from another under the same name (a replaced object is written elsewhere and renamed in). */
    private static String identity(Path p) throws IOException {
        BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
        return a.fileKey() + "/" + a.size() + "/" + a.lastModifiedTime().toMillis();
    }

    @Override
    public Optional<ObjectInfo> stat(String key) throws IOException {
        Path p = path(key);
        try {
            BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
            if (!a.isRegularFile()) {
                return Optional.empty();
            }
            return Optional.of(new ObjectInfo(key, a.size(), a.lastModifiedTime().toInstant()));
        } catch (NoSuchFileException e) {
            provePresent();
            return Optional.empty();
        }
    }

    @Override
    public List<ObjectInfo> list(String prefix) throws IOException {
        // Walk only the deepest directory the prefix names completely.
        int slash = prefix.lastIndexOf('/');
        Path start = slash < 0 ? root : root.resolve(prefix.substring(0, slash));
        List<ObjectInfo> result = new ArrayList<>();
        if (!Files.isDirectory(start)) {
            provePresent();
            return result;
        }
        Files.walkFileTree(start, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                if (attrs.isRegularFile() && !file.getFileName().toString().startsWith(TEMP_MARK)) {
                    String key = root.relativize(file).toString().replace('\\', '/');
                    if (key.startsWith(prefix)) {
                        result.add(new ObjectInfo(key, attrs.size(), attrs.lastModifiedTime().toInstant()));
                    }
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException exc) throws IOException {
                if (exc instanceof NoSuchFileException) {
                    return FileVisitResult.CONTINUE; // deleted while we walked
                }
                throw exc;
            }
        });
        result.sort(Comparator.comparing(ObjectInfo::key));
        return result;
    }

    @Override
    public void delete(String key) throws IOException {
        Path p = path(key);
        Files.deleteIfExists(p);
        // Remove directories left empty, up to the root, so deleted backups leave no litter.
        Path dir = p.getParent();
        while (dir != null && dir.startsWith(root) && !dir.equals(root)) {
            try {
                Files.delete(dir);
            } catch (IOException e) {
                break; // not empty, or gone
            }
            dir = dir.getParent();
        }
    }

    @Override
    public void probe() throws IOException {
        if (!Files.isDirectory(root)) {
            throw new LifeboatException(ErrorKind.STORAGE, "repository directory " + root + " does not exist",
                    "create it (and mount the network filesystem there) before using it");
        }
        if (!Files.isWritable(root)) {
            throw new LifeboatException(ErrorKind.STORAGE, "repository directory " + root + " is not writable",
                    "check ownership and permissions of the directory");
        }
    }
}
