package io.lifeboat.engine.physical;

import io.lifeboat.catalog.BackupId;
import io.lifeboat.catalog.BackupManifest;
import io.lifeboat.catalog.BackupType;
import io.lifeboat.catalog.Catalog;
import io.lifeboat.engine.ObjectPipeline;
import io.lifeboat.postgres.BackupSession;
import io.lifeboat.postgres.Lsn;
import io.lifeboat.postgres.PgVersion;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The backup an incremental builds on, with its whole chain loaded, and the checks that decide
 * whether page LSNs may be compared with its start at all. Where they may not, the backup is a
 * full one and says why: no earlier backup read from the data directory; a full-every policy;
 * another PostgreSQL version or block size; page LSNs that do not move with every change (neither
 * data_checksums nor wal_log_hints, or full_page_writes off); another timeline than the parent's
 * (a promotion: the old timeline's later pages are not in this one's history); a WAL position that
 * went back (pg_resetwal). A parent whose chain is broken or damaged is refused, naming it.
 */
final class IncrementalBase {
    private final ChainView view;
    private final List<String> notes;

    private IncrementalBase(ChainView view, List<String> notes) {
        this.view = view;
        this.notes = notes;
    }

    BackupManifest parent() {
        return view.newest().manifest();
    }

    /** The chain of the new backup: its parent's chain and its parent. */
    List<BackupId> chain() {
        return view.links().stream().map(l -> l.manifest().id()).toList();
    }

    ChainView view() {
        return view;
    }

    Lsn parentStart() {
        return Lsn.parse(parent().physical().startLsn());
    }

    List<String> notes() {
        return notes;
    }

    /** The parent for an incremental of this request, or null for a full backup (having said why). */
    static IncrementalBase choose(Catalog catalog, ObjectPipeline pipeline, LocalBackupRequest req,
                                  BackupSession.Facts facts, Instant now, Consumer<String> log) {
        if (req.kind() == LocalBackupRequest.Kind.FULL
                || (req.kind() == LocalBackupRequest.Kind.AUTO && req.fullEvery() == null)) {
            return null;
        }
        Optional<BackupManifest> newest = catalog.completeBackups().stream()
                .filter(m -> m.type() == BackupType.PHYSICAL && m.physical() != null && m.physical().files() != null
                        && !"remote".equals(m.physical().files().source())) // the server's incrementals have their own chains
                .max(Comparator.comparing(BackupManifest::id));
        if (newest.isEmpty()) {
            return full(log, "there is no earlier backup taken with --source local in " + catalog.storage().describe()
                    + " to build on");
        }
        BackupManifest parent = newest.get();
        BackupManifest.IndexedFiles pf = parent.physical().files();
        if (req.kind() == LocalBackupRequest.Kind.AUTO) {
            Instant fullStarted = pf.chain().isEmpty() ? parent.startTime() : pf.chain().get(0).time();
            String why = req.fullEvery().fullNeeded(fullStarted, pf.chain().size(), now);
            if (why != null) {
                return full(log, why);
            }
        }
        if (new PgVersion(parent.pgVersionNum()).major() != facts.version().major()) {
            return full(log, "the newest backup " + parent.id() + " is of PostgreSQL "
                    + new PgVersion(parent.pgVersionNum()).major() + ", the server is " + facts.version().major());
        }
        if (pf.blockSize() != facts.blockSize()) {
            return full(log, "the newest backup " + parent.id() + " has block size " + pf.blockSize() + ", the server "
                    + facts.blockSize());
        }
        if (!facts.hintsMoveLsn()) {
            return full(log, "page LSNs do not show every change on this server: with neither data_checksums nor "
                    + "wal_log_hints on (or with full_page_writes off), hint bits and the all-visible flag change pages "
                    + "without moving their LSN, so only a full backup is safe; set wal_log_hints = on (needs a restart) "
                    + "for block-level incrementals");
        }
        if (!pf.dataChecksums() && !pf.walLogHints()) {
            return full(log, "the newest backup " + parent.id() + " was taken with neither data_checksums nor "
                    + "wal_log_hints on, so changes since then may not have moved page LSNs");
        }
        if (!parent.systemIdentifier().equals(facts.systemIdentifier())) {
            return full(log, "the newest backup " + parent.id() + " is of system " + parent.systemIdentifier());
        }
        List<String> notes = new ArrayList<>();
        ChainView view = ChainLoader.load(catalog, pipeline, parent);
        log.accept("incremental of " + parent.id() + " (chain of " + view.links().size() + " backup"
                + (view.links().size() == 1 ? "" : "s") + " from full backup " + view.links().get(0).manifest().id()
                + "): blocks changed since " + parent.physical().startLsn() + " are stored");
        return new IncrementalBase(view, notes);
    }

    /**
     * Checks what is known once the backup has started: the same timeline as the parent's end, and
     * WAL that went on from the parent's stop. Returns this, or null for a full backup.
     */
    IncrementalBase confirm(Lsn start, long timeline, Consumer<String> log) {
        BackupManifest.PhysicalDetails d = parent().physical();
        long parentTimeline = d.stopTimeline() > 0 ? d.stopTimeline() : d.timeline();
        if (parentTimeline != timeline) {
            return full(log, "the server is on timeline " + timeline + ", the newest backup " + parent().id()
                    + " ended on timeline " + parentTimeline + " (a promotion since): pages of the old timeline's later WAL "
                    + "are not in this one's history");
        }
        if (!Lsn.parse(d.stopLsn()).isBefore(start)) {
            return full(log, "the backup starts at " + start + ", not after the end of the newest backup " + parent().id()
                    + " at " + d.stopLsn() + " (pg_resetwal?)");
        }
        return this;
    }

    private static IncrementalBase full(Consumer<String> log, String why) {
        log.accept("this backup is a full backup: " + why);
        return null;
    }
}
