package io.lifeboat.engine.physical;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.BackupEntry;
import io.lifeboat.catalog.BackupId;
import io.lifeboat.catalog.BackupManifest;
import io.lifeboat.catalog.BackupType;
import io.lifeboat.catalog.Catalog;
import io.lifeboat.catalog.Json;
import io.lifeboat.catalog.StoredObject;
import io.lifeboat.engine.ObjectPipeline;
import io.lifeboat.engine.Parallel;
import io.lifeboat.postgres.BackupSession;
import io.lifeboat.postgres.ControlFile;
import io.lifeboat.storage.ObjectInfo;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * What {@code backup --resume} keeps of an interrupted local-mode backup, read from its
 * {@link ResumeJournal}. The attempt resumed is the newest unfinished physical backup, and only
 * if it is newer than every complete physical backup (an older one was given up by a later
 * backup), was taken of the same system, PostgreSQL major, data directory, block size, codecs and
 * kind (full, or incremental of the same parent), and its server session is gone (a backup still
 * running is refused). Otherwise nothing is resumed and the backup is an ordinary one (the log
 * says why). Of each archive, the longest run of stored chunks from the first on that the journal
 * recorded is kept, up to a chunk after which the tar stream can go on; each kept chunk is read
 * back and checked against its recorded size and SHA-256 first (a damaged one ends the run
 * there). A file is kept when all of its members lie in the kept chunks and it has not changed
 * since it was listed ({@link UnchangedSince}); pg_control is always read again.
 */
final class ResumePoint {
    /** The kept start of one archive: its chunks, the offset they end at, the zeros that complete the member there. */
    record Kept(List<ResumeJournal.Chunk> chunks, long end, long completion) {
    }

    private final BackupId id;
    private final int lastSeq;
    private final Map<String, Kept> archives;
    private final Map<String, ResumeJournal.Done> files;

    private ResumePoint(BackupId id, int lastSeq, Map<String, Kept> archives, Map<String, ResumeJournal.Done> files) {
        this.id = id;
        this.lastSeq = lastSeq;
        this.archives = archives;
        this.files = files;
    }

    BackupId id() {
        return id;
    }

    int lastSeq() {
        return lastSeq;
    }

    Map<String, Kept> archives() {
        return archives;
    }

    long keptFiles() {
        return files.size();
    }

    /** The same backup id with nothing kept (the backup turned out to be of another kind than the attempt). */
    ResumePoint nothingKept() {
        return new ResumePoint(id, lastSeq, Map.of(), Map.of());
    }

    /** The kept copy of this file, or null if it is read again. */
    ResumeJournal.Done reusable(DataDirectoryScan.Item it) {
        ResumeJournal.Done d = files.get(it.path());
        if (d == null || !it.type().equals("f") || it.path().equals(ControlFile.PATH)) {
            return null;
        }
        var e = d.entry();
        return UnchangedSince.holds(e.inode(), e.size(), e.mtimeNs(), e.ctimeNs(), d.listedAtMs() * 1_000_000L, it) ? d : null;
    }

    /** The kept chunks the archives of the finished backup name. */
    List<StoredObject> referenced(List<BackupManifest.TarArchive> written) {
        Set<String> names = new HashSet<>();
        written.forEach(a -> names.addAll(a.chunks()));
        List<StoredObject> out = new ArrayList<>();
        for (Kept k : archives.values()) {
            for (ResumeJournal.Chunk c : k.chunks()) {
                if (names.contains(c.stored().path())) {
                    out.add(c.stored());
                }
            }
        }
        return out;
    }

