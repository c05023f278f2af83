package io.lifeboat.catalog;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.storage.ObjectInfo;
import io.lifeboat.storage.Storage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/** Reads and writes the repository's catalog: cluster.json, manifests, the list of backups. */
public final class Catalog {
    private static final int MANIFEST_READERS = 4;
    private final Storage storage;
    private final RepositoryLayout layout;

    /** A temporary file no writer touched for this long is a dead writer's (see Storage#removeAbandonedWrites). */
    public static final java.time.Duration ABANDONED_AFTER = java.time.Duration.ofHours(1);

    /** Removes what killed writers left in this cluster's backups; how many. */
    public int removeAbandonedWrites() {
        try {
            return storage.removeAbandonedWrites(layout.backupsPrefix(), ABANDONED_AFTER);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * An unfinished upload older than this is a dead writer's: S3 says when an upload began, not
     * whether its writer runs, and the longest writes (a logical dump of a large database) take hours.
     */
    public static final java.time.Duration STALE_UPLOAD_AFTER = java.time.Duration.ofHours(24);

    /**
     * The unfinished uploads (S3 multipart uploads) that killed writers left anywhere under this
     * cluster's prefix, begun more than {@link #STALE_UPLOAD_AFTER} before {@code now}, aborted if
     * {@code abort} (a dry run only lists them). Storages that keep no such uploads have none.
     */
    public List<io.lifeboat.storage.StaleUpload> staleUploads(Instant now, boolean abort) {
        try {
            return storage.staleUploads(layout.cluster() + "/", now.minus(STALE_UPLOAD_AFTER), abort);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Catalog(Storage storage, RepositoryLayout layout) {
        this.storage = storage;
        this.layout = layout;
    }

    public Storage storage() {
        return storage;
    }

    public RepositoryLayout layout() {
        return layout;
    }

    /** The stored objects of every backup, by backup, oldest first (one listing of the repository). */
    private TreeMap<BackupId, List<ObjectInfo>> objectsById() throws IOException {
        TreeMap<BackupId, List<ObjectInfo>> byId = new TreeMap<>();
        for (ObjectInfo o : storage.list(layout.backupsPrefix())) {
            String rest = o.key().substring(layout.backupsPrefix().length());
            int slash = rest.indexOf('/');
            if (slash < 0 || !BackupId.looksLikeId(rest.substring(0, slash))) {
                continue; // not ours: leave foreign objects alone
            }
            byId.computeIfAbsent(BackupId.parse(rest.substring(0, slash)), k -> new ArrayList<>()).add(o);
        }
        return byId;
    }

    /** Whether a backup's objects include its manifest: the last write, which makes it complete. */
    private boolean hasManifest(BackupId id, List<ObjectInfo> objects) {
        String manifest = layout.manifest(id);
        return objects.stream().anyMatch(o -> o.key().equals(manifest));
    }

    /**
     * The newest complete backup of a type, reading only its manifest (and those of newer complete
     * backups whose manifest says another type), not every manifest of the repository as
     * {@link #list} does: a restore from a repository of many backups starts that much sooner.
     */
    public Optional<BackupManifest> newestComplete(BackupType type) {
        try {
            for (var e : objectsById().descendingMap().entrySet()) {
                if (e.getKey().type() == type && hasManifest(e.getKey(), e.getValue())) {
                    BackupManifest m = readManifest(e.getKey());
                    if (m.type() == type) {
                        return Optional.of(m);
                    }
                }
            }
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The manifest a restore works from: backup {@code id} when one is asked for, else the newest
     * complete backup of {@code type}; NOT_FOUND when there is none.
     */
    public BackupManifest manifestOrNewest(BackupId id, BackupType type) {
        if (id != null) {
            return manifest(id);
        }
        return newestComplete(type).orElseThrow(() -> new LifeboatException(ErrorKind.NOT_FOUND, "no complete "
                + type.id() + " backup of cluster '" + layout.cluster() + "' in " + storage.describe(),
                "take one with `lifeboat backup --type " + type.id() + "`"));
    }

    /**
     * Builds the JSON reader for manifests on a background thread: about 0.1 s of class
     * introspection that a restore would otherwise spend after the repository answers, done
     * instead while the storage client starts.
     */
    public static void prepareManifestReader() {
        Thread t = new Thread(() -> Json.MAPPER.readerFor(BackupManifest.class), "lifeboat-json-warmup");
        t.setDaemon(true);
        t.start();
    }

    /**
     * Builds the JSON reader (a restore) or writer (a backup) for manifests on a background thread,
     * from a command's very start (cli/AheadOfCommand): the reader is some 0.3 s of CPU here (Jackson
     * introspecting the manifest's records on freshly loaded code) that a restore would otherwise
     * spend on its critical path before it can read the manifest; the writer is a backup's last step.
     * Only the one the command uses: each costs CPU on a machine whose cores pg_dump wants.
     */
    public static void prepareManifestJson(boolean reader) {
        Thread t = new Thread(() -> {
            if (reader) {
                Json.MAPPER.readerFor(BackupManifest.class);
            } else {
                Json.MAPPER.canSerialize(BackupManifest.class);
            }
            io.lifeboat.Trace.mark("manifest JSON prepared");
        }, "lifeboat-json-warmup");
        t.setDaemon(true);
        t.start();
    }

    /** All backups of this cluster, oldest first, complete and unfinished. */
    public List<BackupEntry> list() {
        try {
            Map<BackupId, List<ObjectInfo>> byId = objectsById();
            List<BackupId> complete = byId.entrySet().stream()
                    .filter(e -> hasManifest(e.getKey(), e.getValue()))
                    .map(Map.Entry::getKey).toList();
            Map<BackupId, BackupManifest> manifests = readManifests(complete);
            List<BackupEntry> out = new ArrayList<>();
            for (var e : byId.entrySet()) {
                List<ObjectInfo> objs = e.getValue();
                long bytes = objs.stream().mapToLong(ObjectInfo::size).sum();
                Instant last = objs.stream().map(ObjectInfo::lastModified).filter(t -> t != null)
                        .max(Instant::compareTo).orElse(null);
                BackupManifest m = manifests.get(e.getKey());
                boolean hasManifest = m != null;
                out.add(new BackupEntry(e.getKey(), hasManifest ? BackupEntry.Status.COMPLETE : BackupEntry.Status.UNFINISHED,
                        m, bytes, objs.size(), last));
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Reads these manifests, a few at a time: on S3 each is a round trip, and a repository holds
     * dozens of backups. The first failure (in backup order) is rethrown.
     */
    private Map<BackupId, BackupManifest> readManifests(List<BackupId> ids) {
        Map<BackupId, BackupManifest> out = new HashMap<>();
        if (ids.size() <= 1) {
            ids.forEach(id -> out.put(id, readManifest(id)));
            return out;
        }
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(MANIFEST_READERS, ids.size()), r -> {
            Thread t = new Thread(r, "lifeboat-manifests");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<BackupManifest>> reads = ids.stream().map(id -> pool.submit(() -> readManifest(id))).toList();
            for (int i = 0; i < ids.size(); i++) {
                out.put(ids.get(i), reads.get(i).get());
            }
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LifeboatException(ErrorKind.INTERRUPTED, "interrupted while reading manifests");
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException re ? re
                    : new LifeboatException(ErrorKind.GENERAL, String.valueOf(e.getCause()), null, e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }

    public List<BackupManifest> completeBackups() {
        return list().stream().filter(BackupEntry::complete).map(BackupEntry::manifest).toList();
    }

    /** The manifest of a complete backup; NOT_FOUND if there is none, CONFLICT if it is unfinished. */
    public BackupManifest manifest(BackupId id) {
        try {
            if (storage.stat(layout.manifest(id)).isEmpty()) {
                if (!storage.list(layout.backupDir(id) + "/").isEmpty()) {
                    throw new LifeboatException(ErrorKind.CONFLICT, "backup " + id + " is unfinished (it has no manifest)",
                            "an unfinished backup is never restored from; pick a complete one with `lifeboat list`, "
                                    + "and remove this one with `lifeboat delete " + id + "`");
                }
                throw new LifeboatException(ErrorKind.NOT_FOUND, "backup " + id + " not found in " + storage.describe()
                        + " for cluster '" + layout.cluster() + "'", "`lifeboat list` shows the backups");
            }
            return readManifest(id);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private BackupManifest readManifest(BackupId id) {
        String key = layout.manifest(id);
        byte[] data;
        try {
            data = storage.get(key);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            BackupManifest m = Json.MAPPER.readValue(data, BackupManifest.class);
            if (m.formatVersion() > BackupManifest.NEWEST_FORMAT_VERSION) {
                throw new LifeboatException(ErrorKind.CONFLICT, "manifest " + key + " has format version " + m.formatVersion()
                        + ", newer than this Lifeboat understands (" + BackupManifest.NEWEST_FORMAT_VERSION + ")",
                        "upgrade Lifeboat to read this backup");
            }
            if (m.id() == null || !m.id().equals(id) || m.objects() == null) {
                throw new LifeboatException(ErrorKind.CORRUPT, "manifest " + key + " does not describe backup " + id,
                        "the manifest was damaged or moved; restore from another backup");
            }
            return m;
        } catch (IOException e) {
            throw new LifeboatException(ErrorKind.CORRUPT, "manifest " + key + " is not valid JSON: " + e.getMessage(),
                    "the manifest was damaged; restore from another backup", e);
        }
    }

    /** Writes the manifest: the very last write of a backup, which makes it complete. */
    public void writeManifest(BackupManifest m) {
        try {
            storage.put(layout.manifest(m.id()), Json.MAPPER.writeValueAsBytes(m));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A new id for a backup starting now; never reuses an id that has objects where the backup is
     * written (a repository that is down and left out of the writes need not answer).
     */
    public BackupId newId(BackupType type, Instant now) {
        BackupId id = BackupId.of(now, type);
        try {
            while (!storage.listWritable(layout.backupDir(id) + "/").isEmpty()) {
                id = BackupId.of(id.time().plusSeconds(1), type);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return id;
    }

    public Optional<ClusterInfo> clusterInfo() {
        byte[] json;
        try {
            // One GET that may find nothing, rather than a HEAD and then a GET: every backup starts here.
            json = storage.get(layout.clusterInfo());
        } catch (LifeboatException e) {
            if (e.kind() == ErrorKind.NOT_FOUND) {
                return Optional.empty();
            }
            throw e;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            return Optional.of(Json.MAPPER.readValue(json, ClusterInfo.class));
        } catch (IOException e) {
            throw new LifeboatException(ErrorKind.CORRUPT, "cannot read " + layout.clusterInfo() + ": " + e.getMessage(),
                    "the file was damaged; inspect it in the repository", e);
        }
    }

    /**
     * Records which cluster this prefix belongs to, or checks that it is the same one. A different
     * system identifier means two clusters would share one prefix: refused.
     */
    public ClusterInfo ensureClusterInfo(String systemIdentifier, int pgMajor) {
        Optional<ClusterInfo> existing = clusterInfo();
        if (existing.isPresent()) {
            ClusterInfo c = existing.get();
            if (c.systemIdentifier() != null && systemIdentifier != null && !c.systemIdentifier().equals(systemIdentifier)) {
                throw new LifeboatException(ErrorKind.CONFLICT, "repository prefix '" + layout.cluster() + "' in "
                        + storage.describe() + " belongs to the cluster with system identifier " + c.systemIdentifier()
                        + ", but this server has " + systemIdentifier,
                        "give this cluster its own name in lifeboat.yml (each cluster needs its own prefix)");
            }
            if (c.systemIdentifier() == null && systemIdentifier != null) {
                ClusterInfo updated = new ClusterInfo(c.formatVersion(), c.cluster(), systemIdentifier, pgMajor, c.created());
                write(updated);
                return updated;
            }
            return c;
        }
        ClusterInfo c = new ClusterInfo(1, layout.cluster(), systemIdentifier, pgMajor, Instant.now());
        write(c);
        return c;
    }

    private void write(ClusterInfo c) {
        try {
            storage.put(layout.clusterInfo(), Json.MAPPER.writeValueAsBytes(c));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Deletes a backup. The manifest goes first, so an interrupted delete leaves an unfinished
     * backup (never a "complete" one with missing objects).
     */
    public int delete(BackupId id) {
        try {
            List<ObjectInfo> objects = storage.list(layout.backupDir(id) + "/");
            if (objects.isEmpty()) {
                throw new LifeboatException(ErrorKind.NOT_FOUND, "backup " + id + " not found in " + storage.describe(),
                        "`lifeboat list` shows the backups");
            }
            storage.delete(layout.manifest(id));
            storage.removeAbandonedWrites(layout.backupDir(id) + "/", ABANDONED_AFTER);
            for (ObjectInfo o : objects) {
                storage.delete(o.key());
            }
            for (ObjectInfo o : storage.list(layout.drillsDir(id) + "/")) {
                storage.delete(o.key());
            }
            return objects.size();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
