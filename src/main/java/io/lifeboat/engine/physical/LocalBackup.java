package io.lifeboat.engine.physical;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.BackupId;
import io.lifeboat.catalog.BackupManifest;
import io.lifeboat.catalog.BackupType;
import io.lifeboat.catalog.Catalog;
import io.lifeboat.catalog.FileIndex;
import io.lifeboat.catalog.StoredObject;
import io.lifeboat.config.ClusterConfig;
import io.lifeboat.engine.MemoryBudget;
import io.lifeboat.engine.ObjectPipeline;
import io.lifeboat.engine.Progress;
import io.lifeboat.engine.Spool;
import io.lifeboat.postgres.BackupLabel;
import io.lifeboat.postgres.BackupSession;
import io.lifeboat.postgres.BaseBackupRules;
import io.lifeboat.postgres.ControlFile;
import io.lifeboat.postgres.Lsn;
import io.lifeboat.postgres.PgConnectionSettings;
import io.lifeboat.postgres.PgManifestWriter;
import io.lifeboat.postgres.TimelineHistory;
import io.lifeboat.postgres.TimelineId;
import io.lifeboat.postgres.WalSegmentName;
import io.lifeboat.postgres.WalStreamer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A physical backup taken on the database host ({@code --source local}): between
 * {@code pg_backup_start} and {@code pg_backup_stop} (non-exclusive, over SQL) Lifeboat reads the
 * data directory and tablespaces itself, several files at a time, and stores them through the same
 * checksum → compress → encrypt → upload path and in the same tar-chunk format as a backup over
 * the replication protocol, so restore, verify and drills treat both alike. It leaves out what
 * pg_basebackup leaves out, stores backup_label from pg_backup_stop and PostgreSQL's
 * backup_manifest (written here, so pg_verifybackup checks a restored copy), and a file index.
 *
 * <p>An incremental backup stores, of the relation files the parent backup has, only the blocks
 * whose page LSN is at or after the parent's start (see {@link PieceReader}); everything else is
 * stored whole: files new since the parent (another name, another inode, a recreated database
 * directory), non-relation files, the free space map and visibility map forks (PostgreSQL changes
 * them without moving their LSNs), and every file when the page LSNs cannot be trusted (no data
 * checksums and no wal_log_hints: hint bits and the all-visible flag then change pages without WAL).
 */
public final class LocalBackup {
    static final String FILE_INDEX = "file-index.json";
    private static final long WAL_WAIT_MILLIS = 10 * 60 * 1000L;

    private final ClusterConfig cluster;
    private final Catalog catalog;
    private final ObjectPipeline pipeline;
    private final Progress progress;
    private final Consumer<String> log;

    public LocalBackup(ClusterConfig cluster, Catalog catalog, ObjectPipeline pipeline, Progress progress,
                       Consumer<String> log) {
        this.cluster = cluster;
        this.catalog = catalog;
        this.pipeline = pipeline;
        this.progress = progress;
        this.log = log;
    }

    public BackupManifest run(LocalBackupRequest asked) {
        // The chunk buffers must fit in the heap: decided before the server is asked for anything.
        MemoryBudget budget = MemoryBudget.ofThisJvm();
        LocalBackupRequest req = new LocalBackupRequest(asked.base().fitting(budget, log), asked.kind(), asked.fullEvery(),
                asked.resume());
        Instant start = Instant.now();
        PgConnectionSettings conn = cluster.postgres();
        try (MemoryBudget.Lease held = budget.hold(MemoryBudget.backupNeed(req.base().jobs(), req.base().chunkBytes()), log);
             BackupSession session = BackupSession.open(conn)) {
            BackupSession.Facts facts = session.facts();
            Path dataDir = dataDirectory(facts);
            IncrementalBase base = IncrementalBase.choose(catalog, pipeline, req, facts, start, log);
            io.lifeboat.Trace.mark("session open, parent chosen");
            ResumePoint found = req.resume() ? ResumePoint.find(catalog, pipeline, session,
                    identity(facts, dataDir, base), Math.max(1, req.base().jobs()), log) : null;
            RepositoryClaim claim = RepositoryClaim.start(
                    () -> catalog.ensureClusterInfo(facts.systemIdentifier(), facts.version().major()),
                    () -> found != null ? found.id() : catalog.newId(BackupType.PHYSICAL, start), session::cancel);
            BackupId label = BackupId.of(start, BackupType.PHYSICAL);
            log.accept("backup " + label + ": reading " + dataDir + " on this host (PostgreSQL " + facts.version()
                    + (facts.inRecovery() ? ", a standby" : "") + ", system " + facts.systemIdentifier() + ") with "
                    + Math.max(1, req.base().jobs()) + " readers" + (req.base().includeWal() ? ", with its WAL" : "")
                    + (base == null ? ", full" : ", incremental of " + base.parent().id()));
            try (claim) {
                Lsn startLsn;
                try {
                    startLsn = session.start("lifeboat " + label, req.base().fastCheckpoint());
                } catch (RuntimeException e) {
                    throw claim.explain(e);
                }
                BackupId id = claim.await();
                io.lifeboat.Trace.mark("backup started (checkpoint done)");
                long timeline = session.checkpointTimeline();
                ResumePoint resume = found;
                if (base != null) {
                    base = base.confirm(startLsn, timeline, log);
                    if (base == null && resume != null) {
                        log.accept("backup " + id + " is a full backup after all: nothing of the interrupted incremental is kept");
                        resume = resume.nothingKept();
                    }
                }
                Run run = new Run(req, session, facts, dataDir, id, start, startLsn, timeline, base);
                run.resume = resume;
                return run.take();
            }
        }
    }

