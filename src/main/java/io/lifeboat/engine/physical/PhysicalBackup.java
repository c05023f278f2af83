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
import io.lifeboat.engine.Parallel;
import io.lifeboat.engine.Progress;
import io.lifeboat.engine.Spool;
import io.lifeboat.postgres.BackupLabel;
import io.lifeboat.postgres.Lsn;
import io.lifeboat.postgres.PgBackupManifest;
import io.lifeboat.postgres.PgConnectionSettings;
import io.lifeboat.postgres.PgVersion;
import io.lifeboat.postgres.ReplicationConnection;
import io.lifeboat.postgres.TarStreamWatcher;
import io.lifeboat.postgres.TimelineId;
import io.lifeboat.postgres.WalSegmentName;
import io.lifeboat.postgres.WalStreamer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A physical backup of the whole cluster over the replication protocol (BASE_BACKUP, as
 * pg_basebackup does it, but spoken by Lifeboat itself): every tablespace arrives as a tar stream,
 * is cut into chunks that are compressed and uploaded in parallel while the next chunk is read, and
 * nothing is written to a local disk. PostgreSQL's own backup_manifest is stored too, so that
 * pg_verifybackup can check a restored copy. With {@code includeWal}, a second replication
 * connection streams the WAL the backup needs (pg_basebackup -X stream). The manifest is written
 * last.
 */
public final class PhysicalBackup {
    static final String BACKUP_MANIFEST = "backup_manifest";
    private static final Pattern ARCHIVE = Pattern.compile("base\\.tar|(\\d+)\\.tar");
    private static final long WAL_WAIT_MILLIS = 10 * 60 * 1000L;

    private final ClusterConfig cluster;
    private final Catalog catalog;
    private final ObjectPipeline pipeline;
    private final Progress progress;
    private final Consumer<String> log;

    public PhysicalBackup(ClusterConfig cluster, Catalog catalog, ObjectPipeline pipeline, Progress progress,
                          Consumer<String> log) {
        this.cluster = cluster;
        this.catalog = catalog;
        this.pipeline = pipeline;
        this.progress = progress;
        this.log = log;
    }

    public BackupManifest run(PhysicalBackupRequest req) {
        return run(req, LocalBackupRequest.Kind.FULL, null);
    }

    /**
     * @param kind       FULL, INCREMENTAL (the server's own incremental, PostgreSQL 17+) or AUTO (as
     *                   {@code fullEvery} says)
     */
    public BackupManifest run(PhysicalBackupRequest asked, LocalBackupRequest.Kind kind, io.lifeboat.config.FullEvery fullEvery) {
        // The chunk buffers must fit in the heap: decided before the server is asked for anything.
        MemoryBudget budget = MemoryBudget.ofThisJvm();
        PhysicalBackupRequest req = asked.fitting(budget, log);
        try (MemoryBudget.Lease held = budget.hold(MemoryBudget.backupNeed(req.jobs(), req.chunkBytes()), log)) {
            try {
                return attempt(req, kind, fullEvery);
            } catch (LifeboatException e) {
                if (kind == LocalBackupRequest.Kind.FULL || !RemoteIncremental.summariesMissing(e)) {
                    throw e;
                }
                log.accept("warning: the server cannot take an incremental backup: " + e.getMessage() + ". Its WAL summaries "
                        + "since the newest backup are gone (wal_summary_keep_time, or summarize_wal was off for a while). "
                        + "TAKING A FULL BACKUP INSTEAD; later incrementals build on it.");
                return attempt(req, LocalBackupRequest.Kind.FULL, null);
            }
        }
    }

