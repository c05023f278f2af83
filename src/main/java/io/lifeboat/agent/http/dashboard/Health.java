package io.lifeboat.agent.http.dashboard;

import io.lifeboat.SecretMask;
import io.lifeboat.agent.ProblemBoard;
import io.lifeboat.agent.StreamStatus;
import io.lifeboat.engine.plan.RecoverabilityTimeline;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;

/**
 * A cluster's state at a glance, with the reasons behind it: failing when a restore to now is not
 * possible or not proven to work (no intact physical backup, a WAL gap after the newest one, the
 * last drill failed, the repository unreadable), warning when something needs attention before it
 * becomes that (the stream down or behind, a failed job, no drill for a week, old backups), ok
 * otherwise.
 */
public final class Health {
    /** Drills and physical backups older than this are a warning. */
    static final Duration STALE = Duration.ofDays(8);
    /** Open problems that mean a restore to now is impossible or unproven. */
    private static final Set<String> FAILING = Set.of("repository", "wal-gap", "drill", "lease");

    public enum State {
        OK, WARNING, FAILING;

        public String id() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** @param reasons the most important first; for ok, what was found fine */
    public record Verdict(State state, List<String> reasons) {
        public String id() {
            return state.id();
        }
    }

    private Health() {
    }

    /**
     * @param timeline         what the repository holds (null: it could not be read)
     * @param readError        why the repository could not be read, or null
     * @param problems         the agent's open problems of this cluster
     * @param stream           the stream's last status (null before it reported or without a stream)
     * @param streamConfigured whether the cluster has a stream
     */
    public static Verdict judge(RecoverabilityTimeline.Timeline timeline, String readError, List<ProblemBoard.Problem> problems,
                                StreamStatus stream, boolean streamConfigured, Instant now) {
        List<String> failing = new ArrayList<>();
        List<String> warning = new ArrayList<>();
        List<String> fine = new ArrayList<>();
        if (readError != null) {
            failing.add("the repository cannot be read: " + SecretMask.uri(readError));
        }
        for (ProblemBoard.Problem p : problems) {
            String text = p.key() + ": " + SecretMask.uri(p.message()) + " (since " + Format.time(p.since()) + ")";
            (FAILING.contains(p.key()) ? failing : warning).add(text);
        }
        if (timeline != null) {
            List<RecoverabilityTimeline.BackupMark> physical = timeline.backups().stream()
                    .filter(b -> b.type().equals("physical")).toList();
            RecoverabilityTimeline.BackupMark newest = physical.isEmpty() ? null : physical.get(physical.size() - 1);
            if (newest == null) {
                failing.add("no complete physical backup: no point-in-time recovery is possible");
            } else if (newest.damaged()) {
                failing.add("the newest physical backup, " + newest.id() + ", is DAMAGED: " + String.join("; ",
                        newest.problems()));
            } else {
                List<String> holes = newest.problems().stream().filter(p -> !p.startsWith("not archived yet")).toList();
                if (!holes.isEmpty() && problems.stream().noneMatch(p -> p.key().equals("wal-gap"))) {
                    failing.add("WAL gap after the newest physical backup: " + String.join("; ", holes));
                }
                if (newest.walPending()) {
                    warning.add("WAL of the newest physical backup, " + newest.id() + ", is not archived yet: "
                            + String.join("; ", newest.problems().stream().filter(p -> p.startsWith("not archived yet"))
                            .toList()));
                }
                if (Duration.between(newest.stop(), now).compareTo(STALE) > 0) {
                    warning.add("the newest physical backup, " + newest.id() + ", ended " + Format.age(newest.stop(), now)
                            + " ago (" + Format.time(newest.stop()) + ")");
                }
            }
            if (timeline.windows().isEmpty() && newest != null && !newest.walPending()) {
                failing.add("no moment can be restored to: every physical backup is damaged");
            } else if (!timeline.windows().isEmpty()) {
                fine.add("restorable from " + Format.time(timeline.oldestRestorable()) + " to "
                        + Format.time(timeline.newestRestorable())
                        + (timeline.windows().size() > 1 ? " with " + (timeline.windows().size() - 1) + " hole(s)" : ""));
            }
            RecoverabilityTimeline.DrillMark drill = timeline.drills().stream()
                    .max(Comparator.comparing(RecoverabilityTimeline.DrillMark::time)).orElse(null);
            if (drill == null) {
                warning.add("never proven by a restore drill");
            } else if (!drill.ok()) {
                if (problems.stream().noneMatch(p -> p.key().equals("drill"))) {
                    failing.add("the last restore drill (of " + drill.backup() + " at " + Format.time(drill.time()) + ") FAILED: "
                            + SecretMask.uri(String.join("; ", drill.problems())));
                }
            } else if (Duration.between(drill.time(), now).compareTo(STALE) > 0) {
                warning.add("the last restore drill is " + Format.age(drill.time(), now) + " old (" + Format.time(drill.time())
                        + ")");
            } else {
                fine.add("last drill ok at " + Format.time(drill.time()) + " (restore took " + Format.seconds(drill.seconds())
                        + ")");
            }
        }
        if (streamConfigured && (stream == null || !"streaming".equals(stream.state()))
                && problems.stream().noneMatch(p -> p.key().startsWith("stream"))) {
            warning.add("the WAL stream is " + (stream == null ? "not reporting yet" : stream.state()
                    + (stream.lastError() == null ? "" : ": " + SecretMask.uri(stream.lastError()))));
        }
        if (!failing.isEmpty()) {
            List<String> all = new ArrayList<>(failing);
            all.addAll(warning);
            return new Verdict(State.FAILING, all);
        }
        if (!warning.isEmpty()) {
            return new Verdict(State.WARNING, warning);
        }
        return new Verdict(State.OK, fine);
    }
}