    /** What a backup of this kind shares with an interrupted one it may resume. */
    private ResumeJournal.Identity identity(BackupSession.Facts facts, Path dataDir, IncrementalBase base) {
        return new ResumeJournal.Identity(facts.systemIdentifier(), facts.version().major(), dataDir.toString(),
                base == null ? null : base.parent().id().toString(), facts.blockSize(), pipeline.compression().id(),
                pipeline.encryption().scheme());
    }

    /** The data directory to read: the configured one, else the server's; it must be this server's. */
    private Path dataDirectory(BackupSession.Facts facts) {
        Path dir = cluster.dataDirectory() != null ? cluster.dataDirectory() : Path.of(facts.dataDirectory());
        if (!Files.isDirectory(dir)) {
            throw new LifeboatException(ErrorKind.USAGE, "--source local reads the data directory " + dir + ", which is "
                    + "not a directory here", "run the backup on the database host (the repository stays elsewhere), or "
                    + "set postgres.data-directory; without --source local backups run over the replication protocol");
        }
        String onDisk = ControlFile.systemIdentifier(dir);
        if (!onDisk.equals(facts.systemIdentifier())) {
            throw new LifeboatException(ErrorKind.CONFLICT, "the data directory " + dir + " belongs to the cluster with "
                    + "system identifier " + onDisk + ", but the server at " + cluster.postgres().host() + ":"
                    + cluster.postgres().port() + " has " + facts.systemIdentifier(),
                    "point postgres.data-directory (or --data-directory) at this server's data directory");
        }
        return dir;
    }

    /** One backup being taken, from pg_backup_start on. */
    private final class Run {
        final LocalBackupRequest req;
        final BackupSession session;
        final BackupSession.Facts facts;
        final Path dataDir;
        final BackupId id;
        final Instant start;
        final Lsn startLsn;
        final long timeline;
        final IncrementalBase base;
        final List<String> walPaths = Collections.synchronizedList(new ArrayList<>());
        /** The interrupted attempt this run goes on with (--resume), or null. */
        ResumePoint resume;
        String resumedNote;
        long resumedFiles;

        Run(LocalBackupRequest req, BackupSession session, BackupSession.Facts facts, Path dataDir, BackupId id,
            Instant start, Lsn startLsn, long timeline, IncrementalBase base) {
            this.req = req;
            this.session = session;
            this.facts = facts;
            this.dataDir = dataDir;
            this.id = id;
            this.start = start;
            this.startLsn = startLsn;
            this.timeline = timeline;
            this.base = base;
        }

