package io.lifeboat.engine.archive;

import io.lifeboat.LifeboatException;
import io.lifeboat.postgres.TimelineHistory;
import io.lifeboat.postgres.TimelineId;
import io.lifeboat.postgres.WalFileName;
import io.lifeboat.postgres.WalSegmentName;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * The WAL prefetcher of one recovery: one per pg_wal, living as long as the recovery (in the
 * process of the `restore` that started the server, or as a detached `wal-prefetch` started by the
 * first `wal-fetch`). It downloads, verifies and decompresses the segments PostgreSQL will ask for
 * next, in parallel, into a bounded spool (pg_wal/.lifeboat/prefetch), along the timeline recovery
 * follows and no further than the recovery target, so that bin/lifeboat answers restore_command
 * from the spool without starting a JVM.
 *
 * <p>The protocol with the launcher, all of it files in the spool:
 * <ul>
 * <li>{@code .pid}: "PID START" of the process this runs in (START is field 22 of /proc/PID/stat,
 *     its start time in clock ticks, so that a reused pid is not taken for it);</li>
 * <li>{@code NAME}: a complete WAL file, its SHA-256 checked, owned by the server's user, ready to be
 *     renamed into place;</li>
 * <li>{@code .ask-NAME}: written by the launcher when NAME is not in the spool, with a token unique
 *     to that call; the prefetcher then fetches NAME at once, whatever it was doing;</li>
 * <li>{@code .answer-NAME}: "TOKEN missing" when a listing of the archive that began after the ask
 *     was read found no NAME: the only way the launcher answers "not in the archive" (exit 1) from
 *     the spool; "TOKEN failed WHY" for anything else (the launcher then starts the JVM, which
 *     fetches the file itself or stops recovery with the error).</li>
 * </ul>
 * Nothing here decides what PostgreSQL reads: a file reaches the spool only verified, and "not
 * there" is only ever said in answer to the call that asked, from the repository's own answer.
 */
public final class WalPrefetcher implements AutoCloseable {
    static final String PID = ".pid";
    static final String ASK = ".ask-";
    static final String ANSWER = ".answer-";
    private static final String INCOMING = ".incoming";
    private static final String SEGMENT_SIZE = ".segment-size";
    private static final long TICK_NANOS = 200_000_000L;
    private static final long FIRST_RECHECK_NANOS = 1_000_000_000L;
    private static final long MAX_RECHECK_NANOS = 10_000_000_000L;
    private static final long POLL_MILLIS = 20;
    private static final long LISTING_NANOS = 5_000_000_000L;

    /** Gives a file in the spool to the server's user (a restore runs as root; the server reads and moves it). */
    public interface FileOwner {
        void apply(Path p) throws IOException;
    }

    /**
     * @param ahead       how many segments the spool holds at most (downloaded or on their way)
     * @param jobs        parallel downloads ahead (one more thread serves the launcher's asks)
     * @param segmentSize the cluster's WAL segment size
     */
    public record Settings(int ahead, int jobs, long segmentSize) {
        public Settings {
            ahead = Math.max(1, ahead);
            jobs = Math.max(1, jobs);
        }
    }

    /** What a download ended with; {@code startedAt} is when its listing began (System.nanoTime()). */
    private record Done(String name, Outcome outcome, String why, long startedAt, boolean prefetch) {
    }

    /** HELD_BACK: only a partial copy is archived (the agent's stream); restore_command itself decides on it. */
    private enum Outcome { FOUND, MISSING, HELD_BACK, FAILED }

    private record Ask(String token, long seenAt) {
    }

    private final WalArchive archive;
    private final Path spool;
    private final Path incoming;
    private final Settings settings;
    private final FileOwner owner;
    private final Consumer<String> log;
    private final FileChannel lockFile;
    private final FileLock lock;
    private final ExecutorService workers;
    private final AtomicInteger fetched = new AtomicInteger();
    private final Object listingLock = new Object();
    private Map<String, List<WalArchive.Archived>> listing; // guarded by listingLock
    private String listingDirectory; // guarded by listingLock
    private long listedAt; // guarded by listingLock
    private volatile boolean closed;
    private boolean retired; // guarded by this
    private Thread thread;