    /**
     * The attempt to resume, or null (having said why) to take an ordinary backup.
     *
     * @param wanted what this backup is (a journal of anything else is not resumed)
     */
    static ResumePoint find(Catalog catalog, ObjectPipeline pipeline, BackupSession session,
                            ResumeJournal.Identity wanted, int jobs, Consumer<String> log) {
        List<BackupEntry> all = catalog.list();
        Optional<BackupId> newestComplete = all.stream().filter(BackupEntry::complete)
                .filter(e -> e.id().type() == BackupType.PHYSICAL).map(BackupEntry::id).max(BackupId::compareTo);
        Optional<BackupId> newestUnfinished = all.stream().filter(e -> !e.complete())
                .filter(e -> e.id().type() == BackupType.PHYSICAL).map(BackupEntry::id).max(BackupId::compareTo);
        if (newestUnfinished.isEmpty() || (newestComplete.isPresent() && newestComplete.get().compareTo(newestUnfinished.get()) > 0)) {
            return nothing(log, newestUnfinished.isEmpty() ? "there is no unfinished physical backup in "
                    + catalog.storage().describe() : "the newest unfinished backup " + newestUnfinished.get()
                    + " is older than the complete backup " + newestComplete.get());
        }
        BackupId id = newestUnfinished.get();
        List<ResumeJournal.Segment> segments = segments(catalog, pipeline, id, log);
        if (segments.isEmpty()) {
            return nothing(log, "the unfinished backup " + id + " has no resume journal (it was taken over the "
                    + "replication protocol, or stopped before it stored anything)");
        }
        ResumeJournal.Header last = segments.get(segments.size() - 1).header();
        if (!wanted.equals(last.identity())) {
            return nothing(log, "the unfinished backup " + id + " was " + describe(last.identity())
                    + ", this one is " + describe(wanted));
        }
        if (stillAlive(session, last.backend())) {
            throw new LifeboatException(ErrorKind.CONFLICT, "backup " + id + " is still being taken (its session, server "
                    + "process " + last.backend().split("/")[0] + ", is alive)", "wait for it to end, or stop it; "
                    + "--resume continues a backup whose process is gone");
        }
        Map<String, TreeMap<Integer, ResumeJournal.Chunk>> chunks = new HashMap<>();
        Map<String, ResumeJournal.Done> done = new HashMap<>();
        String attempt = null;
        for (ResumeJournal.Segment s : segments) {
            if (!s.header().attempt().equals(attempt)) {
                attempt = s.header().attempt();
                forgetRewritten(chunks, done, s.header().continued());
            }
            for (ResumeJournal.Chunk c : s.chunks()) {
                chunks.computeIfAbsent(c.archive(), a -> new TreeMap<>()).put(c.index(), c);
            }
            for (ResumeJournal.Done d : s.files()) {
                done.put(d.entry().path(), d);
            }
        }
        Map<String, Kept> kept = new LinkedHashMap<>();
        for (var e : chunks.entrySet()) {
            Kept k = verified(catalog, pipeline, id, e.getKey(), e.getValue(), jobs, log);
            if (k != null) {
                kept.put(e.getKey(), k);
            }
        }
        Map<String, ResumeJournal.Done> files = new HashMap<>();
        for (ResumeJournal.Done d : done.values()) {
            Kept k = d.entry().archive() == null ? null : kept.get(d.entry().archive());
            if (k != null && d.end() <= k.end()) {
                files.put(d.entry().path(), d);
            }
        }
        long bytes = kept.values().stream().mapToLong(Kept::end).sum();
        log.accept("resuming backup " + id + ": " + kept.values().stream().mapToInt(k -> k.chunks().size()).sum()
                + " stored chunks checked and kept (" + io.lifeboat.engine.Spool.human(bytes) + " of tar stream), "
                + files.size() + " files in them not read again unless they changed since");
        return new ResumePoint(id, segments.get(segments.size() - 1).seq(), kept, files);
    }

    /** A new attempt went on with each archive from an offset: what an earlier one stored after it was rewritten. */
    private static void forgetRewritten(Map<String, TreeMap<Integer, ResumeJournal.Chunk>> chunks,
                                        Map<String, ResumeJournal.Done> done, Map<String, Long> continued) {
        for (var e : chunks.entrySet()) {
            long from = continued == null ? 0 : continued.getOrDefault(e.getKey(), 0L);
            e.getValue().values().removeIf(c -> c.end() > from);
        }
        done.values().removeIf(d -> d.entry().archive() != null
                && d.end() > (continued == null ? 0 : continued.getOrDefault(d.entry().archive(), 0L)));
    }

