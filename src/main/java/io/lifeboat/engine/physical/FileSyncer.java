package io.lifeboat.engine.physical;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.engine.archive.PushState;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Makes a restore durable, as pg_basebackup and pgBackRest do: every restored file is flushed to
 * disk (fsync) on background threads as soon as it is complete, so the disk writes back while the
 * restore goes on; {@link #finish} waits for them, then flushes every directory of the restored
 * trees, so that the new names survive a crash too. Without this, a machine that crashes after
 * "restore complete" but before the kernel wrote its cache back leaves files short or empty, and
 * PostgreSQL would start on a silently damaged cluster.
 */
final class FileSyncer implements AutoCloseable {
    private final boolean enabled;
    private final ExecutorService pool;
    private final List<Future<?>> pending = new ArrayList<>();
    private final java.util.Set<String> removed = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** @param enabled false for scratch restores (drills): then nothing is flushed */
    FileSyncer(boolean enabled) {
        this.enabled = enabled;
        this.pool = enabled ? Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "lifeboat-fsync");
            t.setDaemon(true);
            return t;
        }) : null;
    }

    /** Queues a complete regular file to be flushed. */
    void file(Path p) {
        if (!enabled) {
            return;
        }
        synchronized (pending) {
            pending.add(pool.submit(() -> {
                force(p);
                return null;
            }));
        }
    }

    /**
     * The restore removed a file it had queued (standby.signal of a standby's backup, for a standalone
     * copy): its flush, if it comes after the removal, finds nothing and that is no failure (the
     * directory's flush records the removal).
     */
    void removed(Path p) {
        removed.add(p.toString());
    }

    /**
     * Waits for the queued files, then flushes every directory under each root, deepest first, and
     * the roots' parents (a root may be new). Symbolic links are not followed: tablespaces are roots.
     */
    void finish(List<Path> roots) {
        if (!enabled) {
            return;
        }
        List<Future<?>> all;
        synchronized (pending) {
            all = List.copyOf(pending);
        }
        for (Future<?> f : all) {
            try {
                f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new LifeboatException(ErrorKind.INTERRUPTED, "interrupted while flushing the restored files to disk");
            } catch (ExecutionException e) {
                if (e.getCause() instanceof LifeboatException le && le.getCause() instanceof java.nio.file.NoSuchFileException gone
                        && removed.contains(gone.getFile())) {
                    continue;
                }
                throw e.getCause() instanceof LifeboatException le ? le
                        : new LifeboatException(ErrorKind.GENERAL, String.valueOf(e.getCause()), null, e.getCause());
            }
        }
        for (Path root : roots) {
            List<Path> dirs = new ArrayList<>();
            try {
                Files.walkFileTree(root, new SimpleFileVisitor<>() {
                    @Override
                    public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                        if (isPrefetchSpool(dir)) {
                            return FileVisitResult.SKIP_SUBTREE;
                        }
                        dirs.add(dir);
                        return FileVisitResult.CONTINUE;
                    }
                });
            } catch (IOException e) {
                throw failed(root, e);
            }
            dirs.sort(Comparator.comparingInt(Path::getNameCount).reversed());
            dirs.forEach(FileSyncer::force);
            if (root.getParent() != null) {
                force(root.getParent());
            }
        }
    }

    /**
     * pg_wal/.lifeboat: the WAL prefetch's spool (and wal-push's state), not restored content. The
     * restore's prefetcher downloads into it while the restore flushes, so its temporary files and
     * directories come and go under the walk (which then failed the whole restore with "I/O error:
     * NoSuchFileException .incoming/.lifeboat-fetch-….tmp"); each file there is flushed by its writer.
     */
    private static boolean isPrefetchSpool(Path dir) {
        Path name = dir.getFileName();
        Path parent = dir.getParent();
        return name != null && name.toString().equals(PushState.OWN_DIRECTORY) && parent != null && parent.getFileName() != null
                && parent.getFileName().toString().equals("pg_wal");
    }

    /** Flushes one file or directory now (after {@link #finish}: what is written last). */
    void now(Path p) {
        if (enabled) {
            force(p);
        }
    }

    private static void force(Path p) {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            throw failed(p, e);
        }
    }

    private static LifeboatException failed(Path p, IOException e) {
        return new LifeboatException(ErrorKind.RESOURCE, "cannot flush " + p + " to disk: " + e.getMessage(),
                "check the disk (dmesg, free space); the restored copy was not made durable and has been removed", e);
    }

    @Override
    public void close() {
        if (pool != null) {
            pool.shutdownNow();
        }
    }
}
