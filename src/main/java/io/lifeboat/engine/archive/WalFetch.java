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
 * restore_command: serves a WAL file from the prefetch cache (pg_wal/.lifeboat/prefetch, filled
 * with verified files by a background prefetcher) or straight from the archive, always by atomic
 * rename so PostgreSQL never reads a partial or unverified file.
 */
public final class WalFetch {
    private final WalArchive archive;

    public WalFetch(WalArchive archive) {
        this.archive = archive;
    }

    static final String PID = ".pid";
    static final String WANT = ".want-";
    static final String MISSING = ".missing-";

    static Path cacheDir(Path pgWal) {
        return pgWal.resolve(".lifeboat").resolve("prefetch");
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
     * Downloads the segments after {@code served} into the cache, {@code count} ahead, in parallel;
     * stops at the first one the archive lacks. One prefetcher at a time (a lock file).
     */
    public int prefetch(WalFileName served, Path pgWal, int count, int jobs) throws IOException {
        if (served.kind() != WalFileName.Kind.SEGMENT) {
            return 0;
        }
        return prefetchFrom(served.segment().next(), pgWal, count, jobs);
    }

    /**
     * Downloads {@code first} and the {@code count - 1} segments after it into the cache (see
     * {@link #prefetch}). A restore calls this before it starts the server, so recovery finds its
     * first segments waiting instead of starting a JVM for each.
     */
    public int prefetchFrom(WalSegmentName first, Path pgWal, int count, int jobs) throws IOException {
        Path cache = cacheDir(pgWal);
        if (!openCache(cache)) {
            return 0; // the data directory is gone (a failed restore was removed): never bring it back
        }
        try (FileChannel lockFile = FileChannel.open(cache.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock lock = lockFile.tryLock()) {
            if (lock == null) {
                return 0; // another prefetcher is at work
            }
            dropBefore(cache, first);
            // For the launcher: which process prefetches (its pid) and which segments are on their
            // way (.want-NAME), so a restore_command call for one of those waits instead of
            // starting a JVM to download the same segment again.
            Path pidFile = cache.resolve(PID);
            Files.writeString(pidFile, Long.toString(ProcessHandle.current().pid()));
            Files.deleteIfExists(cache.resolve(".starting"));
            try (Stream<Path> old = Files.list(cache)) {
                old.filter(p -> p.getFileName().toString().startsWith(WANT) || p.getFileName().toString().startsWith(MISSING))
                        .forEach(p -> p.toFile().delete());
            }
            List<WalSegmentName> wanted = new ArrayList<>();
            WalSegmentName next = first;
            for (int i = 0; i < count; i++, next = next.next()) {
                if (!Files.exists(cache.resolve(next.toString()))) {
                    wanted.add(next);
                }
            }
            for (WalSegmentName s : wanted) {
                Files.deleteIfExists(cache.resolve(WANT + s));
                Files.createFile(cache.resolve(WANT + s));
            }
            List<Parallel.Task<Boolean>> tasks = new ArrayList<>();
            for (WalSegmentName s : wanted) {
                tasks.add(() -> {
                    if (!Files.isDirectory(cache)) {
                        return null; // removed meanwhile: stop
                    }
                    try {
                        // A partial copy is served only by restore_command itself, which checks that it is
                        // still the end of the archive when recovery asks; held back, it is not "missing" either.
                        WalArchive.Fetched f = archive.fetch(WalFileName.parse(s.toString()), cache.resolve(s.toString()), false);
                        return f == WalArchive.Fetched.PARTIAL_HELD_BACK ? null : f == WalArchive.Fetched.SEGMENT;
                    } catch (LifeboatException e) {
                        return null; // the real fetch will report it
                    } finally {
                        Files.deleteIfExists(cache.resolve(WANT + s));
                    }
                });
            }
            try {
                List<Boolean> got = Parallel.run(jobs, tasks);
                noteMissing(cache, wanted, got, first);
                return (int) got.stream().filter(Boolean.TRUE::equals).count();
            } finally {
                Files.deleteIfExists(pidFile);
            }
        }
    }

    /**
     * Leaves .missing-NAME (with the time) for the first wanted segment the archive lacks, and for
     * the next timeline's history file when the archive has none: the end of the archive, and what
     * PostgreSQL probes for before it picks a timeline. The launcher answers "not in the archive"
     * from these for a few seconds, instead of a JVM start to find out again.
     */
    private void noteMissing(Path cache, List<WalSegmentName> wanted, List<Boolean> got, WalSegmentName first) {
        List<String> missing = new ArrayList<>();
        for (int i = 0; i < wanted.size(); i++) {
            if (Boolean.FALSE.equals(got.get(i))) {
                missing.add(wanted.get(i).toString());
                break;
            }
        }
        String history = String.format("%08X.history", first.timeline().value() + 1);
        try {
            if (archive.find(WalFileName.parse(history)).isEmpty()) {
                missing.add(history);
            }
        } catch (IOException | LifeboatException e) {
            // unknown: leave it to the real fetch
        }
        String now = Long.toString(System.currentTimeMillis() / 1000);
        for (String name : missing) {
            try {
                Files.writeString(cache.resolve(MISSING + name), now + "\n");
            } catch (IOException ignored) {
                // only a shortcut
            }
        }
    }

    /**
     * Creates the cache below an existing pg_wal, one level at a time, so that a pg_wal (or data
     * directory) removed meanwhile is never created again; false when it is gone.
     */
    private static boolean openCache(Path cache) throws IOException {
        for (Path p : List.of(cache.getParent(), cache)) {
            try {
                Files.createDirectory(p);
            } catch (java.nio.file.FileAlreadyExistsException e) {
                // there already
            } catch (java.nio.file.NoSuchFileException e) {
                return false;
            }
        }
        return Files.isDirectory(cache);
    }

    /**
     * Whether a prefetcher started for this pg_wal still has work: its server runs (postmaster.pid)
     * and is in recovery (recovery.signal or standby.signal, which PostgreSQL removes when it
     * promotes). A prefetcher started near the end of recovery, or after its restore failed, exits.
     */
    public static boolean recoveryGoesOn(Path pgWal) {
        Path dataDir = pgWal.toAbsolutePath().getParent();
        return dataDir != null && Files.isDirectory(pgWal) && Files.exists(dataDir.resolve("postmaster.pid"))
                && (Files.exists(dataDir.resolve("recovery.signal")) || Files.exists(dataDir.resolve("standby.signal")));
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

    /** Cached segments before the first wanted (up to the one just served) are not asked for again. */
    private static void dropBefore(Path cache, WalSegmentName first) throws IOException {
        try (Stream<Path> s = Files.list(cache)) {
            s.filter(p -> {
                String n = p.getFileName().toString();
                return WalSegmentName.looksLikeSegment(n) && WalSegmentName.parse(n).compareTo(first) < 0;
            }).forEach(p -> p.toFile().delete());
        }
    }
}
