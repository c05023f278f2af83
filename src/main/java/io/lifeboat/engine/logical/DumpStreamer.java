package io.lifeboat.engine.logical;

import io.lifeboat.catalog.StoredObject;
import io.lifeboat.engine.ObjectPipeline;
import io.lifeboat.engine.Progress;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

/**
 * Uploads the files of a pg_dump -Fd directory while pg_dump is still writing them, so that the
 * upload overlaps the dump instead of following it.
 *
 * <p>pg_dump opens each file once, writes it front to back and closes it. A file that is in the
 * directory listing but open in no pg_dump process (Linux: /proc/PID/fd) is therefore complete.
 * Large files that are still being written are followed like `tail -f` and finish once a scan
 * that began after we reached their end shows them closed. The listing is always taken before the
 * scan, so a file created in between is never mistaken for a finished one.
 *
 * <p>A dump of thousands of tables makes thousands of files: listing them all 50 times a second
 * cost more CPU than uploading them, on a host whose cores pg_dump and the server already keep
 * busy. So each scan only reads the dump processes' descriptors: a file seen open in one scan and
 * closed in the next is complete at once. The directory is listed every {@value #LIST_MILLIS} ms
 * (and when pg_dump exits) for the files that were opened and closed between two scans.
 *
 * <p>Complete files of up to {@link DumpBundler#SMALL_FILE} bytes go into tar bundles (one thread
 * appends them in the order they complete) instead of one object each.
 */
final class DumpStreamer {
    private static final long FOLLOW_FROM = 8L * 1024 * 1024;
    private static final long SCAN_MILLIS = 20;
    private static final long LIST_MILLIS = 200;

    private final Path dir;
    private final Process pgDump;
    private final java.util.function.Function<String, ObjectPipeline> pipelines;
    private final String prefix;
    private final java.util.function.UnaryOperator<String> keyOf;
    private final int threads;
    private final Progress progress;
    private final boolean bundle;
    /** Used by the bundle thread only (and after it stopped, to discard). */
    private final Map<String, DumpBundler> bundlers = new LinkedHashMap<>();

    private volatile Set<Path> open = Set.of();
    private volatile boolean dumpExited;
    private volatile boolean uploadFailed;

    /**
     * @param pipelines the pipeline for a file name (files pg_dump compressed are not compressed again)
     * @param prefix    the manifest path of the dump directory, with a trailing slash ("db1-app/")
     * @param keyOf     the storage key of a manifest path
     * @param bundle    whether small files go into tar bundles
     */
    DumpStreamer(Path dir, Process pgDump, java.util.function.Function<String, ObjectPipeline> pipelines, String prefix,
                 java.util.function.UnaryOperator<String> keyOf, int threads, Progress progress, boolean bundle) {
        this.dir = dir;
        this.pgDump = pgDump;
        this.pipelines = pipelines;
        this.prefix = prefix;
        this.keyOf = keyOf;
        this.threads = threads;
        this.progress = progress;
        this.bundle = bundle;
    }

    static boolean supported() {
        return Files.isDirectory(Path.of("/proc/self/fd"));
    }

