package io.lifeboat.engine.plan;

import io.lifeboat.catalog.BackupId;
import io.lifeboat.catalog.BackupManifest;
import io.lifeboat.catalog.BackupType;
import io.lifeboat.engine.verify.DrillRecord;
import io.lifeboat.engine.verify.WalContinuity;
import io.lifeboat.postgres.TimelineId;
import io.lifeboat.postgres.WalSegmentName;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeSet;

/**
 * To which moments a cluster can be restored: its backups as marks, the archived WAL of each
 * timeline as bands with the gaps between them, drills as proof points, and the recoverable
 * windows that follow (from the end of each intact physical backup to the first gap after it, or
 * the end of the archive). The gaps and where recovery from each backup ends are
 * {@link WalContinuity}'s (as `verify` reports them); times come from when the segments were stored
 * ({@link ArchiveIndex}). Pure logic over what the repository holds, unit-tested on generated listings.
 */
public final class RecoverabilityTimeline {
    private RecoverabilityTimeline() {
    }

    /**
     * @param from        the earliest moment shown (the oldest backup's start or the oldest archived WAL)
     * @param to          the latest (the newest WAL or backup)
     * @param windows     the moments a point-in-time restore reaches, oldest first; empty without an intact physical backup
     * @param lanes       one per timeline, oldest first
     * @param backups     every complete backup, oldest first
     * @param drills      the recorded restore drills, oldest first
     */
    public record Timeline(Instant from, Instant to, List<Window> windows, List<Lane> lanes, List<BackupMark> backups,
                           List<DrillMark> drills, List<String> notes) {
        public Instant oldestRestorable() {
            return windows.isEmpty() ? null : windows.get(0).from();
        }

        public Instant newestRestorable() {
            return windows.isEmpty() ? null : windows.get(windows.size() - 1).to();
        }
    }

    /**
     * A stretch of moments a restore reaches.
     *
     * @param fromBackup the backup it starts from (the first, when several overlap)
     * @param endsAt     why it ends there: "the end of the archive" or the gap that ends it
     */
    public record Window(Instant from, Instant to, String fromBackup, long timeline, String endsAt) {
    }

    /** The archived WAL of one timeline. */
    public record Lane(long timeline, List<Band> bands, List<Gap> gaps, String partial, Instant partialStored) {
    }

    /** Consecutive archived segments. {@code from}/{@code to}: when the first and the last were stored. */
    public record Band(String first, String last, long segments, long storedBytes, Instant from, Instant to) {
    }

    /**
     * Segments recovery cannot read, between WAL stored at {@code after} and WAL stored at {@code before}
     * (either null at an end). {@code cost} says what it breaks.
     */
    public record Gap(String first, String last, long segments, String reason, Instant after, Instant before, String cost) {
    }

    /**
     * A complete backup. {@code parent} is null for a full backup, else the backup it is an
     * incremental of ({@link BackupChain}), and {@code chain} how many backups a restore of it reads
     * (1 for a full one); {@code recoverableUntil} is where point-in-time recovery from it ends;
     * {@code walPending}: WAL it needs is not archived yet (the stream's or archiving's lag), not lost.
     * An incremental whose chain is incomplete is {@code damaged}.
     */
    public record BackupMark(String id, String type, Instant start, Instant stop, double seconds, Long timeline,
                             String startLsn, String stopLsn, long storedBytes, long rawBytes, String compression,
                             String encryption, String parent, int chain, boolean walIncluded, boolean damaged,
                             boolean walPending, String recoverableToLsn, Instant recoverableUntil, List<String> problems) {
    }

    /**
     * A restore drill: proof that a backup restored (to the end of the archive or to {@code target});
     * its problems with any credentials in them masked, as everything here is fit to show.
     */
    public record DrillMark(String backup, Instant time, boolean ok, double seconds, String target, String recoveredTo,
                            List<String> problems) {
    }

