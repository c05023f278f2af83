package io.lifeboat.engine;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.postgres.ScratchCluster;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * A private local staging directory (pg_dump -Fd writes a directory, pg_restore -Fd reads one). It
 * is created 0700 because it holds the data in the clear, checked for free space first, and always
 * deleted afterwards.
 *
 * <p>A run killed with -9 runs no clean-up, so each spool names its owner in {@value #OWNER_FILE}
 * (pid and the process's start time, which tells a reused pid apart), and every new spool first
 * removes those under the same parent whose owner is gone. A spool whose owner still runs, or
 * that names none (being created, or not ours), is never touched.
 */
public final class Spool implements AutoCloseable {
    private static final long SLACK = 64L * 1024 * 1024;
    static final String OWNER_FILE = ".lifeboat-spool-owner";
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
        return create(parent, name, neededBytes, m -> { });
    }

    /** As {@link #create(Path, String, long)}; {@code log} hears of dead runs' spools removed first. */
    public static Spool create(Path parent, String name, long neededBytes, Consumer<String> log) {
        try {
            Files.createDirectories(parent);
            removeStale(parent, log);
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
            Spool spool = new Spool(dir);
            Files.writeString(dir.resolve(OWNER_FILE), owner(ProcessHandle.current()).orElse("unknown") + "\n");
            return spool;
        } catch (IOException e) {
            throw new LifeboatException(ErrorKind.RESOURCE, "cannot create spool directory under " + parent + ": " + e,
                    "check that the spool directory is writable", e);
        }
    }

    /** "pid start-millis" of a live process, the owner line of its spools; empty when its start time is unknown. */
    static Optional<String> owner(ProcessHandle p) {
        return p.info().startInstant().map(t -> p.pid() + " " + t.toEpochMilli());
    }

    /** Removes the spools under {@code parent} whose owner file names a process that no longer runs. */
    static void removeStale(Path parent, Consumer<String> log) {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(parent)) {
            for (Path d : ds) {
                Path ownerFile = d.resolve(OWNER_FILE);
                if (!Files.isRegularFile(ownerFile)) {
                    continue;
                }
                String recorded = Files.readString(ownerFile, StandardCharsets.UTF_8).strip();
                if (ownerGone(recorded)) {
                    ScratchCluster.deleteTree(d);
                    log.accept("removed the spool of an earlier run that ended without cleaning up (process "
                            + recorded.split(" ")[0] + "): " + d);
                }
            }
        } catch (IOException | RuntimeException e) {
            // only housekeeping: a spool we cannot inspect stays
        }
    }

    /** True only when the owner line is well formed and no process with that pid and start time runs. */
    static boolean ownerGone(String recorded) {
        String[] f = recorded.split(" ");
        if (f.length != 2 || !f[0].matches("[0-9]{1,10}") || !f[1].matches("[0-9]{1,19}")) {
            return false;
        }
        Optional<ProcessHandle> p = ProcessHandle.of(Long.parseLong(f[0]));
        if (p.isEmpty() || !p.get().isAlive()) {
            return true;
        }
        Optional<String> now = owner(p.get());
        // the same pid with another start time is another process; unknown start time: assume it is ours
        return now.isPresent() && !now.get().equals(recorded);
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
