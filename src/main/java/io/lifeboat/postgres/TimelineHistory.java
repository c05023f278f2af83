package io.lifeboat.postgres;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;

import java.util.ArrayList;
import java.util.List;

/**
 * A timeline history file (00000003.history): one line per ancestor timeline, oldest first, each
 * with the LSN where the lineage left it ("1	0/3000000	no recovery target specified"). The
 * timeline itself begins at the last ancestor's switch point.
 *
 * @param timeline  the timeline the file describes
 * @param ancestors its ancestors, oldest first, each with the LSN where the next timeline branched off
 */
public record TimelineHistory(TimelineId timeline, List<Switch> ancestors) {

    /** The lineage left {@code parent} at {@code at}: WAL from there on belongs to the next timeline. */
    public record Switch(TimelineId parent, Lsn at) {
    }

    /** The history of a timeline that has none (timeline 1, or one whose history file is lost). */
    public static TimelineHistory root(TimelineId tli) {
        return new TimelineHistory(tli, List.of());
    }

    public static TimelineHistory parse(TimelineId tli, String text) {
        List<Switch> out = new ArrayList<>();
        for (String raw : text.split("\n")) {
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] f = line.split("\\s+", 3);
            try {
                if (f.length < 2) {
                    throw new IllegalArgumentException(line);
                }
                TimelineId parent = TimelineId.of(Long.parseLong(f[0]));
                Lsn at = Lsn.parse(f[1]);
                if (parent.compareTo(tli) >= 0 || (!out.isEmpty() && (parent.compareTo(out.get(out.size() - 1).parent()) <= 0
                        || at.isBefore(out.get(out.size() - 1).at())))) {
                    throw new IllegalArgumentException(line);
                }
                out.add(new Switch(parent, at));
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
}