    private BackupManifest attempt(PhysicalBackupRequest req, LocalBackupRequest.Kind kind,
                                   io.lifeboat.config.FullEvery fullEvery) {
        Instant start = Instant.now();
        PgConnectionSettings conn = cluster.postgres();
        try (ReplicationConnection rc = ReplicationConnection.open(conn)) {
            io.lifeboat.Trace.mark("replication connection open");
            PgVersion server = rc.serverVersion();
            if (server.major() < 15) {
                throw new LifeboatException(ErrorKind.DATABASE, "physical backups need PostgreSQL 15 or newer; the server at "
                        + conn.host() + ":" + conn.port() + " is " + server, "take logical backups of this server, or use "
                        + "pg_basebackup for it until it is upgraded");
            }
            ReplicationConnection.SystemIdentity ident = rc.identifySystem();
            long segmentSize = parseSize(rc.show("wal_segment_size"));
            boolean archiving = !req.includeWal() && !"off".equals(rc.show("archive_mode"));
            // From PostgreSQL 17 on, every backup is indexed file by file as it streams by, so that the server's
            // incrementals can build on it and a chain restores from the repository.
            int blockSize = server.major() >= 17 ? Integer.parseInt(rc.show("block_size")) : 0;
            RemoteIncremental incremental = RemoteIncremental.choose(catalog, pipeline, kind, fullEvery, rc, server, ident,
                    blockSize, start, log);
            // The repository is claimed (its cluster.json checked, a free backup id found, both at
            // once) while the server checkpoints: those round trips, and the storage client's start,
            // overlap the checkpoint. Nothing is read from the stream, so nothing stored, until the
            // claim holds.
            RepositoryClaim claim = RepositoryClaim.start(
                    () -> catalog.ensureClusterInfo(ident.systemIdentifier(), server.major()),
                    () -> catalog.newId(BackupType.PHYSICAL, start), rc::abort);
            BackupId label = BackupId.of(start, BackupType.PHYSICAL);
            log.accept("backup " + label + ": streaming the whole cluster from " + conn.host() + ":" + conn.port()
                    + " (PostgreSQL " + server + ", system " + ident.systemIdentifier() + ") over the replication protocol"
                    + (req.includeWal() ? ", with its WAL" : "") + ", " + Math.max(1, req.jobs()) + " compression jobs");
            boolean success = false;
            Receiver r = new Receiver(claim, req, conn, segmentSize);
            if (blockSize > 0) {
                r.index = new ServerTarIndex(blockSize, (int) (parseSize(rc.show("segment_size")) / blockSize));
            }
            try (claim; ParallelUploader up = new ParallelUploader(pipeline, p -> catalog.layout().backupObject(r.id, p),
                    req.jobs())) {
                r.uploader = up;
                rc.onNotice(r::notice);
                try {
                    if (incremental != null) {
                        rc.uploadManifest(incremental.parentServerManifest());
                    }
                    rc.baseBackup(command(req, label, incremental != null), r);
                } catch (RuntimeException e) {
                    throw claim.explain(e);
                }
                BackupId id = r.id;
                io.lifeboat.Trace.mark("stream ended");
                // The backup has ended: which transactions had finished is asked now, on a connection
                // of its own, while the last chunks go up (it was a connection and a query after them).
                java.util.concurrent.CompletableFuture<String> snapshot =
                        java.util.concurrent.CompletableFuture.supplyAsync(() -> stopSnapshot(conn));
                r.endArchive();
                progress.finish();
                if (req.includeWal()) {
                    log.accept("backup " + id + ": waiting for the WAL stream to reach " + r.stopLsn);
                    r.wal.finishAt(r.stopLsn, WAL_WAIT_MILLIS);
                    if (r.stopTimeline > 1) {
                        storeHistory(rc, r);
                    }
                } else if (archiving) {
                    awaitArchived(id, r, req.archiveTimeoutSeconds());
                } else {
                    log.accept("warning: WAL archiving is not enabled on the server, and this backup does not include its "
                            + "WAL: it can only be restored if the WAL from its start to its end is archived some other "
                            + "way. Use --include-wal for a self-contained backup, or set up archiving (lifeboat wal-push).");
                }
                byte[] pgManifest = r.manifest.toByteArray();
                if (pgManifest.length == 0) {
                    throw new LifeboatException(ErrorKind.DATABASE, "the server sent no backup_manifest",
                            "check that the server is PostgreSQL 15 or newer");
                }
                BackupManifest.IndexedFiles files = r.index == null ? null
                        : storeIndex(id, start, server, ident, r, up, incremental, pgManifest);
                if (incremental == null) {
                    up.submit(BACKUP_MANIFEST, pgManifest, pgManifest.length, () -> { });
                }
                // Read while the last chunks go up (it was read after them): the server's manifest of
                // every file, a JSON document of 100 KB and more.
                PgBackupManifest pgm = PgBackupManifest.parse(pgManifest);
                List<StoredObject> objects = up.finish();
                io.lifeboat.Trace.mark("uploads finished");
                r.stopSnapshot = Parallel.join(snapshot);
                BackupManifest m = manifest(id, start, server, ident, segmentSize, req, r, pgm, objects, files);
                catalog.writeManifest(m);
                io.lifeboat.Trace.mark("manifest written");
                success = true;
                double secs = Math.max(0.001, Duration.between(start, m.stopTime()).toMillis() / 1000.0);
                log.accept("backup " + id + " complete: " + objects.size() + " objects, " + Spool.human(m.rawBytes())
                        + " read, " + Spool.human(m.storedBytes()) + " stored, in " + secs + " s ("
                        + Spool.human((long) (m.rawBytes() / secs)) + "/s)");
                return m;
            } finally {
                progress.finish();
                r.close();
                if (!success && r.id != null) {
                    discard(r.id);
                }
            }
        }
    }

