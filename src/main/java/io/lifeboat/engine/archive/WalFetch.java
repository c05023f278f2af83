package io.lifeboat.engine.archive;

import io.lifeboat.LifeboatException;
import io.lifeboat.engine.Parallel;
import io.lifeboat.postgres.ScratchCluster;
import io.lifeboat.postgres.WalFileName;
import io.lifeboat.postgres.WalSegmentName;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * restore_command: serves a WAL file from the prefetch spool (pg_wal/.lifeboat/prefetch, filled
 * with verified files by the recovery's {@link WalPrefetcher}) or straight from the archive, always
 * by atomic rename so PostgreSQL never reads a partial or unverified file.
 */
public final class WalFetch {
    private final WalArchive archive;

    public WalFetch(WalArchive archive) {
        this.archive = archive;
    }

    static Path cacheDir(Path pgWal) {
        return WalPrefetcher.spoolOf(pgWal);
    }

    /** @return false when the archive does not have the file (PostgreSQL's end-of-archive signal) */
    public boolean run(WalFileName name, Path target) throws IOException {
        Path cached = cacheDir(target.toAbsolutePath().getParent()).resolve(name.name());
        if (Files.isRegularFile(cached)) {
            Files.move(cached, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return true;
        }
        return archive.fetch(name, target);
    }

    /**
     * Whether a prefetcher started for this pg_wal still has work: its server runs (postmaster.pid
     * names a live process: a crashed server leaves the file behind) and is in recovery
     * (recovery.signal or standby.signal, which PostgreSQL removes when it promotes). A prefetcher
     * started near the end of recovery, or after its restore failed, exits.
     */
    public static boolean recoveryGoesOn(Path pgWal) {
        Path dataDir = pgWal.toAbsolutePath().getParent();
        return dataDir != null && Files.isDirectory(pgWal) && postmasterRuns(dataDir.resolve("postmaster.pid"))
                && (Files.exists(dataDir.resolve("recovery.signal")) || Files.exists(dataDir.resolve("standby.signal")));
    }

    /** Whether the pid file exists and its first line is not the pid of a process that is gone. */
    static boolean postmasterRuns(Path pidFile) {
        String first;
        try (java.io.BufferedReader r = Files.newBufferedReader(pidFile, java.nio.charset.StandardCharsets.US_ASCII)) {
            first = r.readLine();
        } catch (java.nio.file.NoSuchFileException e) {
            return false;
        } catch (IOException e) {
            return Files.exists(pidFile); // unreadable: trust that it is there
        }
        try {
            return ProcessHandle.of(Long.parseLong(first == null ? "" : first.trim())).isPresent();
        } catch (NumberFormatException e) {
            return true; // being written by a starting server
        }
    }

    /**
     * Ends every prefetcher of this pg_wal (they run detached, as the server's user, started by
     * restore_command calls): what a restore or drill does when it ends, however it ends, so that
     * none of its processes stays behind or writes into a directory that was removed. Looks until
     * none has turned up for a moment, since one may be starting.
     *
     * @return how many processes were ended
     */
    public static int stopPrefetchers(Path pgWal) {
        Set<String> where = new HashSet<>();
        Path abs = pgWal.toAbsolutePath().normalize();
        where.add(abs.toString());
        try {
            where.add(abs.toRealPath().toString());
        } catch (IOException e) {
            // gone already: its name as given is all there is to match
        }
        Set<Long> ended = new HashSet<>();
        long quietSince = System.nanoTime();
        long deadline = quietSince + 10_000_000_000L;
        while (System.nanoTime() - quietSince < 300_000_000L && System.nanoTime() < deadline) {
            List<ProcessHandle> found = ProcessHandle.allProcesses().filter(p -> prefetcherOf(p, where)).toList();
            if (!found.isEmpty()) {
                quietSince = System.nanoTime();
                found.forEach(ProcessHandle::destroy);
                for (ProcessHandle p : found) {
                    try {
                        p.onExit().get(2, java.util.concurrent.TimeUnit.SECONDS);
                    } catch (java.util.concurrent.TimeoutException e) {
                        p.destroyForcibly();
                    } catch (java.util.concurrent.ExecutionException e) {
                        // gone
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        p.destroyForcibly();
                    }
                    ended.add(p.pid());
                }
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return ended.size();
    }

    /** Removes the prefetch cache once recovery is over: what is left in it is never asked for. */
    public static void dropCache(Path pgWal) {
        ScratchCluster.deleteTree(cacheDir(pgWal.toAbsolutePath()));
    }

    /** A `lifeboat wal-prefetch ... PG_WAL` process (or the launcher or setsid about to become one) for this pg_wal. */
    private static boolean prefetcherOf(ProcessHandle p, Set<String> pgWal) {
        if (p.pid() == ProcessHandle.current().pid()) {
            return false;
        }
        String[] args = p.info().arguments().orElse(null);
        if (args == null) {
            return false;
        }
        boolean prefetch = false;
        boolean here = false;
        for (String a : args) {
            prefetch |= a.equals("wal-prefetch");
            here |= pgWal.contains(a);
        }
        return prefetch && here;
    }
}
