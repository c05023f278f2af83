package io.lifeboat.agent.stream;

import io.lifeboat.codec.Digest;
import io.lifeboat.engine.archive.WalArchive;
import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.postgres.WalPageHeader;
import io.lifeboat.postgres.WalFileName;
import io.lifeboat.postgres.WalSegmentName;

import java.io.IOException;
import java.util.HashMap;
import java.util.Map;

/**
 * Stores what the stream assembled, through the same {@link WalArchive} code path as wal-push (same
 * keys with the raw SHA-256, codecs, encryption, min-repositories, idempotency): whole segments as
 * the segment, the unfinished one as {@code <segment>.partial}, each new partial replacing the one
 * before, and all partials of a segment dropped once it is stored whole.
 */
final class SegmentStore {
    private final WalArchive archive;
    private final String systemIdentifier;
    /** The partial copy stored last, per segment: replaced (deleted) by the next one. */
    private final Map<WalSegmentName, String> lastPartial = new HashMap<>();

    SegmentStore(WalArchive archive, String systemIdentifier) {
        this.archive = archive;
        this.systemIdentifier = systemIdentifier;
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
        if (!p.partial()) {
            archive.push(WalFileName.parse(p.name().toString()), p.data(), p.data().length);
            archive.removePartials(p.name(), null);
            lastPartial.remove(p.name());
            return;
        }
        WalFileName name = WalFileName.parse(p.name() + WalArchive.PARTIAL_SUFFIX);
        String sha = Digest.sha256(p.data(), 0, p.data().length);
        archive.push(name, p.data(), p.data().length);
        String before = lastPartial.put(p.name(), sha);
        if (before != null && !before.equals(sha)) {
            archive.remove(name, before);
        }
    }

    /** Stores a timeline history file the server sent (TIMELINE_HISTORY). */
    void storeHistory(String fileName, byte[] content) throws IOException {
        archive.push(WalFileName.parse(fileName), content, content.length);
    }
}
