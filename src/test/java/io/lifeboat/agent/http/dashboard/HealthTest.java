package io.lifeboat.agent.http.dashboard;

import io.lifeboat.agent.ProblemBoard;
import io.lifeboat.agent.StreamStatus;
import io.lifeboat.engine.plan.RecoverabilityTimeline;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class HealthTest {
    static final Instant NOW = Instant.parse("2026-11-24T12:00:00Z");

    static RecoverabilityTimeline.BackupMark backup(String type, Instant stop, boolean damaged, boolean pending,
                                                    List<String> problems) {
        return new RecoverabilityTimeline.BackupMark("20261124T100000Z-P", type, stop.minusSeconds(60), stop, 60, 1L,
                "0/2000028", "0/3000100", 100, 200, "zstd", "none", null, 1, false, damaged, pending, "0/9000000", stop,
                problems);
    }

    static RecoverabilityTimeline.Timeline timeline(List<RecoverabilityTimeline.BackupMark> backups,
                                                    List<RecoverabilityTimeline.DrillMark> drills, boolean window) {
        List<RecoverabilityTimeline.Window> w = window ? List.of(new RecoverabilityTimeline.Window(NOW.minusSeconds(7200),
                NOW.minusSeconds(5), "b", 1, "the end of the archive")) : List.of();
        return new RecoverabilityTimeline.Timeline(NOW.minusSeconds(9000), NOW, w, List.of(), backups, drills, List.of());
    }

    static RecoverabilityTimeline.DrillMark drill(Instant at, boolean ok) {
        return new RecoverabilityTimeline.DrillMark("20261124T100000Z-P", at, ok, 30, null, "0/9000000",
                ok ? List.of() : List.of("amcheck: index x is corrupt"));
    }

    static StreamStatus stream(String state) {
        return new StreamStatus(state, "slot", 1, "0/9000000", "0/9000000", "0/9000000", 0, 0, 0, 1, 1, 1, 0, NOW, null, false);
    }

    @Test
    void provenAndStreamingIsOk() {
        var v = Health.judge(timeline(List.of(backup("physical", NOW.minusSeconds(3600), false, false, List.of())),
                List.of(drill(NOW.minusSeconds(600), true)), true), null, List.of(), stream("streaming"), true, NOW);
        assertThat(v.state()).isEqualTo(Health.State.OK);
        assertThat(v.reasons()).anySatisfy(r -> assertThat(r).startsWith("restorable from 2026-11-24 10:00:00 UTC"))
                .anySatisfy(r -> assertThat(r).startsWith("last drill ok"));
    }

    @Test
    void neverDrilledOrAStreamDownIsAWarningWithTheReason() {
        var tl = timeline(List.of(backup("physical", NOW.minusSeconds(3600), false, false, List.of())), List.of(), true);
        var v = Health.judge(tl, null, List.of(), stream("retrying"), true, NOW);
        assertThat(v.state()).isEqualTo(Health.State.WARNING);
        assertThat(v.reasons()).containsExactly("never proven by a restore drill", "the WAL stream is retrying");
        var old = Health.judge(timeline(List.of(backup("physical", NOW.minus(Duration.ofDays(9)), false, false, List.of())),
                List.of(drill(NOW.minus(Duration.ofDays(9)), true)), true), null, List.of(), null, false, NOW);
        assertThat(old.state()).isEqualTo(Health.State.WARNING);
        assertThat(old.reasons()).anySatisfy(r -> assertThat(r).contains("ended 9 d 0 h ago"))
                .anySatisfy(r -> assertThat(r).contains("last restore drill is 9 d 0 h old"));
        var pending = Health.judge(timeline(List.of(backup("physical", NOW.minusSeconds(5), false, true,
                List.of("not archived yet: 000000010000000000000003 (1 segment) (the backup is restorable once it arrives)"))),
                List.of(drill(NOW.minusSeconds(600), true)), false), null, List.of(), stream("streaming"), true, NOW);
        assertThat(pending.state()).isEqualTo(Health.State.WARNING);
        assertThat(pending.reasons()).singleElement().asString().contains("is not archived yet");
    }

    @Test
    void noRestoreToNowOrAFailedDrillIsFailing() {
        var none = Health.judge(timeline(List.of(), List.of(), false), null, List.of(), null, false, NOW);
        assertThat(none.state()).isEqualTo(Health.State.FAILING);
        assertThat(none.reasons()).first().asString().contains("no complete physical backup");
        var gap = Health.judge(timeline(List.of(backup("physical", NOW.minusSeconds(3600), false, false,
                List.of("missing 000000010000000000000005 (1 segment) after backup b: point-in-time recovery from b ends at "
                        + "0/5000000"))), List.of(drill(NOW.minusSeconds(60), true)), true), null, List.of(),
                stream("streaming"), true, NOW);
        assertThat(gap.state()).isEqualTo(Health.State.FAILING);
        assertThat(gap.reasons()).first().asString().startsWith("WAL gap after the newest physical backup: missing");
        var damaged = Health.judge(timeline(List.of(backup("physical", NOW.minusSeconds(3600), true, false,
                List.of("missing x"))), List.of(), false), null, List.of(), null, false, NOW);
        assertThat(damaged.reasons()).first().asString().contains("is DAMAGED");
        var drill = Health.judge(timeline(List.of(backup("physical", NOW.minusSeconds(3600), false, false, List.of())),
                List.of(drill(NOW.minusSeconds(7200), true), drill(NOW.minusSeconds(60), false)), true), null, List.of(),
                null, false, NOW);
        assertThat(drill.state()).isEqualTo(Health.State.FAILING);
        assertThat(drill.reasons()).first().asString().contains("FAILED: amcheck: index x is corrupt");
        var unreadable = Health.judge(null, "connection refused to http://k:s3cr3t@s3.internal", List.of(), null, false,
                NOW);
        assertThat(unreadable.state()).isEqualTo(Health.State.FAILING);
        assertThat(unreadable.reasons()).first().asString().contains("cannot be read").doesNotContain("s3cr3t");
        var problem = Health.judge(timeline(List.of(backup("physical", NOW.minusSeconds(3600), false, false, List.of())),
                List.of(drill(NOW.minusSeconds(60), true)), true), null, List.of(new ProblemBoard.Problem("c", "repository",
                "the repository does not answer", NOW)), stream("streaming"), true, NOW);
        assertThat(problem.state()).isEqualTo(Health.State.FAILING);
        var lag = Health.judge(timeline(List.of(backup("physical", NOW.minusSeconds(3600), false, false, List.of())),
                List.of(drill(NOW.minusSeconds(60), true)), true), null, List.of(new ProblemBoard.Problem("c", "stream-lag",
                "the stream is 5 min behind", NOW)), stream("streaming"), true, NOW);
        assertThat(lag.state()).isEqualTo(Health.State.WARNING);
        assertThat(lag.reasons()).singleElement().asString().startsWith("stream-lag: the stream is 5 min behind");
    }
}