    /**
     * @param complete  the complete backups, oldest first
     * @param histories the text of the archived timeline history files that could be read
     * @param drills    the drill records by backup
     */
    public static Timeline build(List<BackupManifest> complete, ArchiveIndex archive, Map<TimelineId, String> histories,
                                 Map<BackupId, List<DrillRecord>> drills) {
        List<String> notes = new ArrayList<>();
        List<BackupMark> marks = new ArrayList<>();
        List<Window> windows = new ArrayList<>();
        Map<String, Gap> gaps = new LinkedHashMap<>();
        for (BackupManifest m : complete) {
            WalContinuity.BackupWal need = m.type() == BackupType.PHYSICAL ? WalContinuity.BackupWal.of(m) : null;
            WalContinuity.Result r = null;
            if (need != null) {
                r = WalContinuity.check(need, archive.names(), histories);
                for (String n : r.notes()) {
                    if (!notes.contains(n)) {
                        notes.add(n);
                    }
                }
                for (WalContinuity.Gap g : holes(r)) {
                    boolean own = !need.walIncluded() && g.first().segmentNumber() <= need.stop().segmentNumber();
                    gaps.merge(g.names(), gap(archive, g, own ? "backup " + m.id() + " is DAMAGED (part of its own WAL)"
                            : "point-in-time recovery from " + m.id() + " ends at " + g.first().startLsn()), (a, b) -> a);
                }
            }
            // Segments not archived yet at the end (a backup's stop segment a moment after it ended) are lag, not holes:
            // the backup becomes restorable when they arrive.
            boolean pending = r != null && r.gaps().size() > holes(r).size();
            BackupChain chain = BackupChain.of(m, complete);
            boolean damaged = !chain.complete() || r != null && r.damaged() && holes(r).stream()
                    .anyMatch(g -> g.first().segmentNumber() <= need.stop().segmentNumber());
            List<String> problems = new ArrayList<>();
            if (!chain.complete()) {
                problems.add("its chain is incomplete: " + chain.missing() + ", which it is an incremental of"
                        + (chain.parents().isEmpty() ? "" : " (through " + chain.members().get(0).id() + ")")
                        + ", is not a complete backup in the repository");
            }
            if (r != null) {
                problems.addAll(problems(r));
            }
            Instant until = null;
            if (r != null && !r.damaged() && chain.complete()) {
                until = r.gaps().isEmpty() ? endOfArchive(archive, r, m) : storedBefore(archive, r, m, r.gaps().get(0));
                windows.add(new Window(m.stopTime(), until, m.id().toString(), r.timeline().value(), r.gaps().isEmpty()
                        ? "the end of the archive" : r.gaps().get(0).reason() + " " + r.gaps().get(0)));
            }
            BackupManifest.PhysicalDetails p = m.physical();
            marks.add(new BackupMark(m.id().toString(), m.type().id(), m.startTime(), m.stopTime(),
                    Duration.between(m.startTime(), m.stopTime()).toMillis() / 1000.0,
                    p == null ? null : (long) Math.max(1, p.timeline()), p == null ? null : p.startLsn(),
                    p == null ? null : p.stopLsn(), m.storedBytes(), m.rawBytes(), m.compression(), m.encryption(),
                    chain.incremental() ? BackupChain.parent(m).toString() : null, chain.members().size(),
                    p != null && p.walIncluded(), damaged, pending,
                    r == null || r.recoverableTo() == null ? null : r.recoverableTo().toString(), until, problems));
        }
        List<DrillMark> drillMarks = new ArrayList<>();
        drills.values().forEach(list -> list.forEach(d -> drillMarks.add(new DrillMark(d.backup().toString(), d.time(),
                d.ok(), d.restoreSeconds(), d.target(), d.recoveredTo(),
                d.problems().stream().map(io.lifeboat.SecretMask::uri).toList()))));
        drillMarks.sort(Comparator.comparing(DrillMark::time));

        List<Lane> lanes = new ArrayList<>();
        TreeSet<TimelineId> tlis = new TreeSet<>(archive.timelines());
        for (BackupMark b : marks) {
            if (b.timeline() != null) {
                tlis.add(TimelineId.of(b.timeline()));
            }
        }
        for (TimelineId t : tlis) {
            lanes.add(lane(archive, t, gaps.values().stream().filter(g -> g.first().startsWith(t.hex())).toList()));
        }
        Instant from = null;
        Instant to = null;
        for (BackupMark b : marks) {
            from = min(from, b.start());
            to = max(to, b.stop());
        }
        for (Lane l : lanes) {
            for (Band b : l.bands()) {
                from = min(from, b.from());
                to = max(to, b.to());
            }
            to = max(to, l.partialStored());
        }
        return new Timeline(from, to, merge(windows), lanes, marks, drillMarks, notes);
    }

    /** The gaps with archived WAL after them (what cannot arrive any more), as the agent's watcher tells them apart. */
    static List<WalContinuity.Gap> holes(WalContinuity.Result r) {
        return r.gaps().stream().filter(g -> r.newest() != null && g.last().segmentNumber() < r.newest().segmentNumber())
                .toList();
    }

