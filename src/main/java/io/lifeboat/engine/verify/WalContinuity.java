package io.lifeboat.engine.verify;

import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.BackupId;
import io.lifeboat.catalog.BackupManifest;
import io.lifeboat.postgres.Lsn;
import io.lifeboat.postgres.RecoveryTimeline;
import io.lifeboat.postgres.TimelineHistory;
import io.lifeboat.postgres.TimelineId;
import io.lifeboat.postgres.WalFileName;
import io.lifeboat.postgres.WalSegmentName;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Does the WAL archive hold every segment a physical backup needs, from its start segment up to
 * the newest archived segment, along the timeline a recovery would follow? Pure logic over a list
 * of archived file names and the text of the timeline history files, so it is unit-tested on
 * generated listings.
 *
 * <p>The timeline followed is the one a restore follows ({@link RecoveryTimeline}): the newest whose
 * history holds the backup's WAL. Along its lineage, a segment is read from the newest timeline that had begun by
 * then, as PostgreSQL does: when timeline N+1 branches off at LSN X, segments before the one
 * holding X are read from timeline N, that segment and later ones from N+1. Partial segments
 * (.partial) and backup history files (.backup) are never read by recovery and are ignored.
 *
 * <p>A missing segment between the backup's start and stop segments makes the backup unrestorable
 * (unless its WAL is stored with it); a later one only ends point-in-time recovery there.
 */
public final class WalContinuity {
    private WalContinuity() {
    }

    /** What a physical backup needs from the archive. */
    public record BackupWal(BackupId id, WalSegmentName start, WalSegmentName stop, Lsn stopLsn, boolean walIncluded) {
        /** @return null when the manifest does not say where the backup's WAL starts and stops */
        public static BackupWal of(BackupManifest m) {
            BackupManifest.PhysicalDetails d = m.physical();
            if (d == null || d.startLsn() == null || d.stopLsn() == null) {
                return null;
            }
            long size = d.segmentSize();
            Lsn startLsn = Lsn.parse(d.startLsn());
            Lsn stopLsn = Lsn.parse(d.stopLsn());
            TimelineId tli = TimelineId.of(Math.max(1, d.timeline()));
            TimelineId stopTli = TimelineId.of(Math.max(1, d.stopTimeline() > 0 ? d.stopTimeline() : d.timeline()));
            WalSegmentName start = d.startWalSegment() != null ? WalSegmentName.parse(d.startWalSegment(), size)
                    : WalSegmentName.containing(tli, startLsn, size);
            WalSegmentName stop = d.stopWalSegment() != null ? WalSegmentName.parse(d.stopWalSegment(), size)
                    : WalSegmentName.endingAt(stopTli, stopLsn, size);
            return new BackupWal(m.id(), start, stop, stopLsn, d.walIncluded());
        }

        long segmentSize() {
            return start.segmentSize();
        }
    }

    /**
     * Consecutive segments recovery cannot read, all on one timeline and for one reason.
     *
     * @param reason "missing", or what is wrong with the archived copies (e.g. "corrupt")
     */
    public record Gap(WalSegmentName first, WalSegmentName last, String reason) {
        public Gap(WalSegmentName first, WalSegmentName last) {
            this(first, last, MISSING);
        }

        public long count() {
            return last.segmentNumber() - first.segmentNumber() + 1;
        }

        public String names() {
            return first.equals(last) ? first.toString() : first + ".." + last;
        }

        @Override
        public String toString() {
            return names() + " (" + count() + (count() == 1 ? " segment)" : " segments)");
        }
    }

    /** One stretch of the followed lineage: segments [from, until) are read from {@code timeline}. */
    public record Stretch(TimelineId timeline, long from, long until) {
    }