    /**
     * Which transactions had finished once the backup ended (taken after it ended, so it errs on the
     * safe side): restore uses it to pick a backup for --target-xid. Needs a SQL session besides the
     * replication one; without one the manifest says nothing and such a restore starts from the
     * oldest backup.
     */
    private String stopSnapshot(PgConnectionSettings conn) {
        try (io.lifeboat.postgres.PgSession s = io.lifeboat.postgres.PgSession.open(conn)) {
            return s.queryValue("SELECT pg_current_snapshot()::text").orElse(null);
        } catch (LifeboatException e) {
            log.accept("note: could not record which transactions had finished at the end of the backup ("
                    + e.getMessage() + "); a restore to a transaction id will start from the oldest backup");
            return null;
        }
    }

    static String command(PhysicalBackupRequest req, BackupId id) {
        return command(req, id, false);
    }

    static String command(PhysicalBackupRequest req, BackupId id, boolean incremental) {
        List<String> opts = new ArrayList<>();
        opts.add("LABEL 'lifeboat " + id + "'");
        opts.add("PROGRESS");
        opts.add("CHECKPOINT '" + (req.fastCheckpoint() ? "fast" : "spread") + "'");
        // The server would wait, without a limit, until archive_command reports the last segment
        // archived, anywhere. Lifeboat waits itself instead: for that segment in its own repository,
        // for at most --archive-timeout.
        opts.add("WAIT false");
        opts.add("MANIFEST 'yes'");
        opts.add("MANIFEST_CHECKSUMS 'CRC32C'");
        if (req.maxRateKiB() > 0) {
            opts.add("MAX_RATE " + req.maxRateKiB());
        }
        if (incremental) {
            opts.add("INCREMENTAL");
        }
        return "BASE_BACKUP (" + String.join(", ", opts) + ")";
    }

    static long parseSize(String s) {
        return ReplicationConnection.parseSize(s);
    }

    private void awaitArchived(BackupId id, Receiver r, int timeoutSeconds) {
        BackupWal.awaitArchived(catalog, pipeline, log, id, r.stopSegment(), timeoutSeconds);
    }

    private void storeHistory(ReplicationConnection rc, Receiver r) {
        var sets = rc.query("TIMELINE_HISTORY " + r.stopTimeline);
        List<String> row = sets.get(0).rows().get(0);
        byte[] content = row.get(1).getBytes(StandardCharsets.UTF_8);
        String name = "pg_wal/" + row.get(0);
        r.uploader.submit(name, content, content.length, () -> { });
        r.walPaths.add(pipeline.storedName(name));
    }

