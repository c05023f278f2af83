package io.lifeboat.engine.physical;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.BackupManifest;
import io.lifeboat.catalog.BackupType;
import io.lifeboat.catalog.Catalog;
import io.lifeboat.catalog.StoredObject;
import io.lifeboat.config.ClusterConfig;
import io.lifeboat.engine.LocalWrite;
import io.lifeboat.engine.MemoryBudget;
import io.lifeboat.engine.ObjectPipeline;
import io.lifeboat.engine.Parallel;
import io.lifeboat.engine.Progress;
import io.lifeboat.engine.Spool;
import io.lifeboat.engine.archive.WalArchive;
import io.lifeboat.engine.archive.WalFetch;
import io.lifeboat.engine.archive.WalPrefetcher;
import io.lifeboat.postgres.ExternalProcess;
import io.lifeboat.postgres.Lsn;
import io.lifeboat.postgres.PgBinaries;
import io.lifeboat.postgres.PgVersion;
import io.lifeboat.postgres.RecoverySettings;
import io.lifeboat.postgres.RecoveryTimeline;
import io.lifeboat.postgres.RestoredServerSettings;
import io.lifeboat.postgres.ScratchCluster;
import io.lifeboat.postgres.ServerControl;
import io.lifeboat.postgres.TimelineHistory;
import io.lifeboat.postgres.TimelineId;
import io.lifeboat.postgres.WalSegmentName;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;

/**
 * Restores a physical backup into an empty data directory: the chunks of every archive are
 * downloaded in parallel, each verified (size and SHA-256) before its bytes reach the tar
 * extractor; tablespaces go to their original or mapped directories; the files get the right
 * owner and permissions; the WAL stored with the backup goes to pg_wal; recovery settings are
 * written; pg_verifybackup checks the result against PostgreSQL's own backup_manifest; and on
 * request the server is started. If anything fails, everything written is removed again.
 */
public final class PhysicalRestore {
    /** Segments the recovery's prefetch spool holds at most (256 MiB of 16 MiB segments). */
    private static final int PREFETCH_AHEAD = 16;
    private final ClusterConfig cluster;
    private final Catalog catalog;
    private final ObjectPipeline pipeline;
    private final Progress progress;
    private final Consumer<String> log;

    public PhysicalRestore(ClusterConfig cluster, Catalog catalog, ObjectPipeline pipeline, Progress progress,
                           Consumer<String> log) {
        this.cluster = cluster;
        this.catalog = catalog;
        this.pipeline = pipeline;
        this.progress = progress;
        this.log = log;
    }

    /**
     * @param verification "passed", or why pg_verifybackup did not run
     * @param recovery     the recovery settings written, or null (the server replays its pg_wal and starts)
     * @param started      the started server, or null without --start
     */
    public record Result(BackupManifest backup, Path dataDirectory, Map<String, Path> tablespaces, long files,
                         long bytes, String verification, RecoverySettings recovery, ServerControl.Started started,
                         Duration duration) {
    }