    /**
     * @param gaps          missing segments, oldest first
     * @param damaged       a gap lies within the backup's own WAL (start..stop) and the backup does not hold it
     * @param newest        the newest archived segment along the followed lineage (null: none at all)
     * @param timeline      the timeline recovery follows to the end of the archive
     * @param recoverableTo how far recovery from this backup gets: the start of the first missing
     *                      segment, or the end of the newest archived one; null when the backup is damaged
     * @param notes         things worth knowing that are not gaps (timelines ignored and why)
     */
    public record Result(BackupId backup, WalSegmentName start, WalSegmentName stop, boolean walIncluded, List<Gap> gaps,
                         boolean damaged, WalSegmentName newest, TimelineId timeline, List<Stretch> lineage,
                         Lsn recoverableTo, List<String> notes) {
        public boolean ok() {
            return gaps.isEmpty();
        }

        /** One line per gap, naming it and what it costs. */
        public List<String> problems() {
            List<String> out = new ArrayList<>();
            for (Gap g : gaps) {
                boolean own = !walIncluded && g.first().segmentNumber() <= stop.segmentNumber();
                out.add(g.reason() + " " + g + " after backup " + backup + (own
                        ? ": part of the backup's own WAL (" + start + ".." + stop + "), the backup is DAMAGED (not restorable)"
                        : ": point-in-time recovery from " + backup + " ends at " + g.first().startLsn()));
            }
            return out;
        }

        /** What can still be done with the backup. */
        public String hint() {
            if (gaps.isEmpty()) {
                return "backup " + backup + " recovers up to " + recoverableTo + " (end of the archive, timeline " + timeline + ")";
            }
            if (damaged) {
                return "backup " + backup + " cannot be restored: WAL between its start and stop segments is missing from "
                        + "the archive; restore an older backup or another repository, and take a new physical backup";
            }
            return "backup " + backup + " can be recovered up to " + recoverableTo + " (the start of the first "
                    + gaps.get(0).reason() + " segment), not beyond; take a new physical backup to cover later changes, "
                    + (gaps.get(0).reason().equals(MISSING) ? "and check archive_command" : "and find out what damaged the archive");
        }

        /** For --json. */
        public Map<String, Object> toMap() {
            Map<String, Object> j = new java.util.LinkedHashMap<>();
            j.put("ok", ok());
            j.put("damaged", damaged);
            j.put("firstSegment", walIncluded ? null : start.toString());
            j.put("newestSegment", newest == null ? null : newest.toString());
            j.put("timeline", timeline.value());
            j.put("recoverableTo", recoverableTo == null ? null : recoverableTo.toString());
            j.put("gaps", gaps.stream().map(g -> Map.of("first", g.first().toString(), "last", g.last().toString(),
                    "segments", g.count(), "reason", g.reason())).toList());
            j.put("problems", problems());
            j.put("notes", notes);
            return j;
        }
    }

    /**
     * @param archived  file names in the archive (segments, .partial, .backup, .history), without codec suffixes
     * @param histories the text of the timeline history files, by the timeline they describe
     */
    public static Result check(BackupWal b, Collection<String> archived, Map<TimelineId, String> histories) {
        return check(b, archived, histories, Map.of());
    }