    private static List<String> problems(WalContinuity.Result r) {
        List<String> out = new ArrayList<>();
        List<WalContinuity.Gap> holes = holes(r);
        List<String> all = r.problems();
        for (int i = 0; i < r.gaps().size(); i++) {
            out.add(holes.contains(r.gaps().get(i)) ? all.get(i) : "not archived yet: " + r.gaps().get(i)
                    + " (the backup is restorable once it arrives)");
        }
        return out;
    }

    private static Gap gap(ArchiveIndex archive, WalContinuity.Gap g, String cost) {
        NavigableMap<Long, ArchiveIndex.Entry> seg = archive.segments(g.first().timeline());
        var before = seg.lowerEntry(g.first().segmentNumber());
        var after = seg.higherEntry(g.last().segmentNumber());
        return new Gap(g.first().toString(), g.last().toString(), g.count(), g.reason(),
                before == null ? null : before.getValue().stored(), after == null ? null : after.getValue().stored(), cost);
    }

    /** When the newest WAL along the followed lineage was stored (its partial, if the stream stored a newer one). */
    private static Instant endOfArchive(ArchiveIndex archive, WalContinuity.Result r, BackupManifest m) {
        Instant t = m.stopTime();
        if (r.newest() != null) {
            ArchiveIndex.Entry e = archive.segment(r.newest());
            t = e == null ? t : max(t, e.stored());
            ArchiveIndex.Entry partial = archive.partial(new WalSegmentName(r.timeline(), r.newest().segmentNumber() + 1,
                    archive.segmentSize()));
            t = partial == null ? t : max(t, partial.stored());
        }
        return t;
    }

    /** When the segment just before a gap was stored: recovery from the backup gets no further than its WAL. */
    private static Instant storedBefore(ArchiveIndex archive, WalContinuity.Result r, BackupManifest m, WalContinuity.Gap g) {
        long last = g.first().segmentNumber() - 1;
        for (WalContinuity.Stretch st : r.lineage()) {
            if (last >= st.from() && last < st.until()) {
                ArchiveIndex.Entry e = archive.segment(new WalSegmentName(st.timeline(), last, archive.segmentSize()));
                return e == null ? m.stopTime() : max(m.stopTime(), e.stored());
            }
        }
        return m.stopTime();
    }

    private static Lane lane(ArchiveIndex archive, TimelineId t, List<Gap> gaps) {
        List<Band> bands = new ArrayList<>();
        ArchiveIndex.Entry first = null;
        ArchiveIndex.Entry prev = null;
        long bytes = 0;
        long count = 0;
        for (ArchiveIndex.Entry e : archive.segments(t).values()) {
            if (prev != null && e.segment().segmentNumber() != prev.segment().segmentNumber() + 1) {
                bands.add(band(first, prev, count, bytes));
                first = null;
            }
            if (first == null) {
                first = e;
                bytes = 0;
                count = 0;
            }
            bytes += e.storedBytes();
            count++;
            prev = e;
        }
        if (first != null) {
            bands.add(band(first, prev, count, bytes));
        }
        var partials = archive.partials(t);
        ArchiveIndex.Entry partial = partials.isEmpty() ? null : partials.lastEntry().getValue();
        if (partial != null && prev != null && partial.segment().segmentNumber() <= prev.segment().segmentNumber()) {
            partial = null; // a partial of a segment since stored whole
        }
        return new Lane(t.value(), bands, gaps, partial == null ? null : partial.segment() + ".partial",
                partial == null ? null : partial.stored());
    }

    private static Band band(ArchiveIndex.Entry first, ArchiveIndex.Entry last, long count, long bytes) {
        return new Band(first.segment().toString(), last.segment().toString(), count, bytes, first.stored(), last.stored());
    }

    /** Overlapping windows (a newer backup inside an older one's window) as one. */
    private static List<Window> merge(List<Window> windows) {
        List<Window> sorted = new ArrayList<>(windows);
        sorted.sort(Comparator.comparing(Window::from));
        List<Window> out = new ArrayList<>();
        for (Window w : sorted) {
            Window last = out.isEmpty() ? null : out.get(out.size() - 1);
            if (last != null && !w.from().isAfter(last.to())) {
                out.set(out.size() - 1, w.to().isAfter(last.to())
                        ? new Window(last.from(), w.to(), last.fromBackup(), w.timeline(), w.endsAt()) : last);
            } else {
                out.add(w);
            }
        }
        return out;
    }

    private static Instant min(Instant a, Instant b) {
        return a == null ? b : b == null ? a : a.isBefore(b) ? a : b;
    }

    private static Instant max(Instant a, Instant b) {
        return a == null ? b : b == null ? a : a.isAfter(b) ? a : b;
    }
}
