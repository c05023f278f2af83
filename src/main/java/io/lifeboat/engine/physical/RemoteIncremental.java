package io.lifeboat.engine.physical;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.BackupId;
import io.lifeboat.catalog.BackupManifest;
import io.lifeboat.catalog.BackupType;
import io.lifeboat.catalog.Catalog;
import io.lifeboat.catalog.FileIndex;
import io.lifeboat.catalog.StoredObject;
import io.lifeboat.config.FullEvery;
import io.lifeboat.engine.ObjectPipeline;
import io.lifeboat.postgres.Lsn;
import io.lifeboat.postgres.PgBackupManifest;
import io.lifeboat.postgres.PgManifestWriter;
import io.lifeboat.postgres.PgVersion;
import io.lifeboat.postgres.ReplicationConnection;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The server's own incremental backup (PostgreSQL 17+, over the replication protocol): the parent
 * is the newest backup taken that way with a file index; its backup_manifest as the server wrote
 * it is handed back with UPLOAD_MANIFEST, and BASE_BACKUP ( INCREMENTAL ) then sends changed
 * relation files as INCREMENTAL.* files, using the server's WAL summaries (summarize_wal). Where
 * no incremental is possible the backup is a full one and says why; a parent whose chain is broken
 * or damaged is refused, naming it.
 */
final class RemoteIncremental {
    /** The server's backup_manifest of an incremental, kept for the next incremental's UPLOAD_MANIFEST. */
    static final String SERVER_MANIFEST = "server_backup_manifest";
    /** The backup_label of an incremental without its INCREMENTAL FROM lines, as a restored directory needs it. */
    static final String LABEL_ARCHIVE = "label.tar";
    private static final String SUMMARIES_MISSING = "WAL summaries are required";

    private final ChainView view;
    private final byte[] parentServerManifest;

    private RemoteIncremental(ChainView view, byte[] parentServerManifest) {
        this.view = view;
        this.parentServerManifest = parentServerManifest;
    }

    BackupManifest parent() {
        return view.newest().manifest();
    }

    ChainView view() {
        return view;
    }

    List<BackupId> chain() {
        return view.links().stream().map(l -> l.manifest().id()).toList();
    }

    byte[] parentServerManifest() {
        return parentServerManifest;
    }

    /** The server refused the incremental because the WAL summaries since the parent are gone. */
    static boolean summariesMissing(LifeboatException e) {
        return e.getMessage() != null && e.getMessage().contains(SUMMARIES_MISSING);
    }

    /**
     * The parent of an incremental of this request, or null for a full backup (having said why).
     *
     * @param kind FULL, INCREMENTAL (--incremental) or AUTO (a full-every policy)
     */
    static RemoteIncremental choose(Catalog catalog, ObjectPipeline pipeline, LocalBackupRequest.Kind kind,
                                    FullEvery fullEvery, ReplicationConnection rc, PgVersion server,
                                    ReplicationConnection.SystemIdentity ident, int blockSize, Instant now,
                                    Consumer<String> log) {
        if (kind == LocalBackupRequest.Kind.FULL || (kind == LocalBackupRequest.Kind.AUTO && fullEvery == null)) {
            return null;
        }
        String where = rc.settings().host() + ":" + rc.settings().port();
        if (server.major() < 17) {
            if (kind == LocalBackupRequest.Kind.INCREMENTAL) {
                throw new LifeboatException(ErrorKind.USAGE, "incremental backups over the replication protocol need "
                        + "PostgreSQL 17 or newer; the server at " + where + " is " + server, "run the backup on the "
                        + "database host with --source local (block-level incrementals for every version), or take a full "
                        + "backup");
            }
            return full(log, "incremental backups over the replication protocol need PostgreSQL 17 or newer (the server "
                    + "is " + server + "; --source local takes them on any version)");
        }
        if (!"on".equals(rc.show("summarize_wal"))) {
            String hint = "run `ALTER SYSTEM SET summarize_wal = on; SELECT pg_reload_conf();` as a superuser (no restart "
                    + "needed); the first incremental can build on backups taken after that";
            if (kind == LocalBackupRequest.Kind.INCREMENTAL) {
                throw new LifeboatException(ErrorKind.DATABASE, "the server at " + where + " has summarize_wal = off, and "
                        + "PostgreSQL's incremental backups need its WAL summaries", hint);
            }
            log.accept("warning: the server at " + where + " has summarize_wal = off, so this backup is a full backup "
                    + "although full-every allows an incremental: " + hint);
            return null;
        }
        Optional<BackupManifest> newest = catalog.completeBackups().stream()
                .filter(m -> m.type() == BackupType.PHYSICAL && m.physical() != null && m.physical().files() != null
                        && "remote".equals(m.physical().files().source()))
                .max(Comparator.comparing(BackupManifest::id));
        if (newest.isEmpty()) {
            return full(log, "there is no earlier backup of PostgreSQL 17 or newer taken over the replication protocol "
                    + "in " + catalog.storage().describe() + " to build on");
        }
        BackupManifest parent = newest.get();
        BackupManifest.IndexedFiles pf = parent.physical().files();
        if (kind == LocalBackupRequest.Kind.AUTO) {
            Instant fullStarted = pf.chain().isEmpty() ? parent.startTime() : pf.chain().get(0).time();
            String why = fullEvery.fullNeeded(fullStarted, pf.chain().size(), now);
            if (why != null) {
                return full(log, why);
            }
        }
        if (new PgVersion(parent.pgVersionNum()).major() != server.major()) {
            return full(log, "the newest backup " + parent.id() + " is of PostgreSQL "
                    + new PgVersion(parent.pgVersionNum()).major() + ", the server is " + server.major());
        }
        if (!parent.systemIdentifier().equals(ident.systemIdentifier())) {
            return full(log, "the newest backup " + parent.id() + " is of system " + parent.systemIdentifier()
                    + ", the server is " + ident.systemIdentifier() + " (pg_resetwal or another cluster)");
        }
        if (pf.blockSize() != blockSize) {
            return full(log, "the newest backup " + parent.id() + " has block size " + pf.blockSize() + ", the server "
                    + blockSize);
        }
        BackupManifest.PhysicalDetails d = parent.physical();
        long parentTimeline = d.stopTimeline() > 0 ? d.stopTimeline() : d.timeline();
        if (parentTimeline != ident.timeline()) {
            return full(log, "the server is on timeline " + ident.timeline() + ", the newest backup " + parent.id()
                    + " ended on timeline " + parentTimeline + " (a promotion since)");
        }
        if (!Lsn.parse(d.stopLsn()).isBefore(ident.walPosition())) {
            return full(log, "the server's WAL is at " + ident.walPosition() + ", not after the end of the newest backup "
                    + parent.id() + " at " + d.stopLsn() + " (pg_resetwal?)");
        }
        ChainView view = ChainLoader.load(catalog, pipeline, parent);
        byte[] manifest = serverManifest(catalog, pipeline, parent);
        log.accept("incremental of " + parent.id() + " (chain of " + view.links().size() + " backup"
                + (view.links().size() == 1 ? "" : "s") + " from full backup " + view.links().get(0).manifest().id()
                + "): the server sends the blocks changed since " + d.startLsn() + " (UPLOAD_MANIFEST + BASE_BACKUP "
                + "INCREMENTAL)");
        return new RemoteIncremental(view, manifest);
    }

