package io.lifeboat.engine.archive;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.Catalog;
import io.lifeboat.catalog.ClusterInfo;
import io.lifeboat.catalog.RepositoryLayout;
import io.lifeboat.codec.Compression;
import io.lifeboat.codec.Digest;
import io.lifeboat.codec.HashingOutputStream;
import io.lifeboat.engine.LocalWrite;
import io.lifeboat.engine.ObjectPipeline;
import io.lifeboat.postgres.Lsn;
import io.lifeboat.postgres.TimelineHistory;
import io.lifeboat.postgres.TimelineId;
import io.lifeboat.postgres.WalFileName;
import io.lifeboat.postgres.WalPageHeader;
import io.lifeboat.postgres.WalSegmentName;
import io.lifeboat.storage.Keys;
import io.lifeboat.storage.MirroredStorage;
import io.lifeboat.storage.ObjectInfo;
import io.lifeboat.storage.Storage;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The WAL archive of one cluster. Each file is one object whose name carries the SHA-256 of the
 * original file: {@code wal/<timeline+log>/<segment>.sha256-<hex>.zst}. That makes a repeated push
 * of the same file recognisable without downloading anything, a different file under the same name
 * (two clusters writing one repository, a diverged timeline) detectable, and every fetch verifiable
 * before PostgreSQL sees a byte. Objects are plain zstd frames (`zstd -d` restores one by hand), or
 * age files around them in an encrypted repository (`age -d -i key | zstd -d`).
 */
public final class WalArchive {
    private static final String HASH_MARK = ".sha256-";
    private static final String ENCRYPTED_SUFFIX = ".age";

    private final Storage storage;
    private final RepositoryLayout layout;
    private final ObjectPipeline pipeline;

    public WalArchive(Storage storage, RepositoryLayout layout, ObjectPipeline pipeline) {
        this.storage = storage;
        this.layout = layout;
        this.pipeline = pipeline;
    }

    public enum PushOutcome { ARCHIVED, ALREADY_ARCHIVED }

    /** An archived copy of a WAL file. */
    public record Archived(String key, String rawSha256) {
        /** The WAL file it is a copy of, e.g. 000000010000000000000003. */
        public String fileName() {
            return WalArchive.fileName(key);
        }
    }

    private String prefixFor(WalFileName name) {
        return Keys.join(layout.walPrefix(), name.directory(), name.name()) + HASH_MARK;
    }

    /** The archived copies of a file (normally zero or one). */
    public List<Archived> find(WalFileName name) throws IOException {
        return find(storage, name);
    }

    private List<Archived> find(Storage in, WalFileName name) throws IOException {
        String prefix = prefixFor(name);
        return in.list(prefix).stream().map(ObjectInfo::key)
                .filter(k -> k.length() >= prefix.length() + 64)
                .map(k -> new Archived(k, k.substring(prefix.length(), prefix.length() + 64))).toList();
    }

    /**
     * The file names in the archive (segments, partial segments, backup and timeline history files),
     * without the checksum and codec suffixes, e.g. 000000010000000000000003 or 00000002.history.
     */
    public List<String> names() throws IOException {
        return storage.list(layout.walPrefix()).stream().map(o -> fileName(o.key())).filter(n -> n != null).toList();
    }

    /**
     * Every archived copy in the archive, with its stored size: what `verify` reads. Objects under
     * the WAL prefix whose names carry no checksum are not Lifeboat's and are left out.
     */
    public List<StoredCopy> copies() throws IOException {
        List<StoredCopy> out = new java.util.ArrayList<>();
        for (ObjectInfo o : storage.list(layout.walPrefix())) {
            String name = fileName(o.key());
            String last = o.key().substring(o.key().lastIndexOf('/') + 1);
            int hash = last.indexOf(HASH_MARK) + HASH_MARK.length();
            if (name != null && last.length() >= hash + 64) {
                out.add(new StoredCopy(new Archived(o.key(), last.substring(hash, hash + 64)), o.size()));
            }
        }
        return out;
    }

    /** An archived copy and how many bytes it takes in the repository. */
    public record StoredCopy(Archived archived, long storedBytes) {
    }