    private BackupManifest manifest(BackupId id, Instant start, PgVersion server, ReplicationConnection.SystemIdentity ident,
                                    long segmentSize, PhysicalBackupRequest req, Receiver r, PgBackupManifest pgm,
                                    List<StoredObject> objects, BackupManifest.IndexedFiles files) {
        byte[] labelBytes = r.baseWatcher == null ? null : r.baseWatcher.captured("backup_label");
        if (labelBytes == null) {
            throw new LifeboatException(ErrorKind.DATABASE, "base.tar from the server held no backup_label",
                    "this is not what PostgreSQL sends; report it with the server version");
        }
        BackupLabel label = BackupLabel.parse(new String(labelBytes, StandardCharsets.UTF_8));
        if (!label.startLsn().equals(r.startLsn)) {
            throw new LifeboatException(ErrorKind.DATABASE, "backup_label says the backup starts at " + label.startLsn()
                    + " but the server said " + r.startLsn, "run the backup again");
        }
        if (pgm.systemIdentifier() != null && !pgm.systemIdentifier().equals(ident.systemIdentifier())) {
            throw new LifeboatException(ErrorKind.DATABASE, "backup_manifest names system " + pgm.systemIdentifier()
                    + " but the server identified as " + ident.systemIdentifier(), "run the backup again");
        }
        List<String> walSegments = new ArrayList<>(r.walPaths);
        Collections.sort(walSegments);
        if (req.includeWal()) {
            checkWalComplete(r, segmentSize, walSegments);
        }
        List<BackupManifest.TarArchive> archives = new ArrayList<>();
        Map<String, String> tablespaces = new LinkedHashMap<>();
        for (ArchiveInfo a : r.archives) {
            archives.add(new BackupManifest.TarArchive(a.name, a.oid, a.location, a.rawBytes,
                    a.chunks.stream().map(pipeline::storedName).toList()));
            if (a.oid != null) {
                tablespaces.put(a.oid, a.location);
            }
        }
        WalSegmentName stopSegment = r.stopSegment();
        BackupManifest.PhysicalDetails details = new BackupManifest.PhysicalDetails(r.startLsn.toString(),
                r.stopLsn.toString(), (int) r.startTimeline, label.startWalFile(), stopSegment.toString(), label.text(),
                req.includeWal(), tablespaces, label.checkpointLsn().toString(), (int) r.stopTimeline, segmentSize,
                archives, walSegments, pipeline.storedName(BACKUP_MANIFEST), pgm.version(), r.stopSnapshot, files);
        Map<String, String> extra = new LinkedHashMap<>();
        extra.put("server", cluster.postgres().host() + ":" + cluster.postgres().port());
        extra.put("backupHost", hostName());
        extra.put("method", "BASE_BACKUP over the replication protocol (native), tar chunks of "
                + Spool.human(req.chunkBytes()));
        extra.put("checkpoint", req.fastCheckpoint() ? "fast" : "spread");
        extra.put("pgManifestFiles", Integer.toString(pgm.fileCount()));
        if (files != null && files.parent() != null) {
            extra.put("method", "BASE_BACKUP ( INCREMENTAL ) over the replication protocol (PostgreSQL's own incremental "
                    + "of " + files.parent() + "), tar chunks of " + Spool.human(req.chunkBytes()));
        }
        if (req.maxRateKiB() > 0) {
            extra.put("maxRateKiBps", Integer.toString(req.maxRateKiB()));
        }
        return new BackupManifest(BackupManifest.FORMAT_VERSION, id, BackupType.PHYSICAL, cluster.name(), start,
                Instant.now(), server.number(), ident.systemIdentifier(), pipeline.compression().id(),
                pipeline.encryption().scheme(), List.copyOf(objects), null, details, extra);
    }