        BackupManifest take() {
            boolean success = false;
            WalStreamer wal = null;
            int jobs = Math.max(1, req.base().jobs());
            ChunkedArchive.BufferPool pool = new ChunkedArchive.BufferPool(req.base().chunkBytes(), jobs + 2);
            LocalArchiveWriter writer = null;
            try (ParallelUploader up = new ParallelUploader(pipeline, p -> catalog.layout().backupObject(id, p), jobs)) {
                log.accept("backup " + id + ": checkpoint done, WAL from " + startLsn + " on timeline " + timeline);
                if (req.base().includeWal()) {
                    wal = new WalStreamer(cluster.postgres(), TimelineId.of(timeline), facts.walSegmentSize(), startLsn,
                            (name, data, valid) -> {
                                String path = "pg_wal/" + name;
                                up.submit(path, data, data.length, () -> { });
                                walPaths.add(pipeline.storedName(path));
                            }, log);
                    wal.start();
                }
                String versionDir = BaseBackupRules.tablespaceVersionDirectory(facts.version().major(),
                        facts.catalogVersion());
                long listedAt = System.currentTimeMillis();
                DataDirectoryScan scan = DataDirectoryScan.of(dataDir, versionDir, m -> log.accept("warning: " + m));
                Map<String, String> tablespaces = new LinkedHashMap<>();
                scan.tablespaces().forEach((oid, loc) -> tablespaces.put(oid, loc.toString()));
                long total = scan.items().stream().mapToLong(DataDirectoryScan.Item::size).sum();
                log.accept("backup " + id + ": " + scan.items().size() + " entries, " + Spool.human(total)
                        + (tablespaces.isEmpty() ? "" : ", tablespaces " + tablespaces.keySet()));
                progress.start("backup " + id, total);
                io.lifeboat.Trace.mark("data directory listed");
                writer = new LocalArchiveWriter(up, pool, tablespaces, facts.blockSize(), jobs, progress);
                writer.journal(journal(up), listedAt);
                if (resume != null) {
                    writer.resumeFrom(resume);
                }
                FilePlanner planner = new FilePlanner(base, scan.items(), facts.blockSize());
                writer.writeAll(scan.items(), planner::plan);
                io.lifeboat.Trace.mark("files read");
                BackupSession.Stop stop = session.stop();
                io.lifeboat.Trace.mark("backup stopped");
                long stopTimeline = session.stopTimeline(stop.lsn(), facts.inRecovery());
                BackupLabel label = BackupLabel.parse(stop.backupLabel());
                if (!label.startLsn().equals(startLsn) || label.startTimeline() != timeline) {
                    throw new LifeboatException(ErrorKind.DATABASE, "backup_label says the backup starts at "
                            + label.startLsn() + " on timeline " + label.startTimeline() + ", but pg_backup_start said "
                            + startLsn + " and pg_control timeline " + timeline, "run the backup again");
                }
                writer.extraFile("backup_label", stop.backupLabel().getBytes(StandardCharsets.UTF_8), 0600, Instant.now());
                LocalArchiveWriter.Result written = writer.finish();
                long reused = writer.reusedFiles();
                long reusedBytes = writer.reusedBytes();
                writer = null;
                if (written.unreadFiles() > 0) {
                    log.accept("backup " + id + ": " + written.unreadFiles() + " relation files untouched since "
                            + base.parent().id() + " (size, mtime and ctime as it recorded them) were left to the chain unread");
                }
                if (written.blocksUnlikeTheChain() > 0) {
                    base.notes().add(written.blocksUnlikeTheChain() + " blocks whose page LSN is older than the parent's "
                            + "start differ from the chain's copy and were stored");
                    log.accept("warning: backup " + id + ": " + written.blocksUnlikeTheChain() + " blocks whose page LSN is "
                            + "older than the start of " + base.parent().id() + " differ from the chain's copy; they were "
                            + "stored. This server's history is not the one the chain was taken of (its data directory "
                            + "rolled back in place by a restore --delta, or a restored copy that was not promoted, backing "
                            + "up into the same repository?): take a full backup (--full)");
                }
                progress.finish();
                WalSegmentName stopSegment = WalSegmentName.endingAt(TimelineId.of(stopTimeline), stop.lsn(),
                        facts.walSegmentSize());
                if (wal != null) {
                    log.accept("backup " + id + ": waiting for the WAL stream to reach " + stop.lsn());
                    wal.finishAt(stop.lsn(), WAL_WAIT_MILLIS);
                    if (stopTimeline > 1) {
                        storeHistory(up, stopTimeline);
                    }
                } else if (!"off".equals(facts.archiveMode())) {
                    BackupWal.awaitArchived(catalog, pipeline, log, id, stopSegment, req.base().archiveTimeoutSeconds());
                } else {
                    log.accept("warning: WAL archiving is not enabled on the server, and this backup does not include its "
                            + "WAL: it can only be restored if the WAL from its start to its end is archived some other "
                            + "way. Use --include-wal for a self-contained backup, or set up archiving (lifeboat wal-push).");
                }
                String snapshot = session.snapshot().orElse(null);
                byte[] pgManifest = PgManifestWriter.write(facts.version().major(), facts.systemIdentifier(),
                        written.pgFiles(), walRanges(timeline, stopTimeline, stop.lsn()));
                up.submit(PhysicalBackup.BACKUP_MANIFEST, pgManifest, pgManifest.length, () -> { });
                byte[] index = new FileIndex(FileIndex.FORMAT_VERSION, facts.blockSize(), written.index()).toBytes();
                up.submit(FILE_INDEX, index, index.length, () -> { });
                List<StoredObject> objects = new ArrayList<>(up.finish());
                if (resume != null) {
                    objects.addAll(resume.referenced(written.archives()));
                }
                io.lifeboat.Trace.mark("uploads finished");
                List<String> walSegments = new ArrayList<>(walPaths);
                Collections.sort(walSegments);
                if (wal != null) {
                    BackupWal.checkComplete(pipeline, startLsn, timeline, stop.lsn(), stopTimeline,
                            facts.walSegmentSize(), walSegments);
                }
                if (resume != null) {
                    resumedFiles = reused;
                    resumedNote = reused + " files (" + Spool.human(reusedBytes) + ") kept from the interrupted attempt, "
                            + "not read again";
                }
                BackupManifest m = manifest(stop, label, stopTimeline, stopSegment, tablespaces, written, walSegments,
                        objects, snapshot, pgManifest);
                removeLeftovers(objects);
                catalog.writeManifest(m);
                success = true;
                double secs = Math.max(0.001, Duration.between(start, m.stopTime()).toMillis() / 1000.0);
                log.accept("backup " + id + " complete" + (base == null ? " (full)" : " (incremental of "
                        + base.parent().id() + ": " + written.blockFiles() + " relation files in part, "
                        + written.storedFiles() + " whole)") + ": " + objects.size() + " objects, "
                        + Spool.human(written.dataBytes()) + " of data, " + Spool.human(m.storedBytes()) + " stored, in "
                        + secs + " s (" + Spool.human((long) (written.dataBytes() / secs)) + "/s)"
                        + (resume == null ? "" : "; resumed: " + reused + " files (" + Spool.human(reusedBytes)
                        + ") kept from the interrupted attempt"));
                return m;
            } finally {
                progress.finish();
                if (writer != null) {
                    writer.discard();
                }
                if (wal != null) {
                    wal.close();
                }
                if (!success) {
                    discard(id);
                }
            }
        }