    /**
     * As {@link #check(BackupWal, Collection, Map)}, with archived segments that recovery cannot use
     * although they are there (their copies failed verification): they count as gaps, named by why.
     *
     * @param unusable segment file name → what is wrong with it ("corrupt", "unreadable", …)
     */
    public static Result check(BackupWal b, Collection<String> archived, Map<TimelineId, String> histories,
                               Map<String, String> unusable) {
        long size = b.segmentSize();
        List<String> notes = new ArrayList<>();
        Map<TimelineId, NavigableSet<Long>> segments = new TreeMap<>();
        Map<TimelineId, Map<Long, String>> bad = new TreeMap<>();
        for (String name : archived) {
            WalFileName f;
            try {
                f = WalFileName.parse(name);
            } catch (LifeboatException e) {
                continue; // not a WAL file: nothing recovery would ask for
            }
            if (f.kind() != WalFileName.Kind.SEGMENT) {
                continue;
            }
            try {
                WalSegmentName s = WalSegmentName.parse(name, size);
                segments.computeIfAbsent(s.timeline(), t -> new TreeSet<>()).add(s.segmentNumber());
                if (unusable.containsKey(name)) {
                    bad.computeIfAbsent(s.timeline(), t -> new HashMap<>()).put(s.segmentNumber(), unusable.get(name));
                }
            } catch (LifeboatException e) {
                notes.add(name + " is not a segment name for " + size / (1024 * 1024) + " MiB segments: ignored");
            }
        }
        TimelineId base = b.start().timeline();
        Map<TimelineId, TimelineHistory> parsed = new HashMap<>();
        histories.forEach((t, text) -> parsed.put(t, TimelineHistory.parse(t, text)));

        // The timeline recovery from this backup follows: the newest that holds the backup's WAL (as a restore chooses it).
        RecoveryTimeline choice = RecoveryTimeline.choose(b.id().toString(), base, b.start().startLsn(), b.stop().timeline(),
                b.stopLsn(), parsed);
        TimelineId target = choice.timeline();
        notes.addAll(choice.notes());
        for (TimelineId t : segments.keySet()) {
            if (t.compareTo(base) > 0 && !parsed.containsKey(t)) {
                notes.add("timeline " + t + " has archived segments but no history file (" + t.hex() + ".history): "
                        + "recovery cannot follow it; ignored");
            }
        }
        TimelineId newestTimeline = parsed.keySet().stream().max(TimelineId::compareTo).orElse(base);
        if (newestTimeline.compareTo(target) > 0) {
            notes.add("the newest timeline in the archive, " + newestTimeline + ", is not reachable from backup " + b.id()
                    + ": `lifeboat restore` follows timeline " + target + " (by hand: recovery_target_timeline " + target
                    + ", as --target-timeline " + target + " sets it; 'latest' would fail)");
        }

        // The lineage from the backup's start to the target: which timeline each segment is read from.
        List<Stretch> lineage = new ArrayList<>();
        TimelineHistory th = parsed.getOrDefault(target, TimelineHistory.root(target));
        long from = b.start().segmentNumber();
        for (TimelineHistory.Stretch st : th.stretches(size)) {
            if (st.until() > from) {
                lineage.add(new Stretch(st.timeline(), Math.max(from, st.from()), st.until()));
            }
        }
        TimelineId current = target;

        Long newest = null;
        TimelineId newestOn = null;
        for (Stretch st : lineage) {
            NavigableSet<Long> have = segments.getOrDefault(st.timeline(), new TreeSet<>());
            Long top = have.lower(st.until());
            if (top != null && top >= st.from() && (newest == null || top > newest)) {
                newest = top;
                newestOn = st.timeline();
            }
        }
        long end = newest == null ? b.stop().segmentNumber() : Math.max(newest, b.stop().segmentNumber());
        long checkFrom = b.walIncluded() ? b.stop().segmentNumber() + 1 : b.start().segmentNumber();

        List<Gap> gaps = new ArrayList<>();
        for (Stretch st : lineage) {
            NavigableSet<Long> have = segments.getOrDefault(st.timeline(), new TreeSet<>());
            Map<Long, String> damaged = bad.getOrDefault(st.timeline(), Map.of());
            long lo = Math.max(checkFrom, st.from());
            long hi = Math.min(end + 1, st.until());
            Long gapStart = null;
            String gapReason = null;
            long ownEnd = b.stop().segmentNumber();
            for (long s = lo; s < hi; s++) {
                String reason = !have.contains(s) ? MISSING : damaged.get(s);
                if (reason != null && gapStart != null && (s == ownEnd + 1 || !reason.equals(gapReason))) {
                    // the backup's own WAL and what follows it are reported apart: one damages, the other limits;
                    // and a missing stretch apart from a damaged one
                    gaps.add(gap(st.timeline(), gapStart, s - 1, size, gapReason));
                    gapStart = s;
                    gapReason = reason;
                } else if (reason != null && gapStart == null) {
                    gapStart = s;
                    gapReason = reason;
                } else if (reason == null && gapStart != null) {
                    gaps.add(gap(st.timeline(), gapStart, s - 1, size, gapReason));
                    gapStart = null;
                }
            }
            if (gapStart != null) {
                gaps.add(gap(st.timeline(), gapStart, hi - 1, size, gapReason));
            }
        }
        // A partial copy of the segment after the newest one (what the agent's stream stored last) is where
        // recovery ends: not a gap, and restore_command serves it.
        if (gaps.isEmpty() && archived.contains(new WalSegmentName(target, end + 1, size) + ".partial")) {
            notes.add("the archive ends in the partial segment " + new WalSegmentName(target, end + 1, size)
                    + " (streamed by the agent): recovery replays it too");
        }
        boolean damaged = !b.walIncluded() && gaps.stream().anyMatch(g -> g.first().segmentNumber() <= b.stop().segmentNumber());
        Lsn recoverable = damaged ? null : gaps.isEmpty() ? new Lsn((end + 1) * size) : gaps.get(0).first().startLsn();
        WalSegmentName newestName = newest == null ? null : new WalSegmentName(newestOn, newest, size);
        return new Result(b.id(), b.start(), b.stop(), b.walIncluded(), List.copyOf(gaps), damaged, newestName, current,
                List.copyOf(lineage), recoverable, List.copyOf(notes));
    }

    private static Gap gap(TimelineId t, long first, long last, long size, String reason) {
        return new Gap(new WalSegmentName(t, first, size), new WalSegmentName(t, last, size), reason);
    }

    static final String MISSING = "missing";
}
