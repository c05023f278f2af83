package io.lifeboat.engine.physical;

import io.lifeboat.LifeboatException;
import io.lifeboat.engine.archive.WalArchive;
import io.lifeboat.postgres.Lsn;
import io.lifeboat.postgres.TimelineHistory;
import io.lifeboat.postgres.TimelineId;
import io.lifeboat.postgres.WalSegmentName;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The last line of defence against a recovery that ended early: a server promoted at the end of
 * archive recovery wrote the history file of its new timeline, whose last line says where the
 * timeline it followed ended (where replay stopped). If the archive holds WAL of that lineage after
 * that point, recovery stopped before the end of the archive without a target asking for it: a
 * restore_command answered "not in the archive" for a segment that is there, or the archive has a
 * gap recovery could not cross. Either way the restore must not report success.
 */
public final class RecoveryEndCheck {
    private RecoveryEndCheck() {
    }

    /**
     * Recovery replayed up to {@code end} on {@code timeline}; the archive holds more of that lineage.
     *
     * @param lastReplayed   the segment that holds the end of replay
     * @param archivedAfter  archived segments after it along the lineage
     * @param newestArchived the newest of them
     * @param nextArchived   whether the very next segment is archived (then recovery passed over a
     *                       segment that is there); if not, the archive has a gap recovery could not cross
     */
    public record Shortfall(TimelineId timeline, Lsn end, WalSegmentName lastReplayed, long archivedAfter,
                            WalSegmentName newestArchived, boolean nextArchived) {
        public String describe() {
            WalSegmentName next = new WalSegmentName(lastReplayed.timeline(), lastReplayed.segmentNumber() + 1,
                    lastReplayed.segmentSize());
            return "recovery ended at " + end + " (in " + lastReplayed + ", following timeline " + timeline + "), but the "
                    + "archive holds " + archivedAfter + " later segment" + (archivedAfter == 1 ? "" : "s") + " of that "
                    + "lineage, up to " + newestArchived + (nextArchived
                    ? ": " + next + " is archived and was not replayed (restore_command answered 'not in the archive' "
                    + "for it)"
                    : ": " + next + " is missing from the archive, so recovery could not go on");
        }
    }

    /**
     * @param followed the lineage recovery followed, its tip the timeline it recovered along
     * @param end      where that timeline ended: the switch point to the new timeline
     * @param archived names of archived files (segments count, other files are ignored)
     */
    public static Optional<Shortfall> check(TimelineHistory followed, Lsn end, Collection<String> archived, long segmentSize) {
        long last = new Lsn(Math.max(0, end.value() - 1)).segmentNumber(segmentSize);
        Set<WalSegmentName> have = new HashSet<>();
        for (String n : archived) {
            if (WalSegmentName.looksLikeSegment(n)) {
                try {
                    have.add(WalSegmentName.parse(n, segmentSize));
                } catch (LifeboatException e) {
                    // not a segment name for this size: recovery would not ask for it
                }
            }
        }
        long count = 0;
        WalSegmentName newest = null;
        for (WalSegmentName s : have) {
            if (s.segmentNumber() > last && s.timeline().equals(followed.timelineOfSegment(s.segmentNumber(), segmentSize))) {
                count++;
                newest = newest == null || s.segmentNumber() > newest.segmentNumber() ? s : newest;
            }
        }
        if (newest == null) {
            return Optional.empty();
        }
        TimelineId lastOn = followed.timelineOfSegment(last, segmentSize);
        TimelineId nextOn = followed.timelineOfSegment(last + 1, segmentSize);
        boolean nextArchived = have.contains(new WalSegmentName(nextOn, last + 1, segmentSize));
        return Optional.of(new Shortfall(followed.timeline(), end, new WalSegmentName(lastOn, last, segmentSize), count,
                newest, nextArchived));
    }

    /**
     * Checks a promoted server's recovery against the archive.
     *
     * @param newTimeline the history of the timeline the server was promoted to (ServerControl reads
     *                    it from pg_wal); null or without ancestors when recovery created none
     */
    public static Optional<Shortfall> check(TimelineHistory newTimeline, WalArchive archive, long segmentSize)
            throws IOException {
        if (newTimeline == null || newTimeline.ancestors().isEmpty()) {
            return Optional.empty();
        }
        List<TimelineHistory.Switch> all = newTimeline.ancestors();
        TimelineHistory.Switch ended = all.get(all.size() - 1);
        TimelineHistory followed = new TimelineHistory(ended.parent(), all.subList(0, all.size() - 1));
        long last = new Lsn(Math.max(0, ended.at().value() - 1)).segmentNumber(segmentSize);
        Set<TimelineId> timelines = new LinkedHashSet<>();
        for (TimelineHistory.Stretch st : followed.stretches(segmentSize)) {
            if (st.until() > last + 1) {
                timelines.add(st.timeline());
            }
        }
        List<String> names = new ArrayList<>();
        for (TimelineId t : timelines) {
            names.addAll(archive.names(t));
        }
        return check(followed, ended.at(), names, segmentSize);
    }
}