    public Result run(PhysicalRestoreRequest req) {
        Instant start = Instant.now();
        Catalog.prepareManifestReader();
        BackupManifest m = catalog.manifestOrNewest(req.backup(), BackupType.PHYSICAL);
        io.lifeboat.Trace.mark("manifest read");
        if (m.type() != BackupType.PHYSICAL) {
            throw new LifeboatException(ErrorKind.USAGE, "backup " + m.id() + " is a " + m.type().id() + " backup",
                    "restore it with --type logical, or pick a physical backup (`lifeboat list`)");
        }
        BackupManifest.PhysicalDetails d = m.physical();
        if (d == null || d.archives() == null || d.archives().isEmpty()) {
            throw new LifeboatException(ErrorKind.CORRUPT, "the manifest of backup " + m.id() + " lists no tar archives",
                    "the manifest is damaged or was written by an incompatible version; restore another backup");
        }
        int major = new PgVersion(m.pgVersionNum()).major();
        Path dataDir = req.dataDirectory().toAbsolutePath().normalize();
        Map<String, String> spaces = d.tablespaces() == null ? Map.of() : d.tablespaces();
        Map<String, Path> spaceTargets = TablespaceMapping.targets(spaces, req.tablespaceMap());
        List<Path> targets = new ArrayList<>();
        targets.add(dataDir);
        spaceTargets.values().forEach(p -> targets.add(p.toAbsolutePath().normalize()));
        // A backup with a file index (local source) whose chain must be put together, or one restored over an
        // existing directory, is restored file by file (IndexedRestore); the others from their tar archives.
        // A resumed backup's archives can hold a file twice (a copy the interrupted attempt stored, then changed): by index.
        boolean resumed = m.extra() != null && m.extra().containsKey("filesResumed");
        ChainView chain = req.delta() || d.incremental() || resumed ? chainFor(m, req) : null;
        if (!req.delta()) {
            checkTargets(targets);
        }
        Path serverBin = req.start() ? serverBinaries(cluster.binDir(), major) : null;
        Ownership owner = Ownership.choose(req.owner(), dataDir);
        Map<String, StoredObject> byPath = new LinkedHashMap<>();
        m.objects().forEach(o -> byPath.put(o.path(), o));
        List<StoredObject> walObjects = d.walSegments() == null ? List.of()
                : d.walSegments().stream().map(p -> object(m, byPath, p)).toList();
        StoredObject pgManifest = d.pgManifest() == null ? null : object(m, byPath, d.pgManifest());
        if (req.checkSpace() && !req.delta()) {
            Map<Path, Long> needs = new LinkedHashMap<>();
            for (BackupManifest.TarArchive a : d.archives()) {
                Path where = a.tablespaceOid() == null ? dataDir : spaceTargets.get(a.tablespaceOid());
                needs.merge(where, a.rawBytes(), Long::sum);
            }
            needs.merge(dataDir, walObjects.stream().mapToLong(StoredObject::rawSize).sum(), Long::sum);
            if (chain != null) {
                needs.clear(); // a chain's archives are smaller than what it restores
                needs.put(dataDir, d.files().dataBytes() + walObjects.stream().mapToLong(StoredObject::rawSize).sum());
            }
            DiskSpace.check(needs, DiskSpace.REAL);
        }
        long total = (chain != null ? d.files().dataBytes()
                : d.archives().stream().mapToLong(BackupManifest.TarArchive::rawBytes).sum())
                + walObjects.stream().mapToLong(StoredObject::rawSize).sum();
        log.accept("restore " + m.id() + " (PostgreSQL " + new PgVersion(m.pgVersionNum()) + ", " + Spool.human(total)
                + ") into " + dataDir + (spaceTargets.isEmpty() ? "" : ", tablespaces " + spaceTargets)
                + (owner.changes() ? ", owned by " + owner.userName() : ""));

        pipeline.checkReadable(catalog, m);
        // Fits in the heap, or fails here, before anything is written.
        List<BackupManifest.TarArchive> extracted = chain != null ? List.of() : d.archives();
        MemoryBudget.RestorePlan plan = restorePlan(m, byPath, extracted, req.jobs());
        boolean existing = req.delta() && DeltaTarget.prepare(m, dataDir, log);
        RestoredState.Vouching vouching = existing && req.trustUnchanged() ? vouching(dataDir, m, chain) : null;
        List<Path> created = new ArrayList<>();
        Ending ending = new Ending(targets, created, dataDir.resolve("pg_wal"));
        ending.keepFiles = existing;
        // Ctrl-C or a kill ends the JVM without finally blocks: the hook stops what this restore started.
        Thread hook = new Thread(() -> ending.end(true), "lifeboat-restore-interrupted");
        Runtime.getRuntime().addShutdownHook(hook);
        ExecutorService fetchPool = Executors.newFixedThreadPool(Math.max(1, req.jobs()), r -> {
            Thread t = new Thread(r, "lifeboat-download");
            t.setDaemon(true);
            return t;
        });
        FileSyncer syncer = new FileSyncer(req.sync());
        try {
            for (Path t : targets) {
                prepare(t, owner, created);
            }
            // Decided before anything is extracted, so that the first WAL downloads overlap the extraction.
            RecoverySettings chosen = recoverySettings(req, d);
            boolean fetchesWal = chosen != null && chosen.restoreCommand() != null && !d.walIncluded();
            Map<TimelineId, TimelineHistory> histories = fetchesWal ? histories(d) : Map.of();
            RecoverySettings recovery = fetchesWal && chosen.targetTimeline() == null
                    ? chosen.withTargetTimeline(chooseTimeline(m, d, histories)) : chosen;
            if (fetchesWal) {
                ending.prefetcher = startPrefetcher(d, dataDir, owner, recovery, histories, req.jobs());
            }
            progress.start("restore " + m.id(), total);
            long[] counts = new long[2];
            List<Parallel.Task<Void>> tasks = new ArrayList<>();
            for (BackupManifest.TarArchive a : extracted) {
                Path root = a.tablespaceOid() == null ? dataDir : spaceTargets.get(a.tablespaceOid());
                Map<String, Path> links = new LinkedHashMap<>();
                if (a.tablespaceOid() == null) {
                    spaceTargets.forEach((oid, p) -> links.put("pg_tblspc/" + oid, p));
                }
                List<StoredObject> chunks = a.chunks().stream().map(p -> object(m, byPath, p)).toList();
                tasks.add(() -> {
                    TarExtractor x = new TarExtractor(root, owner, links, progress::advance, syncer::file);
                    try (ChunkStream in = new ChunkStream(chunks, (o, into) -> fetchInto(m, o, into), fetchPool, plan.window())) {
                        x.extract(in, "archive " + a.name() + " of backup " + m.id());
                    }
                    if (!x.skipped().isEmpty()) {
                        log.accept("warning: skipped special files in " + a.name() + ": " + x.skipped());
                    }
                    synchronized (counts) {
                        counts[0] += x.files();
                        counts[1] += x.bytes();
                    }
                    return null;
                });
            }
            // Each archive being extracted holds window + 1 decoded chunks: the plan extracts as many
            // archives at a time, reading as far ahead, as the heap holds (MemoryBudget).
            try (MemoryBudget.Lease held = MemoryBudget.ofThisJvm().hold(plan.bytes(), log)) {
                Parallel.run(plan.streams(), tasks);
            }
            if (chain != null) {
                IndexedRestore.Written w = new IndexedRestore(catalog, pipeline, progress, log).run(chain, dataDir,
                        spaceTargets, owner, syncer, req.jobs(), existing, vouching);
                counts[0] = w.files();
                counts[1] = w.bytes();
                if (existing) {
                    DeltaTarget.done(dataDir);
                    log.accept("restore " + m.id() + " (delta): " + w.filesKept() + " files (" + Spool.human(w.bytesKept())
                            + ") already as in the backup and kept, " + w.files() + " files written in whole or in part, "
                            + w.removed() + " entries the backup does not hold removed"
                            + (vouching == null ? "" : "; " + w.unread() + " files compared by the record of the last "
                            + "restore, without reading them"));
                }
            }
            io.lifeboat.Trace.mark("extracted");
            // Taken before anything below writes into the files (recovery settings): what holds the backup's content.
            RestoredState restored = d.files() == null ? null
                    : RestoredState.take(m.id().toString(), m.systemIdentifier(), dataDir, spaceTargets, req.sync());
            writeWal(m, walObjects, dataDir, owner, syncer);
            if (pgManifest != null) {
                writeFile(dataDir.resolve("backup_manifest"), fetchChunk(m, pgManifest), owner);
                syncer.file(dataDir.resolve("backup_manifest"));
            }
            LocalWrite.run(dataDir, () -> Files.setPosixFilePermissions(dataDir, PosixFilePermissions.fromString("rwx------")));
            progress.finish();
            log.accept("restore " + m.id() + ": " + counts[0] + " files, " + Spool.human(counts[1]) + " written and verified"
                    + (walObjects.isEmpty() ? "" : ", " + walObjects.size() + " WAL files in pg_wal"));

            String verification = !req.verify() ? "skipped (--no-verify)"
                    : pgManifest == null ? "skipped: the backup has no backup_manifest (the SHA-256 of every object was checked)"
                    : verify(m, dataDir, d.walIncluded(), req.jobs());
            if (recovery != null) {
                LocalWrite.run(dataDir, () -> recovery.writeTo(dataDir));
                for (String f : List.of("recovery.signal", "postgresql.auto.conf")) {
                    LocalWrite.run(dataDir.resolve(f), () -> owner.apply(dataDir.resolve(f)));
                    syncer.file(dataDir.resolve(f));
                }
                log.accept("recovery settings written: " + recovery.settings().keySet() + " + recovery.signal");
            }
            applyServerSettings(m, req.server(), dataDir, owner, syncer);
            syncer.finish(targets);
            if (restored != null) {
                // Last, once every file it describes is on disk: a delta restore that trusts it need not flush them.
                restored.write(dataDir, owner);
                syncer.now(dataDir.resolve(RestoredState.FILE));
                syncer.now(dataDir);
            }
            io.lifeboat.Trace.mark("flushed");
            ending.success = true;
            ServerControl.Started started = null;
            if (req.start()) {
                log.accept("starting the restored server (pg_ctl from " + serverBin + ", as " + owner.userName() + ")");
                ending.server = new ServerControl(serverBin, dataDir, owner.userName());
                started = ending.server.start(req.port(), req.startTimeout(), req.server().standby(), log);
                log.accept("server started on port " + started.port() + ": " + started.state() + ", timeline "
                        + started.timeline() + (started.redoDoneAt() != null ? ", recovery ended at " + started.redoDoneAt()
                        : started.consistentAt() != null ? ", consistent at " + started.consistentAt() : "")
                        + (started.paused() ? " (paused at the recovery target)" : ""));
                if (recovery != null && recovery.restoreCommand() != null && recovery.target().isEmpty()
                        && !req.server().standby() && !started.paused()) {
                    checkRecoveryEnd(m, d, started);
                }
            }
            ending.handedOver = true;
            return new Result(m, dataDir, spaceTargets, counts[0], counts[1], verification, recovery, started,
                    Duration.between(start, Instant.now()));
        } catch (IOException e) {
            ending.interrupted = interruption(e);
            throw new UncheckedIOException(e);
        } catch (RuntimeException | Error e) {
            ending.interrupted = interruption(e);
            throw e;
        } finally {
            progress.finish();
            fetchPool.shutdownNow();
            syncer.close();
            ending.end(ending.interrupted);
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook runs (or ran) anyway
            }
        }
    }

    /** Whether a failure is the restore's thread being interrupted, or came from it. */
    private static boolean interruption(Throwable t) {
        if (Thread.currentThread().isInterrupted()) {
            return true;
        }
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof InterruptedException || c instanceof java.io.InterruptedIOException
                    || c instanceof java.nio.channels.ClosedByInterruptException
                    || (c instanceof LifeboatException le && le.kind() == ErrorKind.INTERRUPTED)) {
                return true;
            }
        }
        return false;
    }

    /**
     * How a restore ends, however it ends (returned, failed, or interrupted: then from a shutdown
     * hook): a server it started and did not hand over is stopped, its own prefetcher and those its
     * recovery started are ended (these run detached and would otherwise keep writing into the
     * directory, even after it was removed), and an unfinished restore's files are removed.
     */
    private final class Ending {
        private final List<Path> targets;
        private final List<Path> created;
        private final Path pgWal;
        volatile boolean success;
        /** A delta restore over an existing directory: its files are never removed. */
        volatile boolean keepFiles;
        volatile ServerControl server;
        volatile boolean handedOver;
        volatile WalPrefetcher prefetcher;
        /** The restore failed because it was interrupted (a signal: Ctrl-C, a service manager's stop). */
        volatile boolean interrupted;
        private boolean ended;

        Ending(List<Path> targets, List<Path> created, Path pgWal) {
            this.targets = targets;
            this.created = created;
            this.pgWal = pgWal;
        }

        synchronized void end(boolean interrupted) {
            if (ended) {
                return;
            }
            ended = true;
            ServerControl s = server;
            if (s != null && !handedOver && Files.exists(pgWal.getParent().resolve("postmaster.pid"))) {
                s.stop("fast");
                log.accept("restore " + (interrupted ? "interrupted" : "failed") + ": stopped the restored server (its "
                        + "files stay in " + pgWal.getParent() + ")");
            }
            WalPrefetcher p = prefetcher;
            if (p != null) {
                p.close(); // before anything is removed: no download writes after this
                log.accept("WAL prefetch: " + p.fetched() + " files fetched ahead of recovery");
            }
            if (s != null) {
                int n = WalFetch.stopPrefetchers(pgWal);
                if (n > 0) {
                    log.accept("ended " + n + " WAL prefetch process" + (n == 1 ? "" : "es") + " of the restored server");
                }
                if (handedOver) {
                    WalFetch.dropCache(pgWal); // recovery is over (a failed one keeps it for pg_ctl start)
                }
            }
            if (!success && keepFiles) {
                log.accept("restore " + (interrupted ? "interrupted" : "failed") + ": the delta restore into " + pgWal.getParent()
                        + " did not finish; it has no " + io.lifeboat.postgres.ControlFile.PATH + " until a restore --delta "
                        + "completes");
            } else if (!success) {
                cleanUp(targets, created);
            }
        }
    }

    /**
     * For {@code --delta --trust-unchanged}: the record the last restore left in the directory, with
     * the chain of the backup it restored; null (said why) when there is none to trust.
     */
    private RestoredState.Vouching vouching(Path dataDir, BackupManifest m, ChainView chain) {
        RestoredState state = RestoredState.read(dataDir, m.systemIdentifier(), log);
        if (state == null) {
            return null;
        }
        ChainView recorded = null;
        for (int k = 0; k < chain.links().size() && recorded == null; k++) {
            if (chain.links().get(k).manifest().id().toString().equals(state.backup())) {
                recorded = new ChainView(chain.links().subList(0, k + 1));
            }
        }
        if (recorded == null) {
            try {
                recorded = ChainLoader.load(catalog, pipeline, catalog.manifest(io.lifeboat.catalog.BackupId.parse(state.backup())));
            } catch (LifeboatException e) {
                if (e.kind() == ErrorKind.INTERRUPTED) {
                    throw e;
                }
                log.accept("delta restore: the last restore into " + dataDir + " was of backup " + state.backup()
                        + ", whose file index cannot be read (" + e.getMessage() + "): every file is read and compared");
                return null;
            }
        }
        log.accept("delta restore: " + state.size() + " files recorded by the restore of " + state.backup() + " into "
                + dataDir + "; those with the inode, size, mtime and ctime it recorded are compared by that backup's "
                + "CRCs, not read (--trust-unchanged)");
        return new RestoredState.Vouching(state, recorded);
    }

    /** The chain a backup with a file index is put together from; a delta restore needs such a backup. */
    private ChainView chainFor(BackupManifest m, PhysicalRestoreRequest req) {
        if (m.physical().files() == null) {
            throw new LifeboatException(ErrorKind.USAGE, "backup " + m.id() + " has no file index, so it cannot be "
                    + "restored with --delta", "restore it into an empty directory, or take backups with --source local");
        }
        ChainView chain = ChainLoader.load(catalog, pipeline, m);
        io.lifeboat.Trace.mark("chain loaded");
        if (chain.links().size() > 1) {
            log.accept("restore " + m.id() + ": an incremental backup; its files are put together from the chain "
                    + chain.links().stream().map(l -> l.manifest().id().toString()).toList());
        }
        return chain;
    }

    /**
     * The timeline recovery follows, written explicitly (recovery_target_timeline): the newest in
     * the archive whose history holds this backup, not PostgreSQL's 'latest', which would take a
     * timeline that branched off before the backup and refuse to start.
     */
    private String chooseTimeline(BackupManifest m, BackupManifest.PhysicalDetails d,
                                  Map<TimelineId, TimelineHistory> histories) {
        if (d.startLsn() == null || d.stopLsn() == null) {
            return null; // a manifest too old to say: PostgreSQL's default
        }
        TimelineId startTli = TimelineId.of(Math.max(1, d.timeline()));
        TimelineId stopTli = stopTimeline(d);
        RecoveryTimeline c = RecoveryTimeline.choose(m.id().toString(), startTli, Lsn.parse(d.startLsn()), stopTli,
                Lsn.parse(d.stopLsn()), histories);
        log.accept("restore " + m.id() + ": recovery follows timeline " + c.timeline()
                + (histories.isEmpty() ? " (the archive has no later timeline)" : "")
                + (c.notes().isEmpty() ? "" : "; " + String.join("; ", c.notes())));
        return Long.toString(c.timeline().value());
    }

    private static TimelineId stopTimeline(BackupManifest.PhysicalDetails d) {
        return d.stopTimeline() > 0 ? TimelineId.of(d.stopTimeline()) : TimelineId.of(Math.max(1, d.timeline()));
    }

    /** The history files of the timelines after the backup's, checked (see WalArchive#historiesAfter). */
    private Map<TimelineId, TimelineHistory> histories(BackupManifest.PhysicalDetails d) {
        try {
            return archive().historiesAfter(stopTimeline(d));
        } catch (IOException e) {
            throw new LifeboatException(ErrorKind.STORAGE, "cannot read the timeline history files in "
                    + catalog.storage().describe() + ": " + e.getMessage(), "check that the repository is reachable", e);
        }
    }

    /**
     * The recovery's prefetcher, in this process, from the backup's first segment on: its downloads
     * overlap the extraction, and once the server runs it stays ahead of the replay until the
     * restore ends. Only an optimisation: null if it cannot start (recovery then fetches WAL itself).
     */
    private WalPrefetcher startPrefetcher(BackupManifest.PhysicalDetails d, Path dataDir, Ownership owner,
                                          RecoverySettings recovery, Map<TimelineId, TimelineHistory> histories, int jobs) {
        if (d.startWalSegment() == null) {
            return null;
        }
        Path pgWal = dataDir.resolve("pg_wal");
        try {
            // pg_wal as the backup's tar makes it (which then finds it there), so that the spool can be below it
            LocalWrite.run(pgWal, () -> {
                if (!Files.isDirectory(pgWal)) {
                    Files.createDirectory(pgWal, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
                    owner.apply(pgWal);
                }
            });
            WalSegmentName first = WalSegmentName.parse(d.startWalSegment(), d.segmentSize());
            TimelineHistory followed = followed(recovery.targetTimeline(), stopTimeline(d), histories);
            Optional<WalPrefetcher> p = WalPrefetcher.open(archive(), pgWal,
                    new WalPrefetcher.Settings(PREFETCH_AHEAD, Math.max(2, jobs), d.segmentSize()), owner::apply, log);
            p.ifPresent(x -> x.startInBackground(first, followed, lastNeeded(recovery, d, followed)));
            return p.orElse(null);
        } catch (IOException | RuntimeException e) {
            log.accept("warning: could not start the WAL prefetch (" + e.getMessage() + "); recovery fetches WAL itself");
            return null;
        }
    }

    /** The history of the timeline recovery_target_timeline names (a number, latest or current). */
    private static TimelineHistory followed(String setting, TimelineId stopTli, Map<TimelineId, TimelineHistory> histories) {
        if (setting == null || setting.equals("current")) {
            return TimelineHistory.root(stopTli);
        }
        if (setting.equals("latest")) {
            return histories.values().stream().reduce((a, b) -> b).orElse(TimelineHistory.root(stopTli));
        }
        TimelineHistory h = histories.get(TimelineId.parse(setting));
        return h != null ? h : TimelineHistory.root(stopTli);
    }

    /** The last segment a recovery target needs, when it is known before replay (an LSN, or immediate). */
    private static WalSegmentName lastNeeded(RecoverySettings recovery, BackupManifest.PhysicalDetails d,
                                             TimelineHistory followed) {
        Lsn at = recovery.target().containsKey("lsn") ? Lsn.parse(recovery.target().get("lsn"))
                : recovery.target().containsKey("") && d.stopLsn() != null ? Lsn.parse(d.stopLsn()) : null;
        if (at == null) {
            return null;
        }
        TimelineId t = followed.timelineAt(at);
        return WalSegmentName.containing(t != null ? t : followed.timeline(), at, d.segmentSize());
    }

    /** A promoted server must have replayed what the archive holds of its lineage (see RecoveryEndCheck). */
    private void checkRecoveryEnd(BackupManifest m, BackupManifest.PhysicalDetails d, ServerControl.Started started) {
        Optional<RecoveryEndCheck.Shortfall> shortfall;
        try {
            shortfall = RecoveryEndCheck.check(started.history(), archive(), d.segmentSize());
        } catch (IOException e) {
            throw new LifeboatException(ErrorKind.STORAGE, "cannot compare where recovery ended with the archive in "
                    + catalog.storage().describe() + ": " + e.getMessage(), "check that the repository is reachable; "
                    + "the restored server was stopped", e);
        }
        if (shortfall.isPresent()) {
            throw new LifeboatException(ErrorKind.CONFLICT, "the restore of " + m.id() + " is incomplete: "
                    + shortfall.get().describe(), "the restored server was stopped (it has been promoted, so starting "
                    + "it again does not replay the rest): fix what made restore_command miss the WAL (see "
                    + started.log() + "), remove " + started.log().getParent().getParent() + " and restore again; "
                    + "`lifeboat verify` checks the archive");
        }
        log.accept("restore " + m.id() + ": recovery replayed the archive to its end");
    }

    private WalArchive archive() {
        return new WalArchive(catalog.storage(), catalog.layout(), pipeline);
    }

    /** Archiving off and no primary followed, unless asked for (see RestoredServerSettings); says what it did. */
    private void applyServerSettings(BackupManifest m, RestoredServerSettings settings, Path dataDir, Ownership owner,
                                     FileSyncer syncer) throws IOException {
        boolean fromStandby = RestoredServerSettings.fromStandby(dataDir);
        for (String f : settings.writeTo(dataDir)) {
            Path p = dataDir.resolve(f.replace(" (removed)", ""));
            if (f.endsWith(" (removed)")) {
                syncer.removed(p); // written by the restore and queued to be flushed a moment ago (standby.signal)
            }
            if (Files.exists(p)) {
                owner.apply(p);
                syncer.file(p);
            }
        }
        log.accept("restore " + m.id() + ": " + (settings.archiveMode() == RestoredServerSettings.ArchiveMode.OFF
                ? "archiving is off in the restored server (archive_mode = off in postgresql.auto.conf), so it cannot "
                + "write into the repository; --archive-mode preserve keeps the backup's archiving for a copy that "
                + "becomes the new primary"
                : "archiving kept as the backup has it (--archive-mode preserve): if archive_command points at this "
                + "repository, the restored server's new timeline is archived there"));
        if (settings.standby()) {
            log.accept("restore " + m.id() + ": the restored server is a standby (standby.signal"
                    + (fromStandby ? " and primary_conninfo kept from the backup" : "; set primary_conninfo to follow a primary")
                    + ")");
        } else if (fromStandby) {
            log.accept("restore " + m.id() + ": the backup was taken from a standby; the restored server is a standalone "
                    + "server (standby.signal removed, primary_conninfo and primary_slot_name cleared); --standby keeps it "
                    + "a standby");
        }
    }

    /** The default recovery: none with WAL included, else archive recovery through wal-fetch. */
    private RecoverySettings recoverySettings(PhysicalRestoreRequest req, BackupManifest.PhysicalDetails d) {
        if (req.recovery() != null) {
            return req.recovery();
        }
        if (d.walIncluded()) {
            return null;
        }
        String cmd = req.restoreCommand() != null ? req.restoreCommand()
                : "lifeboat wal-fetch --cluster " + cluster.name() + " %f %p";
        return RecoverySettings.archiveRecovery(cmd);
    }

    private static StoredObject object(BackupManifest m, Map<String, StoredObject> byPath, String path) {
        StoredObject o = byPath.get(path);
        if (o == null) {
            throw new LifeboatException(ErrorKind.CORRUPT, "the manifest of backup " + m.id() + " refers to " + path
                    + " but does not list it", "the manifest is damaged; restore another backup");
        }
        return o;
    }

    private static void checkTargets(List<Path> targets) {
        for (int i = 0; i < targets.size(); i++) {
            for (int j = i + 1; j < targets.size(); j++) {
                if (targets.get(i).equals(targets.get(j))) {
                    throw new LifeboatException(ErrorKind.USAGE, "two parts of the backup would go to " + targets.get(i),
                            "give each tablespace its own directory with --tablespace-map OID=DIR");
                }
            }
        }
        for (Path t : targets) {
            if (Files.exists(t, LinkOption.NOFOLLOW_LINKS)) {
                if (!Files.isDirectory(t)) {
                    throw new LifeboatException(ErrorKind.CONFLICT, t + " exists and is not a directory",
                            "restore into an empty or new directory");
                }
                if (!isEmpty(t)) {
                    throw new LifeboatException(ErrorKind.CONFLICT, "the target directory " + t + " is not empty",
                            "a physical restore needs an empty or new directory (stop the server and move the old data "
                                    + "away first); tablespaces can be sent elsewhere with --tablespace-map OID=DIR");
                }
            }
        }
    }

    private static boolean isEmpty(Path dir) {
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            return !s.iterator().hasNext();
        } catch (IOException e) {
            throw new LifeboatException(ErrorKind.RESOURCE, "cannot read " + dir + ": " + e.getMessage(),
                    "check its permissions", e);
        }
    }

    private static void prepare(Path dir, Ownership owner, List<Path> created) {
        LocalWrite.run(dir, () -> prepareNow(dir, owner, created));
    }

    private static void prepareNow(Path dir, Ownership owner, List<Path> created) throws IOException {
        if (!Files.exists(dir)) {
            Path p = dir;
            List<Path> missing = new ArrayList<>();
            while (p != null && !Files.exists(p)) {
                missing.add(0, p);
                p = p.getParent();
            }
            for (Path q : missing) {
                Files.createDirectory(q, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
                created.add(q);
            }
            // Only the target itself is the server's; parents we had to create stay ours but passable.
            for (Path q : missing.subList(0, missing.size() - 1)) {
                Files.setPosixFilePermissions(q, PosixFilePermissions.fromString("rwxr-xr-x"));
            }
        }
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        owner.apply(dir);
    }

    /** Removes what the restore wrote: the targets were empty or absent when it began. */
    private void cleanUp(List<Path> targets, List<Path> created) {
        for (Path t : targets) {
            if (!Files.isDirectory(t, LinkOption.NOFOLLOW_LINKS)) {
                continue;
            }
            try (DirectoryStream<Path> s = Files.newDirectoryStream(t)) {
                for (Path child : s) {
                    ScratchCluster.deleteTree(child);
                }
            } catch (IOException ignored) {
                // best effort
            }
        }
        for (int i = created.size() - 1; i >= 0; i--) {
            try {
                Files.deleteIfExists(created.get(i));
            } catch (IOException ignored) {
                // not empty (someone else's files): leave it
            }
        }
        log.accept("restore failed: removed what it had written to " + targets);
    }

    private byte[] fetchChunk(BackupManifest m, StoredObject o) throws IOException {
        byte[] out = new byte[ChunkStream.arrayLength("object " + objectKey(m, o), o.rawSize())];
        fetchInto(m, o, out);
        return out;
    }

    private void fetchInto(BackupManifest m, StoredObject o, byte[] into) throws IOException {
        pipeline.fetchInto(objectKey(m, o), o, into, PhysicalRestore::storedBuffer);
    }

    /** How many archives to extract at once and how many chunks ahead, from the largest chunk and the heap. */
    private MemoryBudget.RestorePlan restorePlan(BackupManifest m, Map<String, StoredObject> byPath,
                                                 List<BackupManifest.TarArchive> archives, int jobs) {
        long raw = 0;
        long stored = 0;
        for (BackupManifest.TarArchive a : archives) {
            for (String p : a.chunks()) {
                StoredObject o = object(m, byPath, p);
                raw = Math.max(raw, o.rawSize());
                stored = Math.max(stored, o.size());
            }
        }
        MemoryBudget budget = MemoryBudget.ofThisJvm();
        MemoryBudget.RestorePlan plan = budget.restore(jobs, archives.size(), raw, stored);
        int widest = Math.max(1, Math.min(archives.size(), Math.max(1, jobs)));
        if (plan.streams() < widest || plan.window() < Math.max(1, jobs)) {
            log.accept("reading " + plan.window() + " chunks ahead in " + plan.streams() + " archives at a time: the "
                    + "buffers must fit in the JVM's heap (" + (budget.buffers() >> 20) + " MiB for buffers)");
        }
        return plan;
    }

    /** One array per download thread for the stored bytes of a piece, grown as needed: a restore allocates few. */
    private static final ThreadLocal<byte[]> STORED = ThreadLocal.withInitial(() -> new byte[0]);

    private static byte[] storedBuffer(int size) {
        byte[] b = STORED.get();
        if (b.length < size) {
            b = new byte[size];
            STORED.set(b);
        }
        return b;
    }

    private String objectKey(BackupManifest m, StoredObject o) {
        return catalog.layout().backupObject(m.id(), o.path());
    }

    private void writeWal(BackupManifest m, List<StoredObject> wal, Path dataDir, Ownership owner, FileSyncer syncer)
            throws IOException {
        if (wal.isEmpty()) {
            return;
        }
        Path pgWal = dataDir.resolve("pg_wal");
        Path status = pgWal.resolve("archive_status");
        for (Path p : List.of(pgWal, status)) {
            if (!Files.isDirectory(p)) {
                LocalWrite.run(p, () -> {
                    Files.createDirectories(p);
                    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwx------"));
                    owner.apply(p);
                });
            }
        }
        List<Parallel.Task<Void>> tasks = new ArrayList<>();
        for (StoredObject o : wal) {
            String raw = ObjectPipeline.rawName(o);
            if (!raw.startsWith("pg_wal/") || raw.substring(7).contains("/")) {
                throw new LifeboatException(ErrorKind.CORRUPT, "backup " + m.id() + " lists a WAL object " + o.path()
                        + " outside pg_wal", "the manifest is damaged; restore another backup");
            }
            String name = raw.substring(7);
            tasks.add(() -> {
                byte[] data = fetchChunk(m, o);
                writeFile(pgWal.resolve(name), data, owner);
                // Already archived (it came from the backup): a restored server with archiving on must not push it again.
                writeFile(status.resolve(name + ".done"), new byte[0], owner);
                syncer.file(pgWal.resolve(name));
                syncer.file(status.resolve(name + ".done"));
                progress.advance(data.length);
                return null;
            });
        }
        Parallel.run(2, tasks);
    }

    private static void writeFile(Path p, byte[] data, Ownership owner) {
        LocalWrite.run(p, () -> {
            Files.write(p, data, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-------"));
            owner.apply(p);
        });
    }

    /** Runs pg_verifybackup of the backup's major version (or newer) against the restored directory. */
    private String verify(BackupManifest m, Path dataDir, boolean walIncluded, int jobs) {
        int major = new PgVersion(m.pgVersionNum()).major();
        PgBinaries.Tool tool;
        try {
            tool = new PgBinaries(cluster.binDir()).forMajor("pg_verifybackup", major, "to verify the restored copy");
        } catch (LifeboatException e) {
            // Lifeboat's own check instead: the files' sizes and CRC-32C against the manifest (not its WAL).
            int files = ManifestCheck.run(dataDir, jobs);
            String why = "passed (Lifeboat's own check: " + files + " files' sizes and CRC-32C against backup_manifest; no "
                    + "pg_verifybackup " + major + " or newer installed)";
            log.accept("warning: no pg_verifybackup " + major + " or newer installed; " + why);
            return why;
        }
        List<String> cmd = new ArrayList<>(List.of(tool.path().toString()));
        if (!walIncluded) {
            cmd.add("--no-parse-wal");
        }
        cmd.add("--ignore=" + RestoredState.FILE); // the last restore's record, until this one replaces it
        cmd.add(dataDir.toString());
        ExternalProcess.Result r = new ExternalProcess(cmd, Map.of("LC_ALL", "C")).run();
        if (!r.ok()) {
            throw new LifeboatException(ErrorKind.CORRUPT, "pg_verifybackup " + tool.version() + " found problems in the "
                    + "restored copy of " + m.id() + ": " + ExternalProcess.lastLines(r.stdout() + r.stderr(), 6),
                    "the restored files do not match PostgreSQL's backup_manifest; restore another backup and report this");
        }
        log.accept("pg_verifybackup " + tool.version() + ": " + r.stdout().strip());
        return "passed (pg_verifybackup " + tool.version() + (walIncluded ? ")" : "; WAL not parsed (-n): the backup does "
                + "not hold its WAL, recovery fetches it from the archive and checks each segment's SHA-256)");
    }

    /** The OS user a restore into {@code dataDirectory} gives the files to, who runs the server (see Ownership). */
    public static String serverUser(String requestedOwner, Path dataDirectory) {
        return Ownership.choose(requestedOwner, dataDirectory.toAbsolutePath().normalize()).userName();
    }

    /** The bin directory with pg_ctl of exactly this major version (a server only runs its own data). */
    public static Path serverBinaries(Path binDir, int major) {
        PgBinaries bins = new PgBinaries(binDir);
        Optional<PgBinaries.Tool> ctl = bins.all("pg_ctl").stream().filter(t -> t.version().major() == major).findFirst();
        if (ctl.isEmpty()) {
            throw new LifeboatException(ErrorKind.TOOL, "the backup is of PostgreSQL " + major + ", and no PostgreSQL "
                    + major + " server (pg_ctl) is installed to start it",
                    "install it (Debian: apt-get install postgresql-" + major + "), pass --bin-dir DIR, or restore "
                            + "without --start");
        }
        return ctl.get().path().getParent();
    }
}