    /** Runs until pg_dump has exited and every file it wrote is stored. The caller checks pg_dump's exit code. */
    List<StoredObject> run() throws IOException, InterruptedException {
        ExecutorService pool = Executors.newFixedThreadPool(threads + 2, r -> {
            Thread t = new Thread(r, "dump-upload");
            t.setDaemon(true);
            return t;
        });
        ExecutorService bundling = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "dump-bundle");
            t.setDaemon(true);
            return t;
        });
        Map<Path, Future<StoredObject>> submitted = new LinkedHashMap<>();
        io.lifeboat.Trace.mark("pg_dump started");
        boolean done = false;
        try {
            long listedAt = 0;
            while (true) {
                boolean exited = !pgDump.isAlive();
                long now = System.nanoTime();
                boolean listNow = exited || now - listedAt >= LIST_MILLIS * 1_000_000;
                // listed before the descriptors are read: see the class comment
                List<Path> listed = listNow ? list() : List.of();
                if (listNow) {
                    listedAt = now;
                }
                Set<Path> wasOpen = open;
                Set<Path> nowOpen = exited ? Set.of() : openFiles();
                open = nowOpen;
                if (exited) {
                    dumpExited = true;
                    io.lifeboat.Trace.mark("pg_dump exited");
                }
                for (Path f : wasOpen) {
                    if (!nowOpen.contains(f) && !submitted.containsKey(f)) {
                        submit(pool, bundling, submitted, f, false);
                    }
                }
                for (Path f : nowOpen) {
                    if (!submitted.containsKey(f) && size(f) >= FOLLOW_FROM) {
                        submit(pool, bundling, submitted, f, true);
                    }
                }
                for (Path f : listed) {
                    if (!submitted.containsKey(f) && !nowOpen.contains(f)) {
                        submit(pool, bundling, submitted, f, false);
                    }
                }
                if (uploadFailed) {
                    failFast(submitted);
                }
                if (exited) {
                    break;
                }
                Thread.sleep(SCAN_MILLIS);
            }
            // Every file is submitted: the bundles close (after the small files queued before them, on
            // the same thread) while the last large files and toc.dat still go up, instead of after them.
            Future<List<StoredObject>> bundles = bundling.submit(this::finishBundles);
            List<StoredObject> out = new ArrayList<>();
            for (Future<StoredObject> f : submitted.values()) {
                StoredObject o = get(f);
                if (o != null) {
                    out.add(o);
                }
            }
            out.addAll(get(bundles));
            done = true;
            return out;
        } catch (IOException | InterruptedException | RuntimeException e) {
            pgDump.destroy();
            throw e;
        } finally {
            // on failure, uploads still running are cut and must end before the caller removes what was stored
            io.lifeboat.engine.Cleanup.stop(pool, 30);
            io.lifeboat.engine.Cleanup.stop(bundling, 30);
            if (!done) {
                bundlers.values().forEach(DumpBundler::close);
            }
        }
    }

    private List<StoredObject> finishBundles() throws IOException {
        List<StoredObject> out = new ArrayList<>();
        for (DumpBundler b : bundlers.values()) {
            out.addAll(b.finish());
        }
        return out;
    }

    /** The bundler for files stored with this file's pipeline (gzip'd by pg_dump: as they are; else compressed). */
    private DumpBundler bundlerFor(String rel) {
        ObjectPipeline p = pipelines.apply(rel);
        String codec = p.compression().suffix().replace(".", "");
        return bundlers.computeIfAbsent(codec, c -> new DumpBundler(name -> {
            String path = p.storedName(prefix + name);
            return p.open(keyOf.apply(path), path, 0);
        }, c, progress::advance));
    }

    private void submit(ExecutorService pool, ExecutorService bundling, Map<Path, Future<StoredObject>> submitted, Path f,
                        boolean follow) {
        // toc.dat stays an object of its own: the one file a person (or a restore) reads first
        boolean small = bundle && !follow && size(f) <= DumpBundler.SMALL_FILE && !f.getFileName().toString().equals("toc.dat");
        submitted.put(f, (small ? bundling : pool).submit(() -> {
            try {
                if (small) {
                    bundlerFor(dir.relativize(f).toString()).add(f);
                    return null;
                }
                return upload(f, follow);
            } catch (Throwable t) {
                uploadFailed = true;
                throw t;
            }
        }));
    }

    private StoredObject upload(Path f, boolean follow) throws IOException, InterruptedException {
        String rel = dir.relativize(f).toString();
        ObjectPipeline p = pipelines.apply(rel);
        String path = p.storedName(prefix + rel);
        try (ObjectPipeline.Upload u = p.open(keyOf.apply(path), path, size(f) >= FOLLOW_FROM ? 1 : 0);
             InputStream in = Files.newInputStream(f)) {
            byte[] buf = new byte[256 * 1024];
            while (true) {
                int n = in.read(buf);
                if (n > 0) {
                    u.stream().write(buf, 0, n);
                    progress.advance(n);
                    continue;
                }
                if (!follow) {
                    break;
                }
                // At the end of what is written so far. If the newest scan shows the file closed (or
                // pg_dump gone), every write happened before that scan: one more pass drains them.
                if (dumpExited || !open.contains(f)) {
                    follow = false;
                    continue;
                }
                Thread.sleep(5);
            }
            return u.finish();
        }
    }

    /** The directory's entries: pg_dump writes only plain files there, so no stat per entry (thousands, 50 times a second). */
    private List<Path> list() throws IOException {
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                out.add(p);
            }
        } catch (NoSuchFileException e) {
            // pg_dump has not created the directory yet
        }
        return out;
    }

    private Set<Path> openFiles() {
        Set<Path> files = new HashSet<>();
        for (long pid : dumpProcesses()) {
            Path fds = Path.of("/proc", Long.toString(pid), "fd");
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(fds)) {
                for (Path fd : ds) {
                    try {
                        Path target = Files.readSymbolicLink(fd);
                        if (target.startsWith(dir)) {
                            files.add(target);
                        }
                    } catch (IOException ignored) {
                        // the descriptor closed while we looked
                    }
                }
            } catch (IOException ignored) {
                // the process exited while we looked
            }
        }
        return files;
    }

    /**
     * pg_dump and its workers (its children; they fork no further). The kernel lists a process's
     * children in /proc/PID/task/PID/children; ProcessHandle.descendants() instead reads the stat
     * file of every process on the machine, which cost more CPU than the uploads on a busy host.
     */
    private List<Long> dumpProcesses() {
        long leader = pgDump.pid();
        List<Long> pids = new ArrayList<>();
        pids.add(leader);
        try {
            String children = Files.readString(Path.of("/proc", Long.toString(leader), "task", Long.toString(leader), "children"));
            for (String c : children.trim().split("\\s+")) {
                if (!c.isEmpty()) {
                    pids.add(Long.parseLong(c));
                }
            }
        } catch (IOException | RuntimeException e) {
            // no such file (an older kernel): ask the slow way
            try (Stream<ProcessHandle> d = pgDump.toHandle().descendants()) {
                d.forEach(h -> pids.add(h.pid()));
            }
        }
        return pids;
    }

    private void failFast(Map<Path, Future<StoredObject>> submitted) {
        for (Future<StoredObject> f : submitted.values()) {
            if (f.isDone()) {
                get(f);
            }
        }
    }

    private static <T> T get(Future<T> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new io.lifeboat.LifeboatException(io.lifeboat.ErrorKind.INTERRUPTED, "interrupted while uploading");
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException re) {
                throw re;
            }
            if (c instanceof IOException io) {
                throw new UncheckedIOException(io);
            }
            throw new IllegalStateException(c);
        }
    }

    private static long size(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            return 0;
        }
    }
}
