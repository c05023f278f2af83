package io.lifeboat.engine;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.postgres.ScratchCluster;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * A private local staging directory (pg_dump -Fd writes a directory, pg_restore -Fd reads one). It
 * is created 0700 because it holds the data in the clear, checked for free space first, and always
 * deleted afterwards.
 */
public final class Spool implements AutoCloseable {
    private static final long SLACK = 64L * 1024 * 1024;
    private final Path dir;
    private final Thread cleanupOnExit;

    private Spool(Path dir) {
        this.dir = dir;
        // The spool holds data in the clear: remove it even when the process is stopped by a signal.
        this.cleanupOnExit = new Thread(() -> ScratchCluster.deleteTree(dir), "spool-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanupOnExit);
    }

    /**
     * @param neededBytes an estimate of what will be written; refused if the filesystem has less free
     *                    (negative: skip the check)
     */
    public static Spool create(Path parent, String name, long neededBytes) {
        try {
            Files.createDirectories(parent);
            long free = Files.getFileStore(parent).getUsableSpace();
            if (neededBytes >= 0 && free < neededBytes + SLACK) {
                throw new LifeboatException(ErrorKind.RESOURCE, "spool directory " + parent + " has " + human(free)
                        + " free, but about " + human(neededBytes + SLACK) + " are needed",
                        "free space there, or point spool-directory (--spool-directory, LIFEBOAT_SPOOL_DIRECTORY) at a "
                                + "larger filesystem");
            }
            Path dir = parent.resolve(name);
            ScratchCluster.deleteTree(dir);
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            return new Spool(dir);
        } catch (IOException e) {
            throw new LifeboatException(ErrorKind.RESOURCE, "cannot create spool directory under " + parent + ": " + e,
                    "check that the spool directory is writable", e);
        }
    }

    public Path dir() {
        return dir;
    }

    @Override
    public void close() {
        ScratchCluster.deleteTree(dir);
        try {
            Runtime.getRuntime().removeShutdownHook(cleanupOnExit);
        } catch (IllegalStateException ignored) {
            // already shutting down: the hook does the same
        }
    }

    public static String human(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(java.util.Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
