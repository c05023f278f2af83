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
    static final String HASH_MARK = ".sha256-";
    private static final String ENCRYPTED_SUFFIX = ".age";
    public static final String PARTIAL_SUFFIX = ".partial";

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
     * The archived copies of every file in {@code name}'s directory (a timeline and log: up to 256
     * segments), by file name, from one listing. For a reader going through that directory in order:
     * a name found here is fetched without a listing of its own ({@link #fetchListed}); one not
     * found here proves nothing (the listing is a snapshot) and is looked for with {@link #find}.
     */
    public Map<String, List<Archived>> findInDirectory(WalFileName name) throws IOException {
        String prefix = Keys.join(layout.walPrefix(), name.directory()) + "/";
        Map<String, List<Archived>> out = new java.util.HashMap<>();
        for (ObjectInfo o : storage.list(prefix)) {
            String last = o.key().substring(o.key().lastIndexOf('/') + 1);
            int mark = last.indexOf(HASH_MARK);
            if (mark > 0 && last.length() >= mark + HASH_MARK.length() + 64) {
                String sha = last.substring(mark + HASH_MARK.length(), mark + HASH_MARK.length() + 64);
                out.computeIfAbsent(last.substring(0, mark), k -> new java.util.ArrayList<>()).add(new Archived(o.key(), sha));
            }
        }
        return out;
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
            copy(Compression.ofStoredName(stripEncryption(a.key())).decompress(decryption.decrypt(in)), out);
        } catch (LifeboatException e) {
            throw e;
        } catch (IOException e) {
            throw corrupt(a, "cannot be decoded (" + e.getMessage() + ")", e);
        }
    }

    /**
     * Copies in 256 KiB pieces, not transferTo's 8 KiB: a segment written to a local file in 8 KiB
     * pieces costs 2048 write calls (each its trip through the channel's native buffer), with these 64.
     */
    private static void copy(InputStream in, OutputStream out) throws IOException {
        byte[] buf = new byte[256 * 1024];
        int n;
        while ((n = in.readNBytes(buf, 0, buf.length)) > 0) {
            out.write(buf, 0, n);
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
        return pushFile(file).outcome();
    }

    /** What {@link #pushFile} did, and the SHA-256 of the content it stored. */
    public record Pushed(PushOutcome outcome, String sha256) {
    }

    /** Files up to this size (a segment is 16 MiB unless initdb was told otherwise) are read into memory once. */
    private static final int MAX_READ_WHOLE = 64 << 20;
    /** Buffers of files read whole, kept for the next file (a process archives one burst after another). */
    private final java.util.concurrent.ConcurrentLinkedQueue<byte[]> buffers = new java.util.concurrent.ConcurrentLinkedQueue<>();

    /**
     * As {@link #push(Path)}, returning the checksum too. A segment is read once: hashed, checked and
     * compressed from the same bytes in memory (one read and one checksum of it instead of two
     * reads); a file larger than {@link #MAX_READ_WHOLE}, or one whose size changes while read, is
     * hashed and then streamed from the file.
     */
    public Pushed pushFile(Path file) throws IOException {
        WalFileName name = WalFileName.parse(file.getFileName().toString());
        if (!Files.isRegularFile(file)) {
            throw notFound(file);
        }
        long size = Files.size(file);
        if (size <= MAX_READ_WHOLE) {
            byte[] buf = buffer((int) size);
            try {
                int n = readWhole(file, buf, (int) size);
                if (n >= 0) {
                    String hash = Digest.sha256(buf, 0, n);
                    return new Pushed(push(name, buf, n, hash, List.of(), 0, file.toString()), hash);
                }
            } finally {
                if (buffers.size() < 8) {
                    buffers.add(buf);
                }
            }
        }
        String hash = sha256(file);
        return new Pushed(push(file, hash), hash);
    }

    private byte[] buffer(int size) {
        for (java.util.Iterator<byte[]> it = buffers.iterator(); it.hasNext(); ) {
            byte[] b = it.next();
            if (b.length >= size && buffers.remove(b)) {
                return b;
            }
        }
        return new byte[size];
    }

    /** At most this much per read: a read into a heap array goes through a direct buffer of the read's size. */
    private static final int READ_SLICE = 1 << 20;

    /** Reads the file, expected to hold {@code size} bytes, into {@code buf}; -1 when it holds more or fewer. */
    private static int readWhole(Path file, byte[] buf, int size) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            // In slices: one read of the whole segment would have the JDK allocate (and the kernel fault in) a
            // 16 MiB native buffer for each new thread, i.e. for every batch of the archive-ahead process.
            for (int off = 0; off < size; ) {
                int n = ch.read(java.nio.ByteBuffer.wrap(buf, off, Math.min(READ_SLICE, size - off)));
                if (n < 0) {
                    return -1;
                }
                off += n;
            }
            return ch.read(java.nio.ByteBuffer.allocate(1)) < 0 ? size : -1;
        } catch (java.nio.file.NoSuchFileException e) {
            throw notFound(file);
        }
    }

    private static LifeboatException notFound(Path file) {
        return new LifeboatException(ErrorKind.NOT_FOUND, "WAL file " + file + " does not exist",
                "archive_command must pass %p, run from the data directory");
    }

    /** As {@link #push(Path)}, streamed from the file, whose SHA-256 the caller computed. */
    public PushOutcome push(Path file, String knownSha256) throws IOException {
        WalFileName name = WalFileName.parse(file.getFileName().toString());
        if (!Files.isRegularFile(file)) {
            throw notFound(file);
        }
        String hash = knownSha256 != null ? knownSha256 : sha256(file);
        return push(name, hash, new Content() {
            @Override
            public ObjectPipeline.Written storeAs(ObjectPipeline p, String key, String path) throws IOException {
                try (InputStream in = Files.newInputStream(file)) {
                    return new ObjectPipeline.Written(p.store(key, path, in, 0).size(), false);
                }
            }

            @Override
            public WalPageHeader header() throws IOException {
                return WalPageHeader.read(file);
            }
        });
    }

    /**
     * Archives a file received over the network (the agent's WAL stream): {@code data[0..length)} is
     * the whole file. Stored, checked and deduplicated exactly as {@link #push(Path)} does.
     */
    public PushOutcome push(WalFileName name, byte[] data, int length) throws IOException {
        return push(name, data, length, Digest.sha256(data, 0, length), List.of(), 0);
    }

    /**
     * As {@link #push(WalFileName, byte[], int)}, for a file the stream hashed and partly compressed
     * already: {@code sha256} is the file's, {@code frames} (compressed by this archive's pipeline,
     * {@link ObjectPipeline#compressFrame}) hold {@code data[0..framesEnd)}, and only the rest is
     * compressed here. The object is those frames and one more: a standard multi-frame file.
     */
    public PushOutcome push(WalFileName name, byte[] data, int length, String sha256, List<byte[]> frames, int framesEnd)
            throws IOException {
        return push(name, data, length, sha256, frames, framesEnd, name + " received from the server");
    }

    private PushOutcome push(WalFileName name, byte[] data, int length, String sha256, List<byte[]> frames, int framesEnd,
                             String origin) throws IOException {
        return push(name, sha256, new Content() {
            @Override
            public ObjectPipeline.Written storeAs(ObjectPipeline p, String key, String path) throws IOException {
                return p.storeFrames(key, frames, data, framesEnd, length - framesEnd);
            }

            @Override
            public WalPageHeader header() {
                return WalPageHeader.parse(data, length, origin);
            }
        });
    }

    /**
     * Stores one piece of the unfinished segment the stream is receiving (see {@link PartialPieces}):
     * bytes {@code [from, to)} of the segment whose start is {@code data[0..]}, as {@code frames}
     * (already compressed by this pipeline) followed by {@code data[tailFrom..to)} compressed here.
     * {@code sha256} is that of {@code data[from..to)}. Checked as every push is (the page header
     * at the segment's start names this cluster and this segment; the size after upload), in
     * min-repositories. Returns the stored copy, which the stream deletes once a larger piece or the
     * whole segment replaces it.
     */
    public Archived pushPiece(WalSegmentName segment, byte[] data, int from, int to, String sha256, List<byte[]> frames,
                              int tailFrom) throws IOException {
        WalFileName name = WalFileName.parse(segment + PARTIAL_SUFFIX);
        String suffix = PartialPieces.suffix(from, to);
        push(name, sha256, new Content() {
            @Override
            public ObjectPipeline.Written storeAs(ObjectPipeline p, String key, String path) throws IOException {
                return p.storeFrames(key, frames, data, tailFrom, to - tailFrom);
            }

            @Override
            public WalPageHeader header() {
                return WalPageHeader.parse(data, to, "partial segment " + segment + " received from the server");
            }

            @Override
            public String suffix() {
                return suffix;
            }
        });
        return new Archived(pipeline.storedName(prefixFor(name) + sha256 + suffix), sha256);
    }

    /** {@code data[off..off+len)} compressed as one frame of this archive's codec, for {@link #pushPiece} and {@link #push(WalFileName, byte[], int, String, List, int)}. */
    public byte[] compressFrame(byte[] data, int off, int len) throws IOException {
        return pipeline.compressFrame(data, off, len);
    }

    /** A file's content: stored as one object through a pipeline (returns the stored size), and its page header. */
    private interface Content {
        ObjectPipeline.Written storeAs(ObjectPipeline pipeline, String key, String path) throws IOException;

        WalPageHeader header() throws IOException;

        /** What the raw name carries after the checksum (a partial piece's byte range). */
        default String suffix() {
            return "";
        }
    }

    private PushOutcome push(WalFileName name, String hash, Content content) throws IOException {
        if (storage instanceof MirroredStorage mirror) {
            return pushToEach(mirror, content, name, hash);
        }
        return pushTo(storage, content, name, hash);
    }

    /**
     * Several repositories: each gets its own copy (one that missed it while down catches up on a
     * later push of the same file); success needs min-repositories of them to hold it.
     */
    private PushOutcome pushToEach(MirroredStorage mirror, Content file, WalFileName name, String hash) throws IOException {
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

    private PushOutcome pushTo(Storage storage, Content file, WalFileName name, String hash) throws IOException {
        // A partial never conflicts, and storing one again under its own key rewrites the same bytes: no listing
        // first (the synchronous stream stores one per commit).
        List<Archived> existing = name.kind() == WalFileName.Kind.PARTIAL ? List.of() : find(storage, name);
        for (Archived a : existing) {
            if (a.rawSha256().equals(hash)) {
                return PushOutcome.ALREADY_ARCHIVED;
            }
        }
        // Partial copies of a segment differ by nature (each one the agent stores extends the one before; the
        // server's own .partial at a promotion may hold more or less): they are kept side by side, and
        // wal-fetch serves the fullest of them at the end of the archive.
        if (!existing.isEmpty() && name.kind() != WalFileName.Kind.PARTIAL) {
            throw new LifeboatException(ErrorKind.CONFLICT, "WAL file " + name + " is already archived in "
                    + storage.describe() + " with different content (sha256 " + existing.get(0).rawSha256() + ", this one "
                    + hash + ")", "two clusters may be archiving into the same repository prefix: give each cluster its "
                    + "own name in lifeboat.yml; never remove archived WAL by hand to get past this");
        }
        checkOrigin(file, name, hash);
        String key = pipeline.storedName(prefixFor(name) + hash + file.suffix());
        ObjectPipeline.Written written = file.storeAs(pipeline.withStorage(storage), key, key.substring(key.lastIndexOf('/') + 1));
        if (written.confirmed()) {
            // The storage checked the content against its digest and answered with it (S3: Content-MD5 and an
            // equal ETag): stored with exactly these bytes, so with this size, which a HEAD would only repeat.
            return PushOutcome.ARCHIVED;
        }
        // Durable means visible with the right size: a read-after-write check, not a hope.
        long stored = written.size();
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
    private synchronized void checkOrigin(Content file, WalFileName name, String sha256) throws IOException {
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
            h = file.header();
        } catch (LifeboatException e) {
            if (acceptedSystem == null) {
                return; // no cluster known to tell it from
            }
            throw e;
        }
        Lsn start = WalSegmentName.parse(name.name().substring(0, 24), h.segmentSize()).startLsn();
        if (!start.equals(h.pageAddress())) {
            throw new LifeboatException(ErrorKind.CORRUPT, "WAL file " + name + " is named for " + start + " but its page "
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
        return fetch(name, target, true) != Fetched.MISSING;
    }

    /**
     * What a fetch found. PARTIAL: the segment is not archived whole, and the archive ends inside
     * it on its timeline: the newest partial copy was served under the segment's name (what the
     * agent's stream stored, at most flush-interval old). PARTIAL_HELD_BACK: the same situation
     * when serving partials was not allowed; the caller must not take it for the end of the archive.
     */
    public enum Fetched { SEGMENT, PARTIAL, PARTIAL_HELD_BACK, MISSING }

    /**
     * Fetches a file as {@link #fetch(WalFileName, Path)} does; a segment that is archived only as
     * partial copies is served from the newest of them when {@code servePartial} and only when no
     * later segment of its timeline is archived (the end of the archive). With later segments
     * archived, a partial-only segment is a gap in the archive: CONFLICT, never "missing", so that
     * recovery stops instead of ending early.
     */
    public Fetched fetch(WalFileName name, Path target, boolean servePartial) throws IOException {
        List<Archived> found = find(name);
        if (found.isEmpty()) {
            if (name.kind() != WalFileName.Kind.SEGMENT) {
                return Fetched.MISSING;
            }
            WalFileName partialName = WalFileName.parse(name.name() + PARTIAL_SUFFIX);
            List<Archived> partials = find(partialName);
            if (partials.isEmpty()) {
                return Fetched.MISSING;
            }
            WalSegmentName later = laterSegment(name.segment());
            if (later != null) {
                throw new LifeboatException(ErrorKind.CONFLICT, "WAL segment " + name + " is archived only as a partial "
                        + "copy in " + storage.describe() + ", but later segments of its timeline are archived (" + later
                        + "): the archive has a gap at " + name, "recovery stops here rather than end early; recover to "
                        + "a target before " + name + ", or restore the segment from another repository");
            }
            if (!servePartial) {
                return Fetched.PARTIAL_HELD_BACK;
            }
            servePartial(name.segment(), partials, target);
            return Fetched.PARTIAL;
        }
        if (found.size() > 1) {
            throw new LifeboatException(ErrorKind.CONFLICT, "the archive holds " + found.size() + " different copies of "
                    + name + " in " + storage.describe(), "two clusters archived into one prefix; find out which copy is "
                    + "right before recovering (the object names carry each copy's sha256)");
        }
        fetchInto(found.get(0), target);
        return Fetched.SEGMENT;
    }

    /**
     * Fetches the one copy a listing of its directory found ({@link #findInDirectory}) into {@code
     * target}, checked as {@link #fetch} checks it, without listing again: only for a whole file that
     * listing found exactly once (anything else goes through {@link #fetch}, which sorts out partial
     * copies, conflicts and "missing").
     */
    public void fetchListed(Archived copy, Path target) throws IOException {
        fetchInto(copy, target);
    }

    private void fetchInto(Archived a, Path target) throws IOException {
        atomically(target, (ch, out) -> {
            HashingOutputStream hashed = new HashingOutputStream(out);
            decode(a, hashed);
            hashed.flush();
            if (!hashed.sha256().equals(a.rawSha256())) {
                throw corrupt(a, "decodes to content with sha256 " + hashed.sha256(), null);
            }
        });
    }

    /** Writes a local file's content through {@code body}. */
    private interface FileBody {
        void write(FileChannel ch, OutputStream out) throws IOException;
    }

    /** Writes {@code target} atomically: a temp file beside it, fsync, rename; nothing is left when {@code body} fails. */
    private static void atomically(Path target, FileBody body) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Path temp = LocalWrite.at(dir, () -> Files.createTempFile(dir, ".lifeboat-fetch-", ".tmp"));
        try {
            FileChannel ch = LocalWrite.at(temp, () -> FileChannel.open(temp, StandardOpenOption.READ, StandardOpenOption.WRITE));
            try (ch; OutputStream fileOut = LocalWrite.guard(temp, java.nio.channels.Channels.newOutputStream(ch))) {
                body.write(ch, fileOut);
                fileOut.flush();
                LocalWrite.run(temp, () -> ch.force(true));
            }
            LocalWrite.run(target, () -> Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING));
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    /**
     * Writes the segment file that partial copies stand for: the longest run of the stream's pieces
     * from the segment's start ({@link PartialPieces}), each checked against its checksum, then zeros
     * to the segment size its page header gives, as PostgreSQL pads a segment it has not finished; or
     * the fullest whole-file copy (the server's own .partial, an older agent's) when that holds more.
     */
    private void servePartial(WalSegmentName segment, List<Archived> copies, Path target) throws IOException {
        List<PartialPieces.Piece> pieces = new java.util.ArrayList<>();
        for (Archived a : copies) {
            pieces.add(PartialPieces.of(a));
        }
        Optional<PartialPieces.Run> run = PartialPieces.longestRun(segment, pieces);
        List<Archived> whole = pieces.stream().filter(p -> !p.ranged()).map(PartialPieces.Piece::archived).toList();
        if (!whole.isEmpty()) {
            fetchInto(fullestFirst(whole).get(0), target);
            if (run.isEmpty() || walEnd(target) > run.get().end()) {
                return;
            }
        }
        writeRun(segment, run.orElseThrow(), target);
    }

    private void writeRun(WalSegmentName segment, PartialPieces.Run run, Path target) throws IOException {
        atomically(target, (ch, out) -> {
            long at = 0;
            for (PartialPieces.Piece p : run.pieces()) {
                // Pieces may overlap: each is read and checked whole, and only what follows the run so far is written.
                HashingOutputStream hashed = new HashingOutputStream(skipping(out, at - p.from()));
                decode(p.archived(), hashed);
                hashed.flush();
                if (!hashed.sha256().equals(p.archived().rawSha256())) {
                    throw corrupt(p.archived(), "decodes to content with sha256 " + hashed.sha256(), null);
                }
                if (hashed.count() != p.to() - p.from()) {
                    throw corrupt(p.archived(), "decodes to " + hashed.count() + " bytes, not the " + (p.to() - p.from())
                            + " its name says", null);
                }
                at = p.to();
            }
            out.flush();
            java.nio.ByteBuffer head = java.nio.ByteBuffer.allocate(64);
            LocalWrite.at(target, () -> ch.read(head, 0));
            WalPageHeader h = WalPageHeader.parse(head.array(), head.position(), "partial segment " + segment);
            Lsn start = WalSegmentName.parse(segment.toString(), h.segmentSize()).startLsn();
            if (!start.equals(h.pageAddress()) || at > h.segmentSize()) {
                throw corrupt(run.pieces().get(0).archived(), "holds WAL from " + h.pageAddress() + " for "
                        + at + " bytes, which is not " + segment + " (" + start + ", " + h.segmentSize() + " bytes)", null);
            }
            byte[] zeros = new byte[64 * 1024];
            for (long left = h.segmentSize() - at; left > 0; left -= zeros.length) {
                out.write(zeros, 0, (int) Math.min(zeros.length, left));
            }
        });
    }

    /** A stream that drops the first {@code skip} bytes written to it. */
    private static OutputStream skipping(OutputStream out, long skip) {
        return new java.io.FilterOutputStream(out) {
            private long left = skip;

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                int drop = (int) Math.min(left, len);
                left -= drop;
                if (len > drop) {
                    out.write(b, off + drop, len - drop);
                }
            }

            @Override
            public void close() throws IOException {
                out.flush();
            }
        };
    }

    /** Where the WAL in a zero-padded segment file ends: after its last byte that is not zero. */
    private static long walEnd(Path file) throws IOException {
        long end = 0;
        long pos = 0;
        byte[] buf = new byte[256 * 1024];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buf)) > 0; pos += n) {
                for (int i = n - 1; i >= 0; i--) {
                    if (buf[i] != 0) {
                        end = pos + i + 1;
                        break;
                    }
                }
            }
        }
        return end;
    }

    /** Partial copies, fullest first (each one the agent stores extends the one before). */
    private List<Archived> fullestFirst(List<Archived> partials) throws IOException {
        if (partials.size() < 2) {
            return partials;
        }
        java.util.Map<String, ObjectInfo> info = new java.util.HashMap<>();
        for (ObjectInfo o : storage.list(prefixFor(WalFileName.parse(fileName(partials.get(0).key()))))) {
            info.put(o.key(), o);
        }
        // The larger stored object holds more WAL (the rest of a partial is zeros, compressed to almost nothing);
        // of two the same size, the newer.
        java.util.Comparator<Archived> fullest = java.util.Comparator.<Archived>comparingLong(
                a -> info.containsKey(a.key()) ? info.get(a.key()).size() : 0)
                .thenComparing(a -> info.containsKey(a.key()) && info.get(a.key()).lastModified() != null
                        ? info.get(a.key()).lastModified() : java.time.Instant.EPOCH);
        return partials.stream().sorted(fullest.reversed()).toList();
    }

    /** A segment of the same timeline after {@code seg} that is archived whole, or null when there is none. */
    private WalSegmentName laterSegment(WalSegmentName seg) throws IOException {
        String tliPrefix = layout.walPrefix() + seg.timeline().hex();
        WalSegmentName later = null;
        for (ObjectInfo o : storage.list(tliPrefix)) {
            String n = fileName(o.key());
            if (n != null && WalSegmentName.looksLikeSegment(n)) {
                WalSegmentName s = WalSegmentName.parse(n, seg.segmentSize());
                if (s.segmentNumber() > seg.segmentNumber() && (later == null || s.compareTo(later) > 0)) {
                    later = s;
                }
            }
        }
        return later;
    }

    /** Deletes a stored copy (e.g. a partial piece that a larger one replaced). */
    public void remove(Archived a) throws IOException {
        storage.delete(a.key());
    }

    /**
     * Deletes the partial copies of a segment except the one with {@code keepSha256} (null: all of
     * them, once the whole segment is archived). Returns how many were deleted.
     */
    public int removePartials(WalSegmentName segment, String keepSha256) throws IOException {
        int n = 0;
        for (Archived a : find(WalFileName.parse(segment + PARTIAL_SUFFIX))) {
            if (!a.rawSha256().equals(keepSha256)) {
                storage.delete(a.key());
                n++;
            }
        }
        return n;
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
