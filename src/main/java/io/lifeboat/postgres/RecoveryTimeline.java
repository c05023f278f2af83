package io.lifeboat.postgres;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The timeline a recovery from a backup follows: the newest one whose history holds the backup's
 * WAL, from its start (on the timeline it started on) to its end (on the timeline it ended on),
 * else the backup's own. PostgreSQL's 'latest' would take the newest timeline of the archive even
 * when it branched off before the backup, and then refuse to start ("requested timeline N is not a
 * child of this server's history"): one promoted test restore would break every later default
 * restore. Restores write the chosen number; verify checks continuity along the same timeline.
 *
 * @param timeline the timeline to follow
 * @param notes    the newer timelines passed over, and why
 */
public record RecoveryTimeline(TimelineId timeline, List<String> notes) {

    /**
     * @param startTli  the timeline the backup started on
     * @param start     its start LSN
     * @param stopTli   the timeline it ended on (the same, unless the server was promoted during the backup)
     * @param stop      its end LSN: recovery must replay up to here on {@code stopTli} to be consistent
     * @param histories the archive's timeline history files, by the timeline they describe
     */
    public static RecoveryTimeline choose(String backup, TimelineId startTli, Lsn start, TimelineId stopTli, Lsn stop,
                                          Map<TimelineId, TimelineHistory> histories) {
        List<String> notes = new ArrayList<>();
        TimelineId chosen = stopTli;
        Lsn lastOwn = stop.value() > 0 ? new Lsn(stop.value() - 1) : stop; // the end is exclusive
        for (TimelineHistory h : new TreeMap<>(histories).values()) {
            if (h.timeline().compareTo(stopTli) <= 0) {
                continue;
            }
            if (!h.contains(startTli) || !h.contains(stopTli)) {
                notes.add("timeline " + h.timeline() + " does not descend from timeline " + stopTli + ": ignored");
            } else if (!startTli.equals(h.timelineAt(start)) || !stopTli.equals(h.timelineAt(lastOwn))) {
                notes.add("timeline " + h.timeline() + " branched off timeline " + stopTli + " at " + h.leaves(stopTli)
                        + ", before backup " + backup + " ended (" + stop + "): ignored");
            } else {
                chosen = h.timeline();
            }
        }
        return new RecoveryTimeline(chosen, List.copyOf(notes));
    }
}
