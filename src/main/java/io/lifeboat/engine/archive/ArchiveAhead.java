package io.lifeboat.engine.archive;

import io.lifeboat.LifeboatException;
import io.lifeboat.engine.Parallel;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Archives WAL ahead of PostgreSQL's archive_command calls: a background process (one per data
 * directory) that watches archive_status for .ready files, stores each (checked, as wal-push does)
 * and leaves a marker, so the archive_command call for it is answered by the launcher without
 * starting a JVM. It exits when nothing was waiting for a while, or when the server is gone.
 * Nothing here decides what PostgreSQL may recycle: only an archive_command exit 0 does, and the
 * launcher gives that only for a file whose checksum matches a marker written after the upload.
 */
public final class ArchiveAhead {
    static final String LOCK = "ahead.lock";
    static final String PID = "ahead.pid";
    static final String LOG = "ahead.log";
    private static final long POLL_MILLIS = 200;
    private static final long MAX_BACKOFF_MILLIS = 30_000;

    private final WalArchive archive;
    private final Path pgWal;
    private final Path stateDir;
    private final Consumer<String> log;

    /** @param stateDir the archive_command's state directory in pg_wal ({@link PushState}) */
    public ArchiveAhead(WalArchive archive, Path pgWal, Path stateDir, Consumer<String> log) {
        this.archive = archive;
        this.pgWal = pgWal.toAbsolutePath();
        this.stateDir = stateDir;
        this.log = log;
    }

    /** Whether an archive-ahead process holds the lock of this state directory. */
    public static boolean running(Path stateDir) {
        return LockFile.held(stateDir.resolve(LOCK), true);
    }

    /**
     * The lock and pid file of this state directory's archive-ahead process, held until closed. Taken
     * first thing, before the configuration is read and the repository opened, so that the launcher's
     * calls see the process as running (and wait for its markers) while it starts up.
     */
    public static final class Claim implements AutoCloseable {
        private final FileChannel channel;
        private final FileLock lock;
        private final Path pidFile;

        private Claim(FileChannel channel, FileLock lock, Path pidFile) {
            this.channel = channel;
            this.lock = lock;
            this.pidFile = pidFile;
        }

        @Override
        public void close() throws IOException {
            try (channel) {
                Files.deleteIfExists(pidFile);
                lock.release();
            }
        }
    }

    /** Takes this state directory's lock; empty when another process holds it (and removes ahead.starting itself). */
    public static java.util.Optional<Claim> claim(Path stateDir) throws IOException {
        Path state = Files.createDirectories(stateDir);
        FileChannel ch = FileChannel.open(state.resolve(LOCK), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = ch.tryLock();
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
        if (lock == null) {
            ch.close();
            return java.util.Optional.empty();
        }
        Path pidFile = state.resolve(PID);
        Files.writeString(pidFile, Long.toString(ProcessHandle.current().pid()));
        Files.deleteIfExists(state.resolve("ahead.starting"));
        return java.util.Optional.of(new Claim(ch, lock, pidFile));
    }

    /**
     * Runs until idle for {@code idle} or the server stops; the caller holds the {@link #claim}.
     *
     * @return how many files it archived
     */
    public int run(Duration idle, int jobs) throws IOException {
        Path state = Files.createDirectories(stateDir);
        Path dataDir = pgWal.getParent();
        ArchiveMarkers markers = new ArchiveMarkers(state);
        int total = 0;
        long idleSince = System.nanoTime();
        long backoff = POLL_MILLIS;
        // inotify: an idle server costs this process nothing but a wake-up a second.
        try (WatchService watcher = pgWal.getFileSystem().newWatchService()) {
            pgWal.resolve("archive_status").register(watcher, StandardWatchEventKinds.ENTRY_CREATE);
            while (Files.isDirectory(pgWal) && (dataDir == null || Files.exists(dataDir.resolve("postmaster.pid")))) {
                List<Path> todo = markers.unrecorded(WalPush.waiting(pgWal, null, 64));
                if (todo.isEmpty()) {
                    if (System.nanoTime() - idleSince > idle.toNanos()) {
                        break;
                    }
                    if (!await(watcher)) {
                        break;
                    }
                    continue;
                }
                long cpuBefore = cpuMillis();
                int done = push(todo, markers, jobs);
                total += done;
                journal(state, done, cpuMillis() - cpuBefore);
                if (done < todo.size()) {
                    // The repository is failing: archive_command reports it to PostgreSQL, which
                    // retries; here we only back off, and leave if it keeps failing.
                    if (System.nanoTime() - idleSince > idle.toNanos()) {
                        break;
                    }
                    backoff = Math.min(backoff * 2, MAX_BACKOFF_MILLIS);
                    sleep(backoff);
                } else {
                    backoff = POLL_MILLIS;
                    idleSince = System.nanoTime();
                }
            }
        }
        return total;
    }

    private int push(List<Path> files, ArchiveMarkers markers, int jobs) {
        List<Parallel.Task<Boolean>> tasks = new ArrayList<>();
        for (Path p : files) {
            tasks.add(() -> {
                try {
                    markers.storeAndRecord(archive, p);
                    return true;
                } catch (LifeboatException | IOException e) {
                    log.accept("archive ahead: " + p.getFileName() + ": " + e.getMessage());
                    markers.noteFailure(p.getFileName().toString());
                    return false;
                }
            });
        }
        if (tasks.size() == 1) {
            // The usual case while WAL trickles in: no thread started (and its buffers allocated) for one file.
            try {
                return tasks.get(0).call() ? 1 : 0;
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException(e); // the task catches what storing can throw
            }
        }
        return (int) Parallel.run(Math.max(1, jobs), tasks).stream().filter(Boolean::booleanValue).count();
    }

    /**
     * One line per batch: files archived, the CPU time the batch took, and the process's CPU time so
     * far including its start (bench/wal-archive.sh charges the latter to the archiver).
     */
    private static void journal(Path state, int files, long cpuMillis) {
        try {
            Files.writeString(state.resolve(LOG), System.currentTimeMillis() / 1000 + " pid=" + ProcessHandle.current().pid()
                    + " archived=" + files + " cpu_ms=" + cpuMillis + " cpu_total_ms=" + cpuMillis() + "\n", StandardCharsets.US_ASCII, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException ignored) {
            // statistics only
        }
    }

    private static long cpuMillis() {
        return ProcessHandle.current().info().totalCpuDuration().map(Duration::toMillis).orElse(0L);
    }

    /** Waits up to a second for a new file in archive_status; false when the directory is gone. */
    private static boolean await(WatchService watcher) {
        try {
            WatchKey key = watcher.poll(1, TimeUnit.SECONDS);
            if (key != null) {
                key.pollEvents();
                return key.reset();
            }
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LifeboatException(io.lifeboat.ErrorKind.INTERRUPTED, "archive ahead interrupted", null);
        }
    }
}
