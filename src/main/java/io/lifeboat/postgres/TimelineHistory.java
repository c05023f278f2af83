package io.lifeboat.postgres;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A timeline history file (00000003.history): one line per ancestor timeline, oldest first, each
 * with the LSN where the lineage left it ("1	0/3000000	no recovery target specified"). The
 * timeline itself begins at the last ancestor's switch point.
 *
 * <p>Switch points need not grow: a recovery that followed timeline 2 but stopped at a target
 * before 2 began (still on timeline 1's WAL) writes "1 0/5000000" then "2 0/4000000". PostgreSQL
 * accepts that, and so does this class; which timeline holds a location is then decided as
 * PostgreSQL decides it ({@link #timelineAt}, {@link #timelineOfSegment}).
 *
 * @param timeline  the timeline the file describes
 * @param ancestors its ancestors, oldest first, each with the LSN where the next timeline branched off
 */
public record TimelineHistory(TimelineId timeline, List<Switch> ancestors) {
    /** What PostgreSQL reads of a line: a timeline number, white space, an LSN; the rest is a comment. */
    private static final Pattern LINE = Pattern.compile("(\\d+)\\s*([0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8})(?:[^0-9A-Fa-f].*)?",
            Pattern.DOTALL);

    /** The lineage left {@code parent} at {@code at}: WAL from there on belongs to the next timeline. */
    public record Switch(TimelineId parent, Lsn at) {
    }

    /** The history of a timeline that has none (timeline 1, or one whose history file is lost). */
    public static TimelineHistory root(TimelineId tli) {
        return new TimelineHistory(tli, List.of());
    }

    /**
     * Parses a history file as PostgreSQL's readTimeLineHistory does: blank lines and lines starting
     * with # are skipped; each other line needs a timeline number and a switch point; timeline numbers
     * must increase and stay below the file's own. Nothing more is required.
     */
    public static TimelineHistory parse(TimelineId tli, String text) {
        List<Switch> out = new ArrayList<>();
        for (String raw : text.split("\n")) {
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            Matcher m = LINE.matcher(line);
            try {
                if (!m.matches()) {
                    throw new IllegalArgumentException(line);
                }
                TimelineId parent = TimelineId.of(Long.parseLong(m.group(1)));
                if (parent.compareTo(tli) >= 0 || (!out.isEmpty() && parent.compareTo(out.get(out.size() - 1).parent()) <= 0)) {
                    throw new IllegalArgumentException(line);
                }
                out.add(new Switch(parent, Lsn.parse(m.group(2))));
            } catch (LifeboatException | IllegalArgumentException e) {
                throw new LifeboatException(ErrorKind.CORRUPT, "timeline history file " + tli.hex() + ".history has a bad "
                        + "line: '" + line + "'", "the history file is damaged; PostgreSQL cannot follow this timeline either");
            }
        }
        return new TimelineHistory(tli, List.copyOf(out));
    }

    /** Whether {@code tli} is this timeline or one of its ancestors. */
    public boolean contains(TimelineId tli) {
        return timeline.equals(tli) || ancestors.stream().anyMatch(s -> s.parent().equals(tli));
    }

    /** Where the lineage of this timeline left {@code ancestor}; null for the timeline itself or a stranger. */
    public Lsn switchPoint(TimelineId ancestor) {
        return ancestors.stream().filter(s -> s.parent().equals(ancestor)).map(Switch::at).findFirst().orElse(null);
    }

    /** Where entry {@code i} begins: 0 for the oldest; the tip ({@code i == ancestors.size()}) at the last switch. */
    private Lsn begin(int i) {
        return i == 0 ? Lsn.ZERO : ancestors.get(i - 1).at();
    }

    private TimelineId timelineOf(int i) {
        return i == ancestors.size() ? timeline : ancestors.get(i).parent();
    }

    /**
     * The timeline whose WAL a recovery following this one replays at {@code lsn}: the newest entry
     * that begins at or before it and (for an ancestor) ends after it, as PostgreSQL's
     * tliOfPointInHistory decides. A backup can be recovered along this timeline only if its start
     * and end lie on the timelines it was taken on.
     */
    public TimelineId timelineAt(Lsn lsn) {
        if (begin(ancestors.size()).compareTo(lsn) <= 0) {
            return timeline;
        }
        for (int i = ancestors.size() - 1; i >= 0; i--) {
            if (begin(i).compareTo(lsn) <= 0 && lsn.isBefore(ancestors.get(i).at())) {
                return ancestors.get(i).parent();
            }
        }
        return null;
    }

    /**
     * Which timeline's copy of segment {@code segment} recovery reads when following this one: the
     * newest whose beginning lies in or before that segment (PostgreSQL tries timelines newest first
     * and skips those that begin after the segment).
     */
    public TimelineId timelineOfSegment(long segment, long segmentSize) {
        for (int i = ancestors.size(); i >= 0; i--) {
            if (begin(i).segmentNumber(segmentSize) <= segment) {
                return timelineOf(i);
            }
        }
        return timelineOf(0); // not reached: the oldest entry begins at 0
    }

    /** Segments [from, until) are read from {@code timeline}; {@code until} is Long.MAX_VALUE for the tip. */
    public record Stretch(TimelineId timeline, long from, long until) {
    }

    /** The whole lineage as stretches of segments, oldest first, empty ones left out (see {@link #timelineOfSegment}). */
    public List<Stretch> stretches(long segmentSize) {
        List<Stretch> out = new ArrayList<>();
        long until = Long.MAX_VALUE;
        for (int i = ancestors.size(); i >= 0; i--) {
            long from = begin(i).segmentNumber(segmentSize);
            if (from < until) {
                out.add(0, new Stretch(timelineOf(i), from, until));
                until = from;
            }
        }
        return out;
    }

    /**
     * Where this lineage stops reading {@code ancestor}'s WAL: the lowest beginning of the entries
     * after it (its own switch point, unless a later switch point is lower); null when {@code
     * ancestor} is this timeline or not in its history.
     */
    public Lsn leaves(TimelineId ancestor) {
        Lsn low = null;
        boolean after = false;
        for (int i = 0; i <= ancestors.size(); i++) {
            if (after && (low == null || begin(i).isBefore(low))) {
                low = begin(i);
            }
            after |= i < ancestors.size() && ancestors.get(i).parent().equals(ancestor);
        }
        return low;
    }
}