        /** The journal of this attempt, in the backup's directory, for a later --resume. */
        private ResumeJournal journal(ParallelUploader up) {
            Map<String, Long> continued = new LinkedHashMap<>();
            if (resume != null) {
                resume.archives().forEach((a, k) -> continued.put(a, k.end()));
            }
            ResumeJournal.Header h = new ResumeJournal.Header(ResumeJournal.FORMAT_VERSION,
                    identity(facts, dataDir, base), java.util.UUID.randomUUID().toString(), session.backendIdentity(),
                    continued);
            ResumeJournal j = new ResumeJournal(pipeline, p -> catalog.layout().backupObject(id, p), h,
                    resume == null ? 0 : resume.lastSeq(), ResumeJournal.interval());
            up.onStored(j::stored);
            return j;
        }

        /**
         * Before the manifest makes the backup complete: removes what the backup's directory holds
         * besides its objects (the journal; what an interrupted attempt stored that was not kept).
         */
        private void removeLeftovers(List<StoredObject> objects) {
            java.util.Set<String> keep = new java.util.HashSet<>();
            objects.forEach(o -> keep.add(catalog.layout().backupObject(id, o.path())));
            try {
                catalog.storage().removeAbandonedWrites(catalog.layout().backupDir(id) + "/", Catalog.ABANDONED_AFTER);
                for (io.lifeboat.storage.ObjectInfo o : catalog.storage().list(catalog.layout().backupDir(id) + "/")) {
                    if (!keep.contains(o.key())) {
                        catalog.storage().delete(o.key());
                    }
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        /** The history file of the timeline the backup ended on, from pg_wal (a restore that follows it needs it). */
        private void storeHistory(ParallelUploader up, long stopTimeline) {
            String name = TimelineId.of(stopTimeline).hex() + ".history";
            Path file = dataDir.resolve("pg_wal").resolve(name);
            try {
                byte[] content = Files.readAllBytes(file);
                up.submit("pg_wal/" + name, content, content.length, () -> { });
                walPaths.add(pipeline.storedName("pg_wal/" + name));
            } catch (IOException e) {
                throw new LifeboatException(ErrorKind.RESOURCE, "cannot read " + file + ": " + e.getMessage(),
                        "the backup ended on timeline " + stopTimeline + " and needs its history file", e);
            }
        }

        /** The WAL recovery needs, per timeline, newest first (as PostgreSQL's manifest lists it). */
        private List<PgManifestWriter.WalRange> walRanges(long startTli, long stopTli, Lsn stop) {
            if (startTli == stopTli) {
                return List.of(new PgManifestWriter.WalRange(stopTli, startLsn, stop));
            }
            Path file = dataDir.resolve("pg_wal").resolve(TimelineId.of(stopTli).hex() + ".history");
            TimelineHistory history;
            try {
                history = TimelineHistory.parse(TimelineId.of(stopTli), Files.readString(file));
            } catch (IOException e) {
                throw new LifeboatException(ErrorKind.RESOURCE, "cannot read " + file + ": " + e.getMessage(),
                        "the backup spans timelines " + startTli + " to " + stopTli + " and needs the history", e);
            }
            List<PgManifestWriter.WalRange> out = new ArrayList<>();
            List<TimelineHistory.Switch> switches = history.ancestors();
            Lsn end = stop;
            for (int i = switches.size(); i >= 0; i--) {
                long tli = i == switches.size() ? stopTli : switches.get(i).parent().value();
                if (tli == startTli) {
                    out.add(new PgManifestWriter.WalRange(tli, startLsn, end));
                    return out;
                }
                Lsn begin = i == 0 ? Lsn.ZERO : switches.get(i - 1).at();
                out.add(new PgManifestWriter.WalRange(tli, begin, end));
                end = begin;
            }
            throw new LifeboatException(ErrorKind.DATABASE, "timeline " + startTli + ", where the backup started, is not "
                    + "in the history of timeline " + stopTli + ", where it ended", "run the backup again");
        }

        private BackupManifest manifest(BackupSession.Stop stop, BackupLabel label, long stopTimeline,
                                        WalSegmentName stopSegment, Map<String, String> tablespaces,
                                        LocalArchiveWriter.Result written, List<String> walSegments,
                                        List<StoredObject> objects, String snapshot, byte[] pgManifest) {
            BackupManifest.IndexedFiles files = new BackupManifest.IndexedFiles(pipeline.storedName(FILE_INDEX), "local",
                    base == null ? null : base.parent().id(), base == null ? List.of() : base.chain(), facts.blockSize(),
                    written.dataBytes(), written.storedFiles(), written.blockFiles(), written.storedBlocks(),
                    facts.dataChecksums(), facts.walLogHints(), dataDir.toString(), true);
            BackupManifest.PhysicalDetails details = new BackupManifest.PhysicalDetails(startLsn.toString(),
                    stop.lsn().toString(), (int) timeline, label.startWalFile(), stopSegment.toString(), label.text(),
                    req.base().includeWal(), tablespaces, label.checkpointLsn().toString(), (int) stopTimeline,
                    facts.walSegmentSize(), written.archives(), walSegments, pipeline.storedName(PhysicalBackup.BACKUP_MANIFEST),
                    io.lifeboat.postgres.PgBackupManifest.parse(pgManifest).version(), snapshot, files);
            Map<String, String> extra = new LinkedHashMap<>();
            extra.put("server", cluster.postgres().host() + ":" + cluster.postgres().port());
            extra.put("backupHost", PhysicalBackup.hostName());
            extra.put("method", "local: pg_backup_start/pg_backup_stop, " + Math.max(1, req.base().jobs())
                    + " readers, tar chunks of " + Spool.human(req.base().chunkBytes()));
            extra.put("kind", base == null ? "full" : "incremental of " + base.parent().id());
            if (written.unreadFiles() > 0) {
                extra.put("filesNotRead", Long.toString(written.unreadFiles()));
            }
            extra.put("checkpoint", req.base().fastCheckpoint() ? "fast" : "spread");
            if (resumedNote != null) {
                extra.put("resumed", resumedNote);
                extra.put("filesResumed", Long.toString(resumedFiles));
            }
            if (base != null && !base.notes().isEmpty()) {
                extra.put("notes", String.join("; ", base.notes()));
            }
            return new BackupManifest(BackupManifest.FORMAT_VERSION, id, BackupType.PHYSICAL, cluster.name(), start,
                    Instant.now(), facts.version().number(), facts.systemIdentifier(), pipeline.compression().id(),
                    pipeline.encryption().scheme(), List.copyOf(objects), null, details, extra);
        }
    }

    /** Best effort: a failed backup should not litter the repository (a killed one is listed as unfinished). */
    private void discard(BackupId id) {
        try {
            int n = catalog.delete(id);
            log.accept("backup " + id + " failed; removed the " + n + " objects stored so far");
        } catch (RuntimeException ignored) {
            // nothing stored yet, or the repository is what failed: `list` shows it as unfinished
        }
    }
}
