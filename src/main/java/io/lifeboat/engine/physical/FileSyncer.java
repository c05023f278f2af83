package io.lifeboat.engine.physical;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

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
            List<Path> dirs;
            try (Stream<Path> walk = Files.walk(root)) {
                dirs = walk.filter(p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS))
                        .sorted(Comparator.comparingInt(Path::getNameCount).reversed()).toList();
            } catch (IOException e) {
                throw failed(root, e);
            }
            dirs.forEach(FileSyncer::force);
            if (root.getParent() != null) {
                force(root.getParent());
            }
        }
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