    /** The chunks kept of one archive: from the first, without a gap, checked, ending where the stream can go on. */
    private static Kept verified(Catalog catalog, ObjectPipeline pipeline, BackupId id, String archive,
                                 TreeMap<Integer, ResumeJournal.Chunk> byIndex, int jobs, Consumer<String> log) {
        List<ResumeJournal.Chunk> run = new ArrayList<>();
        long at = 0;
        for (int i = 1; byIndex.containsKey(i); i++) {
            ResumeJournal.Chunk c = byIndex.get(i);
            at += c.stored().rawSize();
            if (at != c.end()) {
                break; // the journal does not add up: keep nothing from here on
            }
            run.add(c);
        }
        while (!run.isEmpty() && run.get(run.size() - 1).completion() < 0) {
            run.remove(run.size() - 1);
        }
        List<Parallel.Task<String>> checks = new ArrayList<>();
        for (ResumeJournal.Chunk c : run) {
            checks.add(() -> {
                try {
                    pipeline.verify(catalog.layout().backupObject(id, c.stored().path()), c.stored());
                    return null;
                } catch (LifeboatException | IOException e) {
                    return e.getMessage();
                }
            });
        }
        List<String> failures = Parallel.run(Math.max(1, jobs), checks);
        int good = 0;
        while (good < run.size() && failures.get(good) == null) {
            good++;
        }
        if (good < run.size()) {
            log.accept("warning: resuming backup " + id + ": " + run.get(good).stored().path() + " is not as the journal "
                    + "recorded it (" + failures.get(good) + "); " + archive + " is kept only up to the chunk before it");
        }
        List<ResumeJournal.Chunk> ok = new ArrayList<>(run.subList(0, good));
        while (!ok.isEmpty() && ok.get(ok.size() - 1).completion() < 0) {
            ok.remove(ok.size() - 1);
        }
        if (ok.isEmpty()) {
            return null;
        }
        ResumeJournal.Chunk lastKept = ok.get(ok.size() - 1);
        return new Kept(List.copyOf(ok), lastKept.end(), lastKept.completion());
    }

    /** The journal's segments in order; one without its reference, or that fails its check, is left out. */
    private static List<ResumeJournal.Segment> segments(Catalog catalog, ObjectPipeline pipeline, BackupId id,
                                                        Consumer<String> log) {
        String dir = catalog.layout().backupObject(id, ResumeJournal.DIR);
        List<ResumeJournal.Segment> out = new ArrayList<>();
        try {
            for (ObjectInfo o : catalog.storage().list(dir)) {
                if (!o.key().endsWith(".ref")) {
                    continue;
                }
                try {
                    StoredObject ref = Json.MAPPER.readValue(catalog.storage().get(o.key()), StoredObject.class);
                    ByteArrayOutputStream data = new ByteArrayOutputStream();
                    pipeline.fetch(catalog.layout().backupObject(id, ref.path()), ref, data);
                    ResumeJournal.Segment s = Json.MAPPER.readValue(data.toByteArray(), ResumeJournal.Segment.class);
                    if (s.header() == null || s.header().version() != ResumeJournal.FORMAT_VERSION) {
                        throw new IOException("format version " + (s.header() == null ? "none" : s.header().version()));
                    }
                    out.add(s);
                } catch (LifeboatException | IOException e) {
                    if (e instanceof LifeboatException le && (le.kind() == ErrorKind.KEY || le.kind() == ErrorKind.STORAGE)) {
                        throw le;
                    }
                    log.accept("warning: resuming backup " + id + ": journal segment " + o.key() + " is left out ("
                            + e.getMessage() + ")");
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        out.sort(java.util.Comparator.comparingInt(ResumeJournal.Segment::seq));
        return out;
    }

    /** Whether the attempt's server session lives, given a few seconds to notice a client that was just killed. */
    private static boolean stillAlive(BackupSession session, String backend) {
        for (int i = 0; i < 10; i++) {
            if (!session.backendAlive(backend)) {
                return false;
            }
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return true;
            }
        }
        return true;
    }

    private static String describe(ResumeJournal.Identity i) {
        return (i.parent() == null ? "a full backup" : "an incremental of " + i.parent()) + " of system "
                + i.systemIdentifier() + " (PostgreSQL " + i.pgMajor() + ", " + i.dataDirectory() + ", block size "
                + i.blockSize() + ", " + i.compression() + "/" + i.encryption() + ")";
    }

    private static ResumePoint nothing(Consumer<String> log, String why) {
        log.accept("nothing to resume: " + why + "; taking a new backup");
        return null;
    }
}
