package io.lifeboat.postgres;

import io.lifeboat.LifeboatException;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TimelineHistoryTest {
    static final long MB16 = WalSegmentName.DEFAULT_SEGMENT_SIZE;
    static final TimelineId T1 = TimelineId.of(1);
    static final TimelineId T2 = TimelineId.of(2);
    static final TimelineId T3 = TimelineId.of(3);

    /**
     * What PostgreSQL 15 wrote after a restore to the end of timeline 1 (timeline 2 from 0/9000000)
     * and then a point-in-time recovery that followed timeline 2 ('latest') but stopped at a target
     * at 0/5000000, still in timeline 1's WAL: the second switch point is lower than the first.
     */
    static final String DOWNWARDS = "1\t0/9000000\tno recovery target specified\n\n"
            + "2\t0/5000000\tbefore 2026-11-24 22:05:12.000000+00\n";

    @Test
    void acceptsWhatPostgresqlAccepts() {
        TimelineHistory h = TimelineHistory.parse(T3, DOWNWARDS);
        assertThat(h.ancestors()).containsExactly(new TimelineHistory.Switch(T1, Lsn.parse("0/9000000")),
                new TimelineHistory.Switch(T2, Lsn.parse("0/5000000")));
        // spaces instead of tabs, no reason, comments, blank lines, CRLF, lower-case hex
        TimelineHistory loose = TimelineHistory.parse(TimelineId.of(5), "# made by hand\r\n  \r\n1 0/9000000\r\n"
                + "   # indented comment\n3\t0/a0000d8 reason\twith\ttabs\n4 1/0\n");
        assertThat(loose.ancestors()).extracting(TimelineHistory.Switch::parent)
                .containsExactly(T1, T3, TimelineId.of(4));
        assertThat(loose.switchPoint(T3)).isEqualTo(Lsn.parse("0/A0000D8"));
        assertThat(TimelineHistory.parse(T2, "").ancestors()).isEmpty();
    }

    @Test
    void refusesWhatPostgresqlRefuses() {
        for (String bad : new String[] {
                "2\t0/5000000\n1\t0/6000000\n", // timelines must increase
                "1\t0/5000000\n1\t0/6000000\n",
                "3\t0/5000000\n", // not below the file's own timeline
                "1\n", // no switch point
                "1\tnot-an-lsn\n",
                "x\t0/5000000\n",
        }) {
            assertThatThrownBy(() -> TimelineHistory.parse(T3, bad)).as(bad).isInstanceOfSatisfying(LifeboatException.class,
                    e -> assertThat(e.getMessage()).contains("00000003.history"));
        }
    }

    @Test
    void locationsLieOnTheTimelinesPostgresqlReadsThemFrom() {
        TimelineHistory plain = TimelineHistory.parse(T3, "1\t0/5000000\tx\n2\t0/8000028\ty\n");
        assertThat(plain.timelineAt(Lsn.parse("0/4FFFFFF"))).isEqualTo(T1);
        assertThat(plain.timelineAt(Lsn.parse("0/5000000"))).isEqualTo(T2);
        assertThat(plain.timelineAt(Lsn.parse("0/8000028"))).isEqualTo(T3);
        assertThat(plain.leaves(T1)).isEqualTo(Lsn.parse("0/5000000"));
        // The segment holding a switch point is read from the new timeline (its copy holds both parts).
        assertThat(plain.timelineOfSegment(4, MB16)).isEqualTo(T1);
        assertThat(plain.timelineOfSegment(5, MB16)).isEqualTo(T2);
        assertThat(plain.timelineOfSegment(8, MB16)).isEqualTo(T3);
        assertThat(plain.stretches(MB16)).containsExactly(new TimelineHistory.Stretch(T1, 0, 5),
                new TimelineHistory.Stretch(T2, 5, 8), new TimelineHistory.Stretch(T3, 8, Long.MAX_VALUE));

        // Downwards: timeline 2 holds nothing; timeline 1 up to 0/5000000, then timeline 3.
        TimelineHistory down = TimelineHistory.parse(T3, DOWNWARDS);
        assertThat(down.timelineAt(Lsn.parse("0/4FFFFFF"))).isEqualTo(T1);
        assertThat(down.timelineAt(Lsn.parse("0/5000000"))).isEqualTo(T3);
        assertThat(down.timelineAt(Lsn.parse("0/9000000"))).isEqualTo(T3);
        assertThat(down.leaves(T1)).isEqualTo(Lsn.parse("0/5000000"));
        assertThat(down.stretches(MB16)).containsExactly(new TimelineHistory.Stretch(T1, 0, 5),
                new TimelineHistory.Stretch(T3, 5, Long.MAX_VALUE));
        assertThat(TimelineHistory.root(T1).stretches(MB16)).containsExactly(new TimelineHistory.Stretch(T1, 0, Long.MAX_VALUE));
    }

    @Test
    void recoveryFollowsTheNewestTimelineThatHoldsTheBackup() {
        Lsn start = Lsn.parse("0/6000028");
        Lsn stop = Lsn.parse("0/6000100");
        // Timeline 2 branched off at 0/4000000 (a test restore of an older backup), before this backup started.
        Map<TimelineId, TimelineHistory> forkedBefore = Map.of(T2, TimelineHistory.parse(T2, "1\t0/4000000\tx\n"));
        RecoveryTimeline c = RecoveryTimeline.choose("B", T1, start, T1, stop, forkedBefore);
        assertThat(c.timeline()).isEqualTo(T1);
        assertThat(c.notes()).singleElement().asString().contains("timeline 2 branched off timeline 1 at 0/4000000");
        // ... and timeline 3 from timeline 1 after it ended: that one is followed.
        Map<TimelineId, TimelineHistory> later = Map.of(T2, forkedBefore.get(T2),
                T3, TimelineHistory.parse(T3, "1\t0/7000000\tx\n"));
        assertThat(RecoveryTimeline.choose("B", T1, start, T1, stop, later).timeline()).isEqualTo(T3);
        // A branch exactly at the backup's end still holds it (recovery is consistent there, then switches).
        assertThat(RecoveryTimeline.choose("B", T1, start, T1, stop,
                Map.of(T2, TimelineHistory.parse(T2, "1\t0/6000100\tx\n"))).timeline()).isEqualTo(T2);
        // A branch in the middle of the backup does not.
        assertThat(RecoveryTimeline.choose("B", T1, start, T1, stop,
                Map.of(T2, TimelineHistory.parse(T2, "1\t0/6000080\tx\n"))).timeline()).isEqualTo(T1);
        // Downwards: timeline 3 reads timeline 1 only up to 0/5000000, before this backup: not followed;
        // a backup that ended before that is followed along it.
        Map<TimelineId, TimelineHistory> down = Map.of(T2, TimelineHistory.parse(T2, "1\t0/9000000\tx\n"),
                T3, TimelineHistory.parse(T3, DOWNWARDS));
        assertThat(RecoveryTimeline.choose("B", T1, start, T1, stop, down).timeline()).isEqualTo(T2);
        assertThat(RecoveryTimeline.choose("A", T1, Lsn.parse("0/3000028"), T1, Lsn.parse("0/3000100"), down)
                .timeline()).isEqualTo(T3);
        // A backup taken on timeline 2 is not held by a timeline that descends from 1 only.
        RecoveryTimeline other = RecoveryTimeline.choose("C", T2, Lsn.parse("0/5000028"), T2, Lsn.parse("0/5000100"),
                Map.of(T2, TimelineHistory.parse(T2, "1\t0/4000000\tx\n"), T3, TimelineHistory.parse(T3, "1\t0/4800000\ty\n")));
        assertThat(other.timeline()).isEqualTo(T2);
        assertThat(other.notes()).singleElement().asString().contains("timeline 3 does not descend from timeline 2");
    }
}