    /** The backup_manifest the server wrote for {@code m}, verified by its SHA-256. */
    private static byte[] serverManifest(Catalog catalog, ObjectPipeline pipeline, BackupManifest m) {
        String wanted = m.physical().files().parent() == null ? PhysicalBackup.BACKUP_MANIFEST : SERVER_MANIFEST;
        StoredObject o = m.objects().stream().filter(x -> ObjectPipeline.rawName(x).equals(wanted)).findFirst()
                .orElseThrow(() -> new LifeboatException(ErrorKind.CORRUPT, "backup " + m.id() + " lists no " + wanted
                        + ", which an incremental of it hands to the server", "take a full backup (backup --type physical "
                        + "--full); the chain of " + m.id() + " cannot be extended"));
        ByteArrayOutputStream out = new ByteArrayOutputStream((int) Math.min(Integer.MAX_VALUE - 16, o.rawSize()));
        try {
            pipeline.fetch(catalog.layout().backupObject(m.id(), o.path()), o, out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        byte[] bytes = out.toByteArray();
        PgBackupManifest.parse(bytes);
        return bytes;
    }

    /** backup_label without the lines that make PostgreSQL refuse to start ("this is an incremental backup"). */
    static byte[] restoredLabel(byte[] label) {
        StringBuilder sb = new StringBuilder();
        for (String line : new String(label, StandardCharsets.UTF_8).split("\n", -1)) {
            if (!line.startsWith("INCREMENTAL FROM ")) {
                sb.append(line).append('\n');
            }
        }
        sb.setLength(sb.length() - 1);
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    /**
     * The backup_manifest of the data directory the chain restores to (what pg_combinebackup
     * writes): every file with its reconstructed size and CRC-32C, and the server's WAL ranges.
     */
    byte[] restoredManifest(BackupManifest provisional, FileIndex index, int major, String systemIdentifier,
                            byte[] serverManifest) {
        List<ChainView.Link> links = new ArrayList<>(view.links());
        links.add(ChainView.Link.of(provisional, index));
        ChainView chain = new ChainView(links);
        List<PgManifestWriter.File> files = new ArrayList<>();
        for (FileIndex.Entry e : index.files()) {
            if (e.isFile()) {
                files.add(new PgManifestWriter.File(e.path(), e.size(), Instant.ofEpochSecond(e.mtimeNs() / 1_000_000_000L),
                        chain.resolve(e).crc()));
            }
        }
        List<PgManifestWriter.WalRange> ranges = PgBackupManifest.parse(serverManifest).walRanges().stream()
                .map(r -> new PgManifestWriter.WalRange(r.timeline(), r.start(), r.end())).toList();
        return PgManifestWriter.write(major, systemIdentifier, files, ranges);
    }

    static BackupManifest provisional(BackupId id, String cluster, Instant start, PgVersion server, String system) {
        return new BackupManifest(BackupManifest.FORMAT_VERSION, id, BackupType.PHYSICAL, cluster, start, start,
                server.number(), system, null, null, List.of(), null, null, Map.of());
    }

    private static RemoteIncremental full(Consumer<String> log, String why) {
        log.accept("this backup is a full backup: " + why);
        return null;
    }
}
