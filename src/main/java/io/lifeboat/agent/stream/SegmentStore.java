package io.lifeboat.agent.stream;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.codec.Digest;
import io.lifeboat.engine.archive.WalArchive;
import io.lifeboat.postgres.WalFileName;
import io.lifeboat.postgres.WalPageHeader;
import io.lifeboat.postgres.WalSegmentName;

import java.io.IOException;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.function.Consumer;

/**
 * Stores what the stream assembled, through the same {@link WalArchive} code path as wal-push (same
 * keys with the raw SHA-256, codecs, encryption, min-repositories, idempotency). Each byte of a
 * segment is hashed once and compressed about once, however often its unfinished state is stored:
 * <ul>
 * <li>the unfinished segment is stored as pieces (see {@link io.lifeboat.engine.archive.PartialPieces}):
 *     a base piece {@code [0, n)} is the frames compressed so far plus one frame of what arrived since,
 *     its checksum the running SHA-256 of the segment; it replaces the pieces before it;</li>
 * <li>in synchronous mode each flush stores only the bytes since the last piece (a delta: small, so a
 *     commit waits for little), and a base piece gathers them now and then;</li>
 * <li>the whole segment is the frames compressed for its base pieces plus the rest, with the running
 *     checksum, and replaces every piece of it.</li>
 * </ul>
 * Replaced pieces are deleted in the background ({@code cleaner}): a piece left behind is covered by a
 * larger one, and expire removes pieces of segments archived whole.
 */
final class SegmentStore {
    /** Synchronous mode: a base piece once the deltas since the last one hold this much WAL ... */
    static final int COMPACT_BYTES = 1 << 20;
    /** ... or are this many (fewer objects to list at recovery and to delete) ... */
    static final int COMPACT_PIECES = 500;

    private final WalArchive archive;
    private final String systemIdentifier;
    private final boolean deltas;
    /** ... or the last base piece is older than this (the flush interval). */
    private final long compactNanos;
    private final Executor cleaner;
    private final Consumer<String> log;
    private Open open;

    /** What is stored of the segment being received. */
    private static final class Open {
        final WalSegmentName name;
        final MessageDigest sha = Digest.newSha256();
        /** bytes [0, hashed) went into {@link #sha} and are stored */
        int hashed;
        final List<byte[]> frames = new ArrayList<>();
        /** bytes [0, framed) are in {@link #frames} */
        int framed;
        final List<WalArchive.Archived> pieces = new ArrayList<>();
        long lastBase = System.nanoTime();

        Open(WalSegmentName name) {
            this.name = name;
        }
    }

    /**
     * @param deltas  store each partial as the bytes since the last piece (synchronous mode)
     * @param cleaner runs the deletion of replaced pieces
     */
    SegmentStore(WalArchive archive, String systemIdentifier, boolean deltas, Duration compactEvery, Executor cleaner,
                 Consumer<String> log) {
        this.archive = archive;
        this.systemIdentifier = systemIdentifier;
        this.deltas = deltas;
        this.compactNanos = compactEvery.toNanos();
        this.cleaner = cleaner;
        this.log = log;
    }

    /** Stores a piece; returns when it is stored in min-repositories (and checked, as wal-push checks). */
    void store(SegmentAssembler.Piece p) throws IOException {
        String what = (p.partial() ? "partial segment " : "segment ") + p.name() + " received from the server";
        // The server we stream from must be the system whose prefix this is; WalArchive.push then checks the
        // header against cluster.json as it does for wal-push.
        WalPageHeader h = WalPageHeader.parse(p.data(), p.valid(), what);
        if (systemIdentifier != null && !systemIdentifier.equals(h.systemIdentifier())) {
            throw new LifeboatException(ErrorKind.CONFLICT, what + " was written by the PostgreSQL system "
                    + h.systemIdentifier() + ", not by the streamed server's system " + systemIdentifier,
                    "the server sent WAL of another system: check which server the configuration points to");
        }
        Open o = open != null && open.name.equals(p.name()) ? open : null;
        if (!p.partial()) {
            open = null;
            byte[] data = p.data();
            if (o == null) {
                archive.push(WalFileName.parse(p.name().toString()), data, p.valid());
            } else {
                o.sha.update(data, o.hashed, p.valid() - o.hashed);
                archive.push(WalFileName.parse(p.name().toString()), data, p.valid(), Digest.hex(o.sha), o.frames, o.framed);
            }
            WalSegmentName done = p.name();
            later(() -> archive.removePartials(done, null), "the partial pieces of " + done);
            return;
        }
        if (o == null) {
            o = new Open(p.name());
            open = o;
        }
        storePartial(o, p.data(), p.valid());
    }

    private void storePartial(Open o, byte[] data, int valid) throws IOException {
        if (valid <= o.hashed) {
            return;
        }
        int from = o.hashed;
        boolean base = !deltas || o.pieces.size() >= COMPACT_PIECES || valid - o.framed >= COMPACT_BYTES
                || System.nanoTime() - o.lastBase >= compactNanos;
        WalArchive.Archived stored;
        if (base) {
            byte[] frame = archive.compressFrame(data, o.framed, valid - o.framed);
            List<byte[]> frames = new ArrayList<>(o.frames);
            frames.add(frame);
            MessageDigest sha = copy(o.sha);
            sha.update(data, from, valid - from);
            stored = archive.pushPiece(o.name, data, 0, valid, Digest.hex(sha), frames, valid);
            o.frames.add(frame);
            o.framed = valid;
            o.lastBase = System.nanoTime();
            List<WalArchive.Archived> replaced = List.copyOf(o.pieces);
            o.pieces.clear();
            for (WalArchive.Archived r : replaced) {
                later(() -> archive.remove(r), r.key());
            }
        } else {
            stored = archive.pushPiece(o.name, data, from, valid, Digest.sha256(data, from, valid - from), List.of(), from);
        }
        o.pieces.add(stored);
        o.sha.update(data, from, valid - from);
        o.hashed = valid;
    }

    private static MessageDigest copy(MessageDigest md) {
        try {
            return (MessageDigest) md.clone();
        } catch (CloneNotSupportedException e) {
            throw new IllegalStateException("SHA-256 state cannot be copied", e);
        }
    }

    private interface Deletion {
        void run() throws IOException;
    }

    private void later(Deletion d, String what) {
        cleaner.execute(() -> {
            try {
                d.run();
            } catch (IOException | RuntimeException e) {
                log.accept("warning: cannot delete " + what + " (replaced by a larger copy; expire removes it once its "
                        + "segment is archived whole): " + e.getMessage());
            }
        });
    }

    /** Stores a timeline history file the server sent (TIMELINE_HISTORY). */
    void storeHistory(String fileName, byte[] content) throws IOException {
        archive.push(WalFileName.parse(fileName), content, content.length);
    }
}