    // The state below is guarded by this.
    /** The segment PostgreSQL is expected to ask for next. */
    private WalSegmentName position;
    /** The timeline recovery follows, as a history (null: the timeline of the last ask). */
    private TimelineHistory followed;
    /** The last segment recovery needs (its target), or null. */
    private WalSegmentName last;
    /** The first segment found missing while prefetching: nothing at or after it is fetched until {@link #recheckAt}. */
    private WalSegmentName end;
    private long recheckAt;
    private long recheckDelay = FIRST_RECHECK_NANOS;
    private final Map<String, Boolean> inFlight = new HashMap<>(); // name -> prefetch (false: asked for)
    private final Map<String, Ask> asks = new HashMap<>();
    private final Map<String, Long> retryAt = new HashMap<>();
    private final Set<String> delivered = new HashSet<>();
    private long lastActivity = System.nanoTime();

    private WalPrefetcher(WalArchive archive, Path spool, Settings settings, FileOwner owner, Consumer<String> log,
                          FileChannel lockFile, FileLock lock) {
        this.archive = archive;
        this.spool = spool;
        this.incoming = spool.resolve(INCOMING);
        this.settings = settings;
        this.owner = owner;
        this.log = log;
        this.lockFile = lockFile;
        this.lock = lock;
        AtomicInteger n = new AtomicInteger();
        this.workers = Executors.newFixedThreadPool(settings.jobs() + 1, r -> {
            Thread t = new Thread(r, "lifeboat-prefetch-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    public static Path spoolOf(Path pgWal) {
        return pgWal.toAbsolutePath().resolve(PushState.OWN_DIRECTORY).resolve("prefetch");
    }

    /**
     * Opens the spool of {@code pgWal} for this process: creates it below an existing pg_wal, one
     * level at a time (a pg_wal removed meanwhile, a failed restore's, is never created again),
     * takes its lock and writes the pid file. Empty when another prefetcher holds the lock or
     * pg_wal is gone.
     */
    public static Optional<WalPrefetcher> open(WalArchive archive, Path pgWal, Settings settings, FileOwner owner,
                                               Consumer<String> log) throws IOException {
        Path spool = spoolOf(pgWal);
        for (Path p : List.of(spool.getParent(), spool, spool.resolve(INCOMING))) {
            try {
                Files.createDirectory(p);
                owner.apply(p);
            } catch (FileAlreadyExistsException e) {
                // there already
            } catch (NoSuchFileException e) {
                return Optional.empty();
            }
        }
        FileChannel ch = FileChannel.open(spool.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = ch.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null; // this very process runs one for it already
        }
        if (lock == null) {
            ch.close();
            return Optional.empty();
        }
        owner.apply(spool.resolve(".lock"));
        WalPrefetcher p = new WalPrefetcher(archive, spool, settings, owner, log, ch, lock);
        p.clearStale();
        Files.deleteIfExists(spool.resolve(".starting")); // the launcher's note that one is on its way
        p.writeAtomically(PID, ProcessHandle.current().pid() + " " + processStart(ProcessHandle.current().pid()) + "\n");
        p.writeAtomically(SEGMENT_SIZE, settings.segmentSize() + "\n");
        return Optional.of(p);
    }

    /** Whether a prefetcher holds the lock of this pg_wal (a process started for it need not start another). */
    public static boolean running(Path pgWal) {
        return LockFile.held(spoolOf(pgWal).resolve(".lock"), false);
    }

    /** The segment size a prefetcher wrote into the spool, if one did. */
    public static Optional<Long> recordedSegmentSize(Path pgWal) {
        try {
            return Optional.of(Long.parseLong(Files.readString(spoolOf(pgWal).resolve(SEGMENT_SIZE)).trim()));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /**
     * The timeline a recovery arriving at {@code segment} most likely follows, for the prediction of
     * the next names only: the newest timeline in the archive whose history reads {@code segment}
     * from its timeline, as PostgreSQL's 'latest' would (the asks correct a wrong guess).
     */
    public static TimelineHistory likelyTimeline(WalArchive archive, WalSegmentName segment) {
        try {
            TimelineHistory best = TimelineHistory.root(segment.timeline());
            for (TimelineHistory h : archive.historiesAfter(segment.timeline()).values()) {
                if (segment.timeline().equals(h.timelineOfSegment(segment.segmentNumber(), segment.segmentSize()))) {
                    best = h;
                }
            }
            return best;
        } catch (IOException | LifeboatException e) {
            return TimelineHistory.root(segment.timeline());
        }
    }

    /**
     * Starts prefetching from {@code first} on a background thread, until {@link #close()}.
     *
     * @param followed the history of the timeline recovery follows (its history file is fetched too)
     * @param last     the last segment recovery needs, or null
     */
    public synchronized void startInBackground(WalSegmentName first, TimelineHistory followed, WalSegmentName last) {
        begin(first, followed, last);
        thread = new Thread(() -> loop(() -> true, Long.MAX_VALUE), "lifeboat-prefetch");
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * Prefetches from {@code first} in this thread for as long as {@code goesOn} holds, {@link
     * #close()} is not called and something happened in the last {@code idleNanos}.
     */
    public void run(WalSegmentName first, TimelineHistory followed, WalSegmentName last, BooleanSupplier goesOn,
                    long idleNanos) {
        synchronized (this) {
            begin(first, followed, last);
        }
        loop(goesOn, idleNanos);
    }

    private void begin(WalSegmentName first, TimelineHistory followed, WalSegmentName last) {
        this.position = first;
        this.followed = followed;
        this.last = last;
        if (followed != null && followed.timeline().value() > 1) {
            submit(followed.timeline().hex() + ".history", true); // the first thing recovery asks for
        }
    }

    /** How many files it has put into the spool. */
    public int fetched() {
        return fetched.get();
    }

    private void loop(BooleanSupplier goesOn, long idleNanos) {
        long lastCheck = 0;
        WatchService watcher = null;
        try {
            try {
                // the launcher's asks and moves wake this at once; downloads go to .incoming, which is not watched
                watcher = spool.getFileSystem().newWatchService();
                spool.register(watcher, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY,
                        StandardWatchEventKinds.ENTRY_DELETE);
            } catch (IOException e) {
                // no inotify instance left for this user (a busy host): look at the spool often instead
                closeQuietly(watcher);
                watcher = null;
            }
            while (!closed && Files.isDirectory(spool)) {
                long now = System.nanoTime();
                if (now - lastCheck >= TICK_NANOS) {
                    lastCheck = now;
                    synchronized (this) {
                        if (now - lastActivity > idleNanos) {
                            break;
                        }
                    }
                    if (!goesOn.getAsBoolean()) {
                        break;
                    }
                }
                step();
                if (watcher == null) {
                    Thread.sleep(POLL_MILLIS);
                    continue;
                }
                WatchKey key = watcher.poll(TICK_NANOS, TimeUnit.NANOSECONDS);
                if (key != null) {
                    key.pollEvents();
                    if (!key.reset()) {
                        break; // the spool is gone
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException | RuntimeException e) {
            if (Files.isDirectory(spool)) {
                log.accept("warning: WAL prefetch stopped: " + e + "; recovery fetches WAL itself");
            }
        } finally {
            closeQuietly(watcher);
            retire(); // however the loop ended, the launcher must not wait for it: asks answered, no pid, no lock
        }
    }

    private static void closeQuietly(WatchService w) {
        if (w != null) {
            try {
                w.close();
            } catch (IOException ignored) {
                // nothing held
            }
        }
    }

    /** One look at the spool: the launcher's asks, what it took, what is to be dropped or fetched next. */
    private synchronized void step() throws IOException {
        Map<String, String> askFiles = new HashMap<>();
        Set<String> present = new HashSet<>();
        try (Stream<Path> files = Files.list(spool)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                String n = p.getFileName().toString();
                if (n.startsWith(ASK)) {
                    askFiles.put(n.substring(ASK.length()), p.toString());
                } else if (!n.startsWith(".")) {
                    present.add(n);
                }
            }
        } catch (NoSuchFileException e) {
            return;
        }
        // What the launcher took: recovery has moved past it.
        for (var it = delivered.iterator(); it.hasNext(); ) {
            String n = it.next();
            if (!present.contains(n)) {
                it.remove();
                lastActivity = System.nanoTime();
                if (WalSegmentName.looksLikeSegment(n)) {
                    WalSegmentName s = segment(n);
                    if (s.segmentNumber() >= position.segmentNumber()) {
                        position = predicted(s.segmentNumber() + 1, s.timeline());
                    }
                }
            }
        }
        for (var a : askFiles.entrySet()) {
            String token = readToken(Path.of(a.getValue()));
            Ask known = asks.get(a.getKey());
            if (token.isEmpty() || (known != null && known.token().equals(token))) {
                continue; // not written yet, or being handled
            }
            asks.put(a.getKey(), new Ask(token, System.nanoTime()));
            lastActivity = System.nanoTime();
            onAsk(a.getKey(), token, present);
        }
        dropPassed(present);
        schedule(present);
    }

    private void onAsk(String name, String token, Set<String> present) {
        if (present.contains(name)) {
            forgetAsk(name); // the launcher finds it
            return;
        }
        WalFileName f;
        try {
            f = WalFileName.parse(name);
        } catch (LifeboatException e) {
            answer(name, token, "failed not a WAL file name");
            return;
        }
        if (f.kind() == WalFileName.Kind.SEGMENT) {
            WalSegmentName s = segment(name);
            if (!s.timeline().equals(predicted(s.segmentNumber(), s.timeline()).timeline())) {
                followed = null; // recovery follows another timeline than guessed: follow its asks
            }
            position = s;
            if (end != null && s.segmentNumber() < end.segmentNumber()) {
                end = null;
            }
        } else if (f.kind() != WalFileName.Kind.TIMELINE_HISTORY) {
            answer(name, token, "failed the prefetcher serves segments and history files only");
            return;
        }
        retryAt.remove(name);
        if (!inFlight.containsKey(name)) {
            submit(name, false);
        } else {
            inFlight.put(name, false);
        }
    }

    /**
     * Removes segments recovery has passed (it never asks for them again, unless it starts over)
     * and those of a timeline it turned out not to follow.
     */
    private void dropPassed(Set<String> present) throws IOException {
        for (String n : List.copyOf(present)) {
            if (!WalSegmentName.looksLikeSegment(n)) {
                continue;
            }
            WalSegmentName s = segment(n);
            if (s.segmentNumber() < position.segmentNumber()
                    || !s.timeline().equals(predicted(s.segmentNumber(), position.timeline()).timeline())) {
                Files.deleteIfExists(spool.resolve(n));
                present.remove(n);
                delivered.remove(n);
            }
        }
    }

    /** Fills the spool ahead of the position, in order, within its bound. */
    private void schedule(Set<String> present) {
        long now = System.nanoTime();
        if (end != null && now >= recheckAt) {
            end = null; // look again: the archive may have grown (a standby follows it)
            recheckDelay = Math.min(recheckDelay * 2, MAX_RECHECK_NANOS);
        }
        long prefetching = inFlight.values().stream().filter(Boolean::booleanValue).count();
        long held = prefetching + present.stream().filter(WalSegmentName::looksLikeSegment)
                .filter(n -> segment(n).segmentNumber() >= position.segmentNumber()).count();
        WalSegmentName s = position;
        for (int i = 0; i < settings.ahead() && held < settings.ahead() && prefetching < settings.jobs(); i++) {
            if ((last != null && s.segmentNumber() > last.segmentNumber())
                    || (end != null && s.segmentNumber() >= end.segmentNumber())) {
                return;
            }
            String n = s.toString();
            if (!present.contains(n) && !inFlight.containsKey(n)) {
                Long retry = retryAt.get(n);
                if (retry != null && retry > now) {
                    return; // failing: do not leap over it
                }
                submit(n, true);
                prefetching++;
                held++;
            }
            s = predicted(s.segmentNumber() + 1, s.timeline());
        }
    }

    /** The name recovery asks for at segment number {@code segno}. */
    private WalSegmentName predicted(long segno, TimelineId current) {
        TimelineId t = followed != null ? followed.timelineOfSegment(segno, settings.segmentSize()) : current;
        return new WalSegmentName(t, segno, settings.segmentSize());
    }

    private WalSegmentName segment(String name) {
        return WalSegmentName.parse(name, settings.segmentSize());
    }

    private void submit(String name, boolean prefetch) {
        inFlight.put(name, prefetch);
        workers.execute(() -> {
            long started = System.nanoTime();
            Done d;
            try {
                d = new Done(name, download(name), null, started, prefetch);
            } catch (LifeboatException | IOException | UncheckedIOException e) {
                d = new Done(name, Outcome.FAILED, e.getMessage(), started, prefetch);
            } catch (RuntimeException e) {
                d = new Done(name, Outcome.FAILED, String.valueOf(e), started, prefetch);
            }
            finished(d);
        });
    }

    /**
     * Fetches NAME, verified, into .incoming, gives it to the server's user and renames it into the
     * spool. A partial copy is never taken: whether it may stand for the segment depends on the
     * archive's state when recovery asks, which restore_command checks then.
     */
    private Outcome download(String name) throws IOException {
        if (closed) {
            throw new IOException("the prefetcher is stopping");
        }
        Path part = incoming.resolve(name);
        WalArchive.Archived listed = listedCopy(WalFileName.parse(name));
        WalArchive.Fetched f;
        if (listed != null) {
            try {
                archive.fetchListed(listed, part);
            } catch (IOException | RuntimeException e) {
                forgetListing(); // gone since (expired?), or damaged: the retry lists it again
                throw e;
            }
            f = WalArchive.Fetched.SEGMENT;
        } else {
            f = archive.fetch(WalFileName.parse(name), part, false);
        }
        if (f == WalArchive.Fetched.MISSING) {
            return Outcome.MISSING;
        } else if (f != WalArchive.Fetched.SEGMENT) {
            Files.deleteIfExists(part);
            return Outcome.HELD_BACK;
        }
        try {
            owner.apply(part);
            synchronized (this) {
                // together, so that a look at the spool never takes a file just renamed in for one recovery took
                Files.move(part, spool.resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                delivered.add(name);
            }
        } finally {
            Files.deleteIfExists(part);
        }
        return Outcome.FOUND;
    }

    /**
     * The one archived copy of segment {@code name} that a listing of its whole directory found
     * (one listing for up to 256 segments, not one per segment), or null: then the caller lists it
     * itself, and only that decides "missing" or a conflict. A listing older than LISTING_NANOS
     * that lacks the name is taken again (the archive grows while a standby follows it).
     */
    private WalArchive.Archived listedCopy(WalFileName name) throws IOException {
        if (name.kind() != WalFileName.Kind.SEGMENT) {
            return null;
        }
        synchronized (listingLock) {
            long now = System.nanoTime();
            boolean stale = listing == null || !name.directory().equals(listingDirectory)
                    || (!listing.containsKey(name.name()) && now - listedAt > LISTING_NANOS);
            if (stale) {
                listing = null;
                listing = archive.findInDirectory(name);
                listingDirectory = name.directory();
                listedAt = now;
            }
            List<WalArchive.Archived> copies = listing.get(name.name());
            return copies != null && copies.size() == 1 ? copies.get(0) : null;
        }
    }

    private void forgetListing() {
        synchronized (listingLock) {
            listing = null;
        }
    }

    private synchronized void finished(Done d) {
        inFlight.remove(d.name());
        lastActivity = System.nanoTime();
        Ask ask = asks.get(d.name());
        switch (d.outcome()) {
            case FOUND -> {
                fetched.incrementAndGet();
                retryAt.remove(d.name());
                if (ask != null) {
                    forgetAsk(d.name());
                }
                if (WalSegmentName.looksLikeSegment(d.name()) && end != null
                        && segment(d.name()).segmentNumber() >= end.segmentNumber()) {
                    end = null;
                    recheckDelay = FIRST_RECHECK_NANOS;
                }
            }
            case MISSING, HELD_BACK -> {
                if (ask != null && d.outcome() == Outcome.HELD_BACK) {
                    answer(d.name(), ask.token(), "failed only a partial copy is archived: restore_command serves it");
                } else if (ask != null && ask.seenAt() < d.startedAt()) {
                    answer(d.name(), ask.token(), "missing"); // a listing that began after the ask: proven
                } else if (ask != null) {
                    submit(d.name(), false); // the listing began before the ask: look again for it
                } else if (WalSegmentName.looksLikeSegment(d.name())) {
                    WalSegmentName s = segment(d.name());
                    if (end == null || s.segmentNumber() < end.segmentNumber()) {
                        end = s; // the end of the archive for now (or its partial end): looked at again later
                    }
                    recheckAt = System.nanoTime() + recheckDelay;
                }
            }
            case FAILED -> {
                retryAt.put(d.name(), System.nanoTime() + FIRST_RECHECK_NANOS);
                if (ask != null) {
                    answer(d.name(), ask.token(), "failed " + d.why());
                } else if (!closed) {
                    log.accept("warning: WAL prefetch of " + d.name() + " failed (" + d.why() + "); retrying");
                }
            }
        }
    }

    /** Writes the answer to the launcher's call for {@code name} and forgets the ask. */
    private void answer(String name, String token, String reply) {
        try {
            writeAtomically(ANSWER + name, token + " " + reply.replace('\n', ' ') + "\n");
        } catch (IOException e) {
            // the launcher waits for the prefetcher to end, then starts the JVM
        }
        forgetAsk(name);
    }

    private void forgetAsk(String name) {
        asks.remove(name);
        try {
            Files.deleteIfExists(spool.resolve(ASK + name));
        } catch (IOException ignored) {
            // the launcher's file: a stale one is ignored (its token is not asked again)
        }
    }

    private static String readToken(Path ask) {
        try {
            String s = Files.readString(ask, StandardCharsets.US_ASCII);
            return s.endsWith("\n") ? s.strip() : ""; // the launcher writes the line at once; no newline: not yet
        } catch (IOException e) {
            return "";
        }
    }

    private void writeAtomically(String name, String content) throws IOException {
        Path tmp = incoming.resolve(name + ".tmp");
        Files.writeString(tmp, content, StandardCharsets.US_ASCII);
        owner.apply(tmp);
        Files.move(tmp, spool.resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** A killed prefetcher's leftovers: half-downloaded files, asks and answers of calls long over. */
    private void clearStale() throws IOException {
        for (Path dir : List.of(incoming, spool)) {
            try (Stream<Path> s = Files.list(dir)) {
                for (Path p : s.toList()) {
                    String n = p.getFileName().toString();
                    if (dir.equals(incoming) || n.startsWith(ANSWER) || n.startsWith(".want-") || n.startsWith(".missing-")) {
                        Files.deleteIfExists(p);
                    }
                }
            }
        }
    }

    /** Stops the downloads and waits for them (even when this thread was interrupted: that is how close() ends the loop). */
    private void stopWorkers() {
        closed = true;
        workers.shutdownNow();
        boolean interrupted = Thread.interrupted();
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!workers.isTerminated() && System.nanoTime() < deadline) {
            try {
                workers.awaitTermination(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Stops prefetching and waits until no download writes anymore; the files already in the spool
     * stay (verified: a server started later takes them).
     */
    @Override
    public void close() {
        closed = true;
        Thread t;
        synchronized (this) {
            t = thread;
        }
        if (t != null) {
            t.interrupt();
            try {
                t.join(30_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        retire();
    }

    /**
     * Ends this prefetcher once (its loop's end, or close): no download writes after it, every ask
     * it read is answered "failed" (the launcher then asks the JVM), the pid file goes and the lock
     * is released, so that the launcher never waits for a prefetcher that does not work and another
     * may take over.
     */
    private void retire() {
        stopWorkers(); // not holding this: a finishing download takes it
        synchronized (this) {
            if (retired) {
                return;
            }
            retired = true;
            for (String name : List.copyOf(asks.keySet())) {
                answer(name, asks.get(name).token(), "failed the prefetcher stopped");
            }
            try {
                Files.deleteIfExists(spool.resolve(PID));
                try (Stream<Path> s = Files.list(incoming)) {
                    for (Path p : s.toList()) {
                        Files.deleteIfExists(p);
                    }
                }
            } catch (IOException ignored) {
                // removed with its directory
            }
            try {
                lock.release();
            } catch (IOException ignored) {
                // closing releases it anyway
            }
            try {
                lockFile.close();
            } catch (IOException ignored) {
                // nothing to do
            }
        }
    }

    /** A process's start time in clock ticks since boot (field 22 of /proc/PID/stat): with its pid, who it is. */
    static String processStart(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"), StandardCharsets.US_ASCII);
        String[] f = stat.substring(stat.lastIndexOf(") ") + 2).trim().split(" +");
        return f[19];
    }
}
