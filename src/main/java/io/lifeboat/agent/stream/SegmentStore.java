package io.lifeboat.agent.stream;

import io.lifeboat.codec.Digest;
import io.lifeboat.engine.archive.WalArchive;
import io.lifeboat.postgres.SegmentHeader;
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
        SegmentHeader.parse(p.data(), p.valid(), what).check(systemIdentifier, p.name(), what);
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