    /**
     * Reads an archived copy whole, decodes it and checks it against the SHA-256 its name carries,
     * keeping nothing: what a fetch would find, without writing it anywhere.
     *
     * @return the size of the decoded file
     * @throws LifeboatException CORRUPT when it does not decode or decodes to other content
     */
    public long check(Archived a) throws IOException {
        HashingOutputStream hashed = new HashingOutputStream(OutputStream.nullOutputStream());
        decodeChecked(a, hashed);
        return hashed.count();
    }

    /** Decodes into {@code hashed}, then compares its SHA-256 with the one the object's name carries. */
    private void decodeChecked(Archived a, HashingOutputStream hashed) throws IOException {
        decode(a, hashed);
        hashed.flush();
        if (!hashed.sha256().equals(a.rawSha256())) {
            throw corrupt(a, "decodes to content with sha256 " + hashed.sha256(), null);
        }
    }

    /**
     * The names of one timeline's files in the archive (as {@link #names()}): its segments, partial
     * segments and backup history files, and its history file. One listing of that timeline only.
     */
    public List<String> names(TimelineId timeline) throws IOException {
        return storage.list(layout.walPrefix() + timeline.hex()).stream().map(o -> fileName(o.key())).filter(n -> n != null)
                .toList();
    }

    /**
     * The history files of the timelines after {@code from}, probed one by one up to the first the
     * archive lacks, as PostgreSQL finds the newest timeline (findNewestTimeLine): a timeline beyond
     * a missing one is invisible to recovery too. Each is checked and parsed.
     */
    public Map<TimelineId, TimelineHistory> historiesAfter(TimelineId from) throws IOException {
        Map<TimelineId, TimelineHistory> out = new LinkedHashMap<>();
        for (TimelineId t = from.next(); ; t = t.next()) {
            Optional<byte[]> text = read(WalFileName.parse(t.hex() + ".history"));
            if (text.isEmpty()) {
                return out;
            }
            out.put(t, TimelineHistory.parse(t, new String(text.get(), java.nio.charset.StandardCharsets.UTF_8)));
        }
    }

    /** The WAL file name an archive object's key stands for; null for a key that is not one. */
    public static String fileName(String key) {
        String last = key.substring(key.lastIndexOf('/') + 1);
        int mark = last.indexOf(HASH_MARK);
        return mark > 0 ? last.substring(0, mark) : null;
    }

    /** A small archived file (a timeline history file) decoded and checked; empty when the archive lacks it. */
    public Optional<byte[]> read(WalFileName name) throws IOException {
        List<Archived> found = find(name);
        if (found.isEmpty()) {
            return Optional.empty();
        }
        java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();
        decodeChecked(found.get(0), new HashingOutputStream(buf));
        return Optional.of(buf.toByteArray());
    }

    /**
     * Decodes an archived file into {@code out}. The stored bytes come whole or not at all (the
     * driver's stream resumes through transport failures and ends with a STORAGE error), and {@code
     * out} reports its own failures (a local file: RESOURCE naming it): an IOException here is the
     * decoder's, so the object is damaged.
     */
    private void decode(Archived a, OutputStream out) throws IOException {
        String scheme = a.key().endsWith(ENCRYPTED_SUFFIX) ? io.lifeboat.codec.AgeEncryption.SCHEME : "none";
        io.lifeboat.codec.Encryption decryption = pipeline.decryptionFor(scheme, a.key());
        InputStream in;
        try {
            in = storage.read(a.key());
        } catch (IOException e) {
            throw new LifeboatException(ErrorKind.STORAGE, "cannot read archived WAL object " + a.key() + " from "
                    + storage.describe() + ": " + e.getMessage(), "check that the repository is reachable", e);
        }
        try (in) {
            Compression.ofStoredName(stripEncryption(a.key())).decompress(decryption.decrypt(in)).transferTo(out);
        } catch (LifeboatException e) {
            throw e;
        } catch (IOException e) {
            throw corrupt(a, "cannot be decoded (" + e.getMessage() + ")", e);
        }
    }