    /**
     * Stores the file index built from the stream. Of an incremental also: its backup_label without
     * the INCREMENTAL FROM lines (in label.tar; the index points there), the backup_manifest of the
     * directory its chain restores to, and the server's own backup_manifest for the next incremental.
     */
    private BackupManifest.IndexedFiles storeIndex(BackupId id, Instant start, PgVersion server,
                                                   ReplicationConnection.SystemIdentity ident, Receiver r,
                                                   ParallelUploader up, RemoteIncremental incremental, byte[] pgManifest) {
        FileIndex index = r.index.index();
        if (incremental != null) {
            byte[] label = RemoteIncremental.restoredLabel(r.baseWatcher.captured("backup_label"));
            ChunkedArchive a = new ChunkedArchive(RemoteIncremental.LABEL_ARCHIVE, up, r.pool, (b, o, l) -> { });
            TarWriter tar = new TarWriter(a);
            FileIndex.Entry old = index.files().stream().filter(e -> e.path().equals("backup_label")).findFirst()
                    .orElseThrow(() -> new LifeboatException(ErrorKind.DATABASE, "base.tar from the server held no "
                            + "backup_label", "report this together with the PostgreSQL version"));
            long at = tar.file("backup_label", label.length, old.mode(), old.mtimeNs() / 1_000_000_000L, 0, 0);
            tar.data(label, 0, label.length);
            tar.endFile(label.length);
            tar.finish();
            ArchiveInfo info = new ArchiveInfo(RemoteIncremental.LABEL_ARCHIVE, null, null);
            info.rawBytes = a.rawBytes();
            info.chunks = a.close();
            r.archives.add(info);
            List<FileIndex.Entry> entries = new ArrayList<>();
            for (FileIndex.Entry e : index.files()) {
                entries.add(e != old ? e : new FileIndex.Entry(e.path(), "f", e.mode(), e.mtimeNs(), 0, label.length,
                        null, RemoteIncremental.LABEL_ARCHIVE, at, io.lifeboat.codec.Crc32c.of(label, 0, label.length),
                        false, null, null, null));
            }
            index = new FileIndex(index.formatVersion(), index.blockSize(), entries);
            byte[] restored = incremental.restoredManifest(RemoteIncremental.provisional(id, cluster.name(), start, server,
                    ident.systemIdentifier()), index, server.major(), ident.systemIdentifier(), pgManifest);
            up.submit(BACKUP_MANIFEST, restored, restored.length, () -> { });
            up.submit(RemoteIncremental.SERVER_MANIFEST, pgManifest, pgManifest.length, () -> { });
        }
        byte[] bytes = index.toBytes();
        up.submit(LocalBackup.FILE_INDEX, bytes, bytes.length, () -> { });
        long dataBytes = 0;
        long whole = 0;
        long blockFiles = 0;
        long blocks = 0;
        for (FileIndex.Entry e : index.files()) {
            dataBytes += e.size();
            if (e.truncationBlocks() != null) {
                blockFiles++;
                blocks += e.storedBlocks();
            } else if (e.isFile()) {
                whole++;
            }
        }
        return new BackupManifest.IndexedFiles(pipeline.storedName(LocalBackup.FILE_INDEX), "remote",
                incremental == null ? null : incremental.parent().id(), incremental == null ? List.of() : incremental.chain(),
                index.blockSize(), dataBytes, whole, blockFiles, blocks, false, false, null, false);
    }

    private void checkWalComplete(Receiver r, long segmentSize, List<String> walSegments) {
        BackupWal.checkComplete(pipeline, r.startLsn, r.startTimeline, r.stopLsn, r.stopTimeline, segmentSize, walSegments);
    }

    /** Best effort: a failed backup should not litter the repository (a killed one is listed as unfinished). */
    private void discard(BackupId id) {
        io.lifeboat.engine.Cleanup.discardBackup(catalog, id, log);
    }

    static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static final class ArchiveInfo {
        final String name;
        final String oid;
        final String location;
        List<String> chunks = List.of();
        long rawBytes;

        ArchiveInfo(String name, String oid, String location) {
            this.name = name;
            this.oid = oid;
            this.location = location;
        }
    }

    /** Receives BASE_BACKUP's stream and turns it into chunks, WAL segments and facts for the manifest. */
    private final class Receiver implements ReplicationConnection.BaseBackupReceiver {
        final RepositoryClaim claim;
        /** The backup's id, once the repository is claimed (when the checkpoint is done). */
        BackupId id;
        final PhysicalBackupRequest req;
        final PgConnectionSettings conn;
        final long segmentSize;
        final ChunkedArchive.BufferPool pool;
        final List<ArchiveInfo> archives = new ArrayList<>();
        final List<String> walPaths = Collections.synchronizedList(new ArrayList<>());
        final ByteArrayOutputStream manifest = new ByteArrayOutputStream();
        String stopSnapshot;
        ParallelUploader uploader;
        ChunkedArchive current;
        ArchiveInfo currentInfo;
        TarStreamWatcher watcher;
        TarStreamWatcher baseWatcher;
        ServerTarIndex index;
        WalStreamer wal;
        Lsn startLsn;
        long startTimeline;
        Lsn stopLsn;
        long stopTimeline;

