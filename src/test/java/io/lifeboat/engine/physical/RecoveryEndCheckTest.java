package io.lifeboat.engine.physical;

import io.lifeboat.postgres.Lsn;
import io.lifeboat.postgres.TimelineHistory;
import io.lifeboat.postgres.TimelineId;
import io.lifeboat.postgres.WalSegmentName;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

class RecoveryEndCheckTest {
    static final long MB16 = WalSegmentName.DEFAULT_SEGMENT_SIZE;
    static final TimelineId T1 = TimelineId.of(1);
    static final TimelineId T2 = TimelineId.of(2);

    static List<String> segs(long tli, long first, long last) {
        List<String> out = new ArrayList<>();
        for (long n = first; n <= last; n++) {
            out.add(new WalSegmentName(TimelineId.of(tli), n, MB16).toString());
        }
        return out;
    }

    @Test
    void recoveryToTheEndOfTheArchiveIsComplete() {
        List<String> names = new ArrayList<>(segs(1, 3, 9));
        names.add(segs(1, 9, 9).get(0) + ".partial");
        names.add("00000001.history");
        // replay ended in segment 9, or exactly at its end (after a WAL switch: the next record would be in 10)
        assertThat(RecoveryEndCheck.check(TimelineHistory.root(T1), Lsn.parse("0/9000120"), names, MB16)).isEmpty();
        assertThat(RecoveryEndCheck.check(TimelineHistory.root(T1), Lsn.parse("0/A000000"), names, MB16)).isEmpty();
    }

    @Test
    void recoveryThatStoppedBeforeArchivedWalIsAShortfall() {
        Optional<RecoveryEndCheck.Shortfall> s = RecoveryEndCheck.check(TimelineHistory.root(T1), Lsn.parse("0/11000000"),
                segs(1, 3, 0x2A), MB16);
        assertThat(s).isPresent();
        assertThat(s.get().lastReplayed()).hasToString("000000010000000000000010");
        assertThat(s.get().archivedAfter()).isEqualTo(26);
        assertThat(s.get().newestArchived()).hasToString("00000001000000000000002A");
        assertThat(s.get().nextArchived()).isTrue();
        assertThat(s.get().describe()).contains("recovery ended at 0/11000000", "26 later segments",
                "000000010000000000000011 is archived and was not replayed");
        // a real gap: 0x11 missing, later ones there
        List<String> holed = new ArrayList<>(segs(1, 3, 0x10));
        holed.addAll(segs(1, 0x12, 0x14));
        Optional<RecoveryEndCheck.Shortfall> gap = RecoveryEndCheck.check(TimelineHistory.root(T1), Lsn.parse("0/10FFFFF8"),
                holed, MB16);
        assertThat(gap.get().nextArchived()).isFalse();
        assertThat(gap.get().describe()).contains("000000010000000000000011 is missing from the archive");
    }

    @Test
    void onlyTheFollowedLineageCounts() {
        // Recovery followed timeline 2 (branched off 1 at 0/6000100) to its end in segment 9. Timeline 1 went on
        // past the switch (the old primary): its segments 6.. are another branch, not a shortfall.
        TimelineHistory t2 = TimelineHistory.parse(T2, "1\t0/6000100\tx\n");
        List<String> names = new ArrayList<>(segs(1, 3, 20));
        names.addAll(segs(2, 6, 9));
        assertThat(RecoveryEndCheck.check(t2, Lsn.parse("0/9800000"), names, MB16)).isEmpty();
        names.addAll(segs(2, 10, 11));
        assertThat(RecoveryEndCheck.check(t2, Lsn.parse("0/9800000"), names, MB16)).get()
                .satisfies(s -> assertThat(s.newestArchived()).hasToString("00000002000000000000000B"));
        // Stopped on timeline 1 before the switch although timeline 2 goes on: a shortfall on 1, then 2.
        RecoveryEndCheck.Shortfall early = RecoveryEndCheck.check(t2, Lsn.parse("0/4000010"), names, MB16).orElseThrow();
        assertThat(early.lastReplayed()).hasToString("000000010000000000000004");
        assertThat(early.archivedAfter()).isEqualTo(1 + 6); // 1: 5; 2: 6..11
    }
}