    public static String sha256(Path file) throws IOException {
        MessageDigest md = Digest.newSha256();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[256 * 1024];
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
        }
        return Digest.hex(md);
    }

    /**
     * Archives a file from pg_wal. Returns only once the object is stored and its size checked in the
     * repository (invariant 2). The same content already archived is success; different content under
     * the same name is a CONFLICT.
     */
    public PushOutcome push(Path file) throws IOException {
        return push(file, null);
    }

    /** As {@link #push(Path)}, with the file's SHA-256 when the caller already computed it. */
    public PushOutcome push(Path file, String knownSha256) throws IOException {
        WalFileName name = WalFileName.parse(file.getFileName().toString());
        if (!Files.isRegularFile(file)) {
            throw new LifeboatException(ErrorKind.NOT_FOUND, "WAL file " + file + " does not exist",
                    "archive_command must pass %p, run from the data directory");
        }
        String hash = knownSha256 != null ? knownSha256 : sha256(file);
        if (storage instanceof MirroredStorage mirror) {
            return pushToEach(mirror, file, name, hash);
        }
        return pushTo(storage, file, name, hash);
    }

    /**
     * Several repositories: each gets its own copy (one that missed it while down catches up on a
     * later push of the same file); success needs min-repositories of them to hold it.
     */
    private PushOutcome pushToEach(MirroredStorage mirror, Path file, WalFileName name, String hash) throws IOException {
        int stored = 0;
        boolean uploaded = false;
        for (MirroredStorage.Member m : mirror.healthy()) {
            try {
                uploaded |= pushTo(m.storage(), file, name, hash) == PushOutcome.ARCHIVED;
                stored++;
            } catch (LifeboatException e) {
                if (e.kind() == ErrorKind.CONFLICT) {
                    throw e;
                }
                mirror.fail(m, e);
            } catch (IOException | RuntimeException e) {
                mirror.fail(m, e);
            }
        }
        mirror.ensureEnough(stored);
        return uploaded ? PushOutcome.ARCHIVED : PushOutcome.ALREADY_ARCHIVED;
    }

    private PushOutcome pushTo(Storage storage, Path file, WalFileName name, String hash) throws IOException {
        List<Archived> existing = find(storage, name);
        for (Archived a : existing) {
            if (a.rawSha256().equals(hash)) {
                return PushOutcome.ALREADY_ARCHIVED;
            }
        }
        if (!existing.isEmpty()) {
            throw new LifeboatException(ErrorKind.CONFLICT, "WAL file " + name + " is already archived in "
                    + storage.describe() + " with different content (sha256 " + existing.get(0).rawSha256() + ", this one "
                    + hash + ")", "two clusters may be archiving into the same repository prefix: give each cluster its "
                    + "own name in lifeboat.yml; never remove archived WAL by hand to get past this");
        }
        checkOrigin(file, name, hash);
        String key = pipeline.storedName(prefixFor(name) + hash);
        long stored;
        try (InputStream in = Files.newInputStream(file)) {
            stored = pipeline.withStorage(storage).store(key, key.substring(key.lastIndexOf('/') + 1), in, 0).size();
        }
        // Durable means visible with the right size: a read-after-write check, not a hope.
        var info = storage.stat(key);
        if (info.isEmpty() || info.get().size() != stored) {
            throw new LifeboatException(ErrorKind.STORAGE, "WAL file " + name + " was uploaded to " + storage.describe()
                    + " but " + (info.isEmpty() ? "is not there" : "has " + info.get().size() + " bytes instead of " + stored),
                    "the storage lost or truncated a write; PostgreSQL will retry the archive command");
        }
        return PushOutcome.ARCHIVED;
    }

    /** The system identifier this archive accepts WAL of, once cluster.json was read (or claimed). */
    private String acceptedSystem;
    /** The content last found to be this cluster's (a push to several repositories checks once). */
    private String checkedSha256;

    /**
     * Refuses WAL of another cluster before anything is stored: a segment's (or partial segment's)
     * long page header names the system that wrote it, which must be the one in cluster.json, and
     * must say the segment starts where its name says. An archive whose cluster.json names no system
     * yet is claimed by the first segment with a header (a file without one is stored as before:
     * there is no cluster to tell it from). History and backup history files are text without a
     * header: nothing to check beyond their name, and a different file under an archived name is
     * refused as for any file.
     */
    private synchronized void checkOrigin(Path file, WalFileName name, String sha256) throws IOException {
        if (name.kind() == WalFileName.Kind.TIMELINE_HISTORY || name.kind() == WalFileName.Kind.BACKUP_HISTORY
                || sha256.equals(checkedSha256)) {
            return;
        }
        Catalog catalog = new Catalog(storage, layout);
        if (acceptedSystem == null) {
            acceptedSystem = catalog.clusterInfo().map(ClusterInfo::systemIdentifier).orElse(null);
        }
        WalPageHeader h;
        try {
            h = WalPageHeader.read(file);
        } catch (LifeboatException e) {
            if (acceptedSystem == null) {
                return; // no cluster known to tell it from
            }
            throw e;
        }
        Lsn start = WalSegmentName.parse(name.name().substring(0, 24), h.segmentSize()).startLsn();
        if (!start.equals(h.pageAddress())) {
            throw new LifeboatException(ErrorKind.CORRUPT, "WAL file " + file + " is named for " + start + " but its page "
                    + "header says it holds WAL from " + h.pageAddress() + "; nothing was stored",
                    "the file in pg_wal is not what its name says: look at it before anything else");
        }
        if (acceptedSystem == null) {
            acceptedSystem = catalog.ensureClusterInfo(h.systemIdentifier(), h.pgMajor()).systemIdentifier();
        }
        if (!acceptedSystem.equals(h.systemIdentifier())) {
            throw new LifeboatException(ErrorKind.CONFLICT, "WAL file " + name + " was written by the cluster with "
                    + "system identifier " + h.systemIdentifier() + ", but repository prefix '" + layout.cluster() + "' in "
                    + storage.describe() + " belongs to system " + acceptedSystem + "; nothing was stored",
                    "each cluster needs its own prefix: give this one its own name in lifeboat.yml (archive_command "
                            + "--cluster NAME)");
        }
        checkedSha256 = sha256;
    }

    /**
     * Fetches a file into {@code target} (atomically: temp file, fsync, rename) after checking its
     * checksum. Returns false when the archive does not have it.
     */
    public boolean fetch(WalFileName name, Path target) throws IOException {
        List<Archived> found = find(name);
        if (found.isEmpty()) {
            return false;
        }
        if (found.size() > 1) {
            throw new LifeboatException(ErrorKind.CONFLICT, "the archive holds " + found.size() + " different copies of "
                    + name + " in " + storage.describe(), "two clusters archived into one prefix; find out which copy is "
                    + "right before recovering (the object names carry each copy's sha256)");
        }
        Archived a = found.get(0);
        Path dir = target.toAbsolutePath().getParent();
        Path temp = LocalWrite.at(dir, () -> Files.createTempFile(dir, ".lifeboat-fetch-", ".tmp"));
        try {
            String got;
            FileChannel ch = LocalWrite.at(temp, () -> FileChannel.open(temp, StandardOpenOption.WRITE));
            try (ch; OutputStream fileOut = LocalWrite.guard(temp, java.nio.channels.Channels.newOutputStream(ch))) {
                HashingOutputStream hashed = new HashingOutputStream(fileOut);
                decode(a, hashed);
                hashed.flush();
                LocalWrite.run(temp, () -> ch.force(true));
                got = hashed.sha256();
            }
            if (!got.equals(a.rawSha256())) {
                throw corrupt(a, "decodes to content with sha256 " + got, null);
            }
            LocalWrite.run(target, () -> Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING));
            return true;
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    private static String stripEncryption(String key) {
        return key.endsWith(ENCRYPTED_SUFFIX) ? key.substring(0, key.length() - ENCRYPTED_SUFFIX.length()) : key;
    }

    private LifeboatException corrupt(Archived a, String what, Throwable cause) {
        return new LifeboatException(ErrorKind.CORRUPT, "archived WAL object " + a.key() + " in " + storage.describe() + " "
                + what + ", not the " + a.rawSha256() + " it was stored with", "the archive copy is damaged: restore from "
                + "another repository, or recover only up to the WAL before it", cause);
    }
}