        Receiver(RepositoryClaim claim, PhysicalBackupRequest req, PgConnectionSettings conn, long segmentSize) {
            this.claim = claim;
            this.req = req;
            this.conn = conn;
            this.segmentSize = segmentSize;
            this.pool = new ChunkedArchive.BufferPool(req.chunkBytes(), Math.max(1, req.jobs()) + 2);
        }

        /** The WAL segment the backup's stop point lies in (known once the server has finished). */
        WalSegmentName stopSegment() {
            return WalSegmentName.endingAt(TimelineId.of(stopTimeline), stopLsn, segmentSize);
        }

        @Override
        public void started(Lsn lsn, long timeline, List<ReplicationConnection.TablespaceInfo> spaces) {
            io.lifeboat.Trace.mark("checkpoint done");
            id = claim.await();
            io.lifeboat.Trace.mark("repository claimed, stream starts");
            startLsn = lsn;
            startTimeline = timeline;
            long total = spaces.stream().mapToLong(t -> Math.max(0, t.size())).sum();
            log.accept("backup " + id + ": checkpoint done, WAL from " + lsn + " on timeline " + timeline + "; "
                    + spaces.size() + " tablespace" + (spaces.size() == 1 ? "" : "s") + ", about " + Spool.human(total));
            progress.start("backup " + id, total);
            if (req.includeWal()) {
                wal = new WalStreamer(conn, TimelineId.of(timeline), segmentSize, lsn, (name, data, valid) -> {
                    String path = "pg_wal/" + name;
                    uploader.submit(path, data, data.length, () -> { });
                    walPaths.add(pipeline.storedName(path));
                }, log);
                wal.start();
            }
        }

        @Override
        public void archive(String name, String location) throws IOException {
            endArchive();
            Matcher m = ARCHIVE.matcher(name);
            if (!m.matches()) {
                throw new LifeboatException(ErrorKind.DATABASE, "the server sent an archive named '" + name
                        + "', not base.tar or OID.tar", "report this together with the PostgreSQL version");
            }
            currentInfo = new ArchiveInfo(name, m.group(1), m.group(1) == null ? null : location);
            watcher = new TarStreamWatcher(m.group(1) == null ? Set.of("backup_label") : Set.of(),
                    index == null ? null : index.archive(name, m.group(1)));
            if (m.group(1) == null) {
                baseWatcher = watcher;
            }
            TarStreamWatcher w = watcher;
            current = new ChunkedArchive(name, uploader, pool, w::feed);
        }

        @Override
        public void archiveData(ReplicationConnection.DataSource in, int length) throws IOException {
            if (current == null) {
                throw new LifeboatException(ErrorKind.DATABASE, "the server sent archive data before naming an archive",
                        "report this together with the PostgreSQL version");
            }
            current.write(in, length);
            progress.advance(length);
            if (wal != null) {
                wal.rethrow();
            }
        }

        @Override
        public void progress(long bytesDone) {
            // we count the bytes ourselves as they arrive
        }

        @Override
        public void manifestData(byte[] data) {
            endArchive();
            manifest.writeBytes(data);
        }

        @Override
        public void finished(Lsn lsn, long timeline) {
            stopLsn = lsn;
            stopTimeline = timeline;
        }

        void endArchive() {
            if (current == null) {
                return;
            }
            if (!watcher.terminated()) {
                // Servers before 15 left the end-of-archive marker to the client; add it so the stored tar is whole.
                try {
                    current.write(new byte[1024], 0, 1024);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
            currentInfo.chunks = current.close();
            currentInfo.rawBytes = current.rawBytes();
            archives.add(currentInfo);
            current = null;
            currentInfo = null;
        }

        void notice(String text) {
            log.accept("server: " + text);
        }

        void close() {
            if (current != null) {
                current.discard();
            }
            if (wal != null) {
                wal.close();
            }
        }
    }
}
