package io.lifeboat.engine.verify;

import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.BackupId;
import io.lifeboat.postgres.Lsn;
import io.lifeboat.postgres.TimelineId;
import io.lifeboat.postgres.WalSegmentName;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class WalContinuityTest {
    static final long MB16 = WalSegmentName.DEFAULT_SEGMENT_SIZE;
    static final BackupId ID = BackupId.parse("20261124T220512Z-P");

    static String seg(long tli, long n, long size) {
        return new WalSegmentName(TimelineId.of(tli), n, size).toString();
    }

    static String seg(long tli, long n) {
        return seg(tli, n, MB16);
    }

    /** Segments first..last (inclusive) on a timeline. */
    static List<String> segs(long tli, long first, long last, long size) {
        List<String> out = new ArrayList<>();
        for (long n = first; n <= last; n++) {
            out.add(seg(tli, n, size));
        }
        return out;
    }

    static List<String> segs(long tli, long first, long last) {
        return segs(tli, first, last, MB16);
    }

    /** A backup on timeline 1 from segment {@code start} to {@code stop}. */
    static WalContinuity.BackupWal backup(long tli, long start, long stop, long size, boolean walIncluded) {
        WalSegmentName s = new WalSegmentName(TimelineId.of(tli), start, size);
        WalSegmentName e = new WalSegmentName(TimelineId.of(tli), stop, size);
        return new WalContinuity.BackupWal(ID, s, e, e.startLsn().plus(0x100), walIncluded);
    }

    static WalContinuity.BackupWal backup(long start, long stop) {
        return backup(1, start, stop, MB16, false);
    }

    @SafeVarargs
    static List<String> all(List<String>... parts) {
        List<String> out = new ArrayList<>();
        for (List<String> p : parts) {
            out.addAll(p);
        }
        return out;
    }

    @Test
    void completeArchiveOnOneTimeline() {
        List<String> names = all(segs(1, 1, 9), List.of(seg(1, 3) + ".00000028.backup", seg(1, 9) + ".partial"));
        WalContinuity.Result r = WalContinuity.check(backup(3, 4), names, Map.of());
        assertThat(r.ok()).isTrue();
        assertThat(r.damaged()).isFalse();
        assertThat(r.newest()).hasToString(seg(1, 9));
        assertThat(r.recoverableTo()).isEqualTo(new Lsn(10 * MB16));
        assertThat(r.problems()).isEmpty();
    }

    @Test
    void gapAfterTheBackupLimitsRecoveryAndIsNamed() {
        List<String> names = all(segs(1, 3, 0x29), segs(1, 0x2D, 0x30));
        WalContinuity.Result r = WalContinuity.check(backup(3, 4), names, Map.of());
        assertThat(r.ok()).isFalse();
        assertThat(r.damaged()).isFalse();
        assertThat(r.gaps()).hasSize(1);
        assertThat(r.problems()).containsExactly("missing 00000001000000000000002A..00000001000000000000002C (3 segments) "
                + "after backup " + ID + ": point-in-time recovery from " + ID + " ends at 0/2A000000");
        assertThat(r.recoverableTo()).isEqualTo(Lsn.parse("0/2A000000"));
        assertThat(r.hint()).contains("can be recovered up to 0/2A000000");
    }

    @Test
    void missingOwnWalDamagesTheBackup() {
        List<String> names = all(segs(1, 3, 3), segs(1, 5, 8));
        WalContinuity.Result r = WalContinuity.check(backup(3, 5), names, Map.of());
        assertThat(r.damaged()).isTrue();
        assertThat(r.recoverableTo()).isNull();
        assertThat(r.problems()).singleElement().asString().startsWith("missing " + seg(1, 4) + " (1 segment) after backup "
                + ID).contains("DAMAGED");
        assertThat(r.hint()).contains("cannot be restored");
    }

    @Test
    void aGapAcrossTheBackupsStopIsReportedInTwoParts() {
        WalContinuity.Result r = WalContinuity.check(backup(3, 4), all(segs(1, 3, 3), segs(1, 7, 8)), Map.of());
        assertThat(r.gaps()).extracting(Object::toString).containsExactly(seg(1, 4) + " (1 segment)",
                seg(1, 5) + ".." + seg(1, 6) + " (2 segments)");
        assertThat(r.problems().get(0)).contains("DAMAGED");
        assertThat(r.problems().get(1)).contains("point-in-time recovery");
    }

    @Test
    void noArchiveAtAllDamagesABackupWithoutItsWal() {
        WalContinuity.Result r = WalContinuity.check(backup(3, 4), List.of(), Map.of());
        assertThat(r.damaged()).isTrue();
        assertThat(r.gaps()).singleElement().hasToString(seg(1, 3) + ".." + seg(1, 4) + " (2 segments)");
    }

    @Test
    void walStoredWithTheBackupOnlyNeedsTheArchiveAfterIt() {
        // Its own WAL (3..4) is in the backup; 5 is missing, 6 archived: a gap that limits PITR only.
        WalContinuity.Result r = WalContinuity.check(backup(1, 3, 4, MB16, true), segs(1, 6, 6), Map.of());
        assertThat(r.damaged()).isFalse();
        assertThat(r.gaps()).singleElement().hasToString(seg(1, 5) + " (1 segment)");
        // Nothing archived at all: a self-contained backup, nothing to complain about.
        assertThat(WalContinuity.check(backup(1, 3, 4, MB16, true), List.of(), Map.of()).ok()).isTrue();
    }

    @Test
    void followsATimelineSwitch() {
        // Timeline 2 branched off 1 at 0/6000100: segments up to 5 on timeline 1, from 6 on timeline 2.
        // Timeline 1 went on past the switch (old primary): its segments 6.. are not on the path.
        List<String> names = all(segs(1, 3, 5), List.of(seg(1, 6) + ".partial"), segs(1, 6, 12), segs(2, 6, 9),
                List.of("00000002.history"));
        Map<TimelineId, String> hist = Map.of(TimelineId.of(2), "1\t0/6000100\tno recovery target specified\n");
        WalContinuity.Result r = WalContinuity.check(backup(3, 4), names, hist);
        assertThat(r.ok()).as(r.problems().toString()).isTrue();
        assertThat(r.timeline()).isEqualTo(TimelineId.of(2));
        assertThat(r.newest()).hasToString(seg(2, 9));
        assertThat(r.lineage()).extracting(WalContinuity.Stretch::timeline).containsExactly(TimelineId.of(1), TimelineId.of(2));
    }

    @Test
    void gapsBeforeAndAfterASwitchAreOnTheirOwnTimelines() {
        // Missing: 5 on timeline 1 (before the switch at segment 7), 8 on timeline 2 (after it).
        List<String> names = all(segs(1, 3, 4), segs(1, 6, 6), segs(2, 7, 7), segs(2, 9, 10));
        Map<TimelineId, String> hist = Map.of(TimelineId.of(2), "1\t0/7000000\tbefore 2026-11-24 22:05:12+00\n");
        WalContinuity.Result r = WalContinuity.check(backup(3, 4), names, hist);
        assertThat(r.gaps()).extracting(Object::toString).containsExactly(seg(1, 5) + " (1 segment)", seg(2, 8) + " (1 segment)");
        assertThat(r.damaged()).isFalse();
        assertThat(r.recoverableTo()).isEqualTo(Lsn.parse("0/5000000"));
        // Timeline 1's segment 7 is not expected: from there on WAL is read from timeline 2.
        assertThat(r.problems()).noneMatch(p -> p.contains(seg(1, 7)));
    }

    @Test
    void threeTimelinesAndABranchThatDoesNotCount() {
        // 1 → 2 at segment 5, 2 → 3 at segment 8; timeline 4 branched off 1 before the backup ended: ignored.
        List<String> names = all(segs(1, 2, 4), segs(2, 5, 7), segs(3, 8, 11), segs(4, 3, 20));
        Map<TimelineId, String> hist = Map.of(
                TimelineId.of(2), "1\t0/5000000\tx\n",
                TimelineId.of(3), "1\t0/5000000\tx\n2\t0/8000028\ty\n",
                TimelineId.of(4), "1\t0/3000000\tz\n");
        WalContinuity.Result r = WalContinuity.check(backup(2, 3), names, hist);
        assertThat(r.ok()).as(r.problems().toString()).isTrue();
        assertThat(r.timeline()).isEqualTo(TimelineId.of(3));
        assertThat(r.newest()).hasToString(seg(3, 11));
        assertThat(r.notes()).anyMatch(n -> n.contains("timeline 4 branched off timeline 1 at 0/3000000"))
                .anyMatch(n -> n.contains("--target-timeline 3"));
        // Without timeline 3's segment 9 the gap is named on timeline 3.
        List<String> holed = new ArrayList<>(names);
        holed.remove(seg(3, 9));
        assertThat(WalContinuity.check(backup(2, 3), holed, hist).problems()).singleElement().asString()
                .startsWith("missing " + seg(3, 9) + " (1 segment)");
    }

    @Test
    void timelineNotDescendingFromTheBackupIsIgnored() {
        // A backup on timeline 2; timeline 3 descends from 1 only (a second restore of an older backup).
        List<String> names = all(segs(2, 5, 8), segs(3, 4, 30));
        Map<TimelineId, String> hist = Map.of(TimelineId.of(2), "1\t0/4000000\tx\n", TimelineId.of(3), "1\t0/4800000\ty\n");
        WalContinuity.Result r = WalContinuity.check(backup(2, 5, 6, MB16, false), names, hist);
        assertThat(r.ok()).isTrue();
        assertThat(r.timeline()).isEqualTo(TimelineId.of(2));
        assertThat(r.newest()).hasToString(seg(2, 8));
        assertThat(r.notes()).anyMatch(n -> n.contains("timeline 3 does not descend from timeline 2"));
    }

    @Test
    void otherSegmentSizesCrossLogBoundaries() {
        long mb64 = 64L * 1024 * 1024; // 64 segments per log: ...0000003F is followed by 00000001 00000000
        List<String> names = segs(1, 60, 70, mb64);
        assertThat(names).contains("00000001000000000000003F", "000000010000000100000000");
        WalContinuity.Result ok = WalContinuity.check(backup(1, 60, 61, mb64, false), names, Map.of());
        assertThat(ok.ok()).isTrue();
        assertThat(ok.recoverableTo()).isEqualTo(new Lsn(71 * mb64));
        List<String> holed = new ArrayList<>(names);
        holed.remove("000000010000000100000000");
        WalContinuity.Result r = WalContinuity.check(backup(1, 60, 61, mb64, false), holed, Map.of());
        assertThat(r.gaps()).singleElement().hasToString("000000010000000100000000 (1 segment)");
        assertThat(r.recoverableTo()).isEqualTo(Lsn.parse("1/0"));
        // 1 MiB segments: a gap of three.
        long mb1 = 1024 * 1024;
        List<String> small = all(segs(1, 10, 20, mb1), segs(1, 24, 30, mb1));
        assertThat(WalContinuity.check(backup(1, 10, 11, mb1, false), small, Map.of()).gaps()).singleElement()
                .extracting(WalContinuity.Gap::count).isEqualTo(3L);
    }

    @Test
    void segmentNamesInvalidForTheSizeAreNotedNotCounted() {
        long mb64 = 64L * 1024 * 1024;
        List<String> names = all(segs(1, 1, 3, mb64), List.of("000000010000000000000080"));
        WalContinuity.Result r = WalContinuity.check(backup(1, 1, 2, mb64, false), names, Map.of());
        assertThat(r.ok()).isTrue();
        assertThat(r.notes()).anyMatch(n -> n.startsWith("000000010000000000000080 is not a segment name for 64 MiB"));
    }

    @Test
    void damagedHistoryFileIsReported() {
        assertThatThrownBy(() -> WalContinuity.check(backup(1, 2), segs(1, 1, 3),
                Map.of(TimelineId.of(2), "1\tnot-an-lsn\tx\n")))
                .isInstanceOf(LifeboatException.class).hasMessageContaining("00000002.history");
    }

    @Test
    void timelineWithoutHistoryIsNoted() {
        WalContinuity.Result r = WalContinuity.check(backup(1, 2), all(segs(1, 1, 3), segs(2, 3, 5)), Map.of());
        assertThat(r.ok()).isTrue();
        assertThat(r.timeline()).isEqualTo(TimelineId.of(1));
        assertThat(r.notes()).anyMatch(n -> n.contains("timeline 2 has archived segments but no history file"));
    }

    @Test
    void aCorruptSegmentEndsRecoveryLikeAGapAndIsCalledCorrupt() {
        List<String> names = segs(1, 3, 0x30);
        WalContinuity.Result r = WalContinuity.check(backup(3, 4), names, Map.of(),
                Map.of(seg(1, 0x2A), "corrupt", seg(1, 0x2B), "corrupt"));
        assertThat(r.ok()).isFalse();
        assertThat(r.damaged()).isFalse();
        assertThat(r.problems()).containsExactly("corrupt 00000001000000000000002A..00000001000000000000002B (2 segments) "
                + "after backup " + ID + ": point-in-time recovery from " + ID + " ends at 0/2A000000");
        assertThat(r.recoverableTo()).isEqualTo(Lsn.parse("0/2A000000"));
        assertThat(r.hint()).contains("first corrupt segment");
        // the newest segment itself damaged: recovery ends before it, not at the end of the archive
        WalContinuity.Result last = WalContinuity.check(backup(3, 4), names, Map.of(), Map.of(seg(1, 0x30), "corrupt"));
        assertThat(last.recoverableTo()).isEqualTo(Lsn.parse("0/30000000"));
        assertThat(last.gaps()).singleElement().extracting(WalContinuity.Gap::reason).isEqualTo("corrupt");
    }

    @Test
    void aCorruptSegmentOfTheBackupsOwnWalDamagesItAndMissingAndCorruptAreNamedApart() {
        List<String> names = all(segs(1, 3, 5), segs(1, 8, 9));
        WalContinuity.Result r = WalContinuity.check(backup(3, 4), names, Map.of(), Map.of(seg(1, 4), "corrupt",
                seg(1, 5), "corrupt"));
        assertThat(r.damaged()).isTrue();
        assertThat(r.recoverableTo()).isNull();
        assertThat(r.gaps()).extracting(g -> g.reason() + " " + g.names()).containsExactly("corrupt " + seg(1, 4),
                "corrupt " + seg(1, 5), "missing " + seg(1, 6) + ".." + seg(1, 7));
        assertThat(r.problems().get(0)).startsWith("corrupt " + seg(1, 4)).contains("DAMAGED");
    }

    @Test
    void followsAHistoryWhoseSwitchPointsGoDown() {
        // Restore to the end of timeline 1 (timeline 2 from segment 9), then a PITR that followed timeline 2 but
        // stopped in timeline 1's WAL at segment 5: PostgreSQL wrote 00000003.history with 0/9000000, then 0/5000000.
        List<String> names = all(segs(1, 3, 12), segs(2, 9, 10), segs(3, 5, 7));
        Map<TimelineId, String> hist = Map.of(TimelineId.of(2), "1\t0/9000000\tno recovery target specified\n",
                TimelineId.of(3), "1\t0/9000000\tno recovery target specified\n\n2\t0/5000000\tbefore 2026-11-24\n");
        WalContinuity.Result r = WalContinuity.check(backup(3, 3), names, hist);
        assertThat(r.ok()).as(r.problems().toString()).isTrue();
        assertThat(r.timeline()).isEqualTo(TimelineId.of(3));
        assertThat(r.lineage()).containsExactly(new WalContinuity.Stretch(TimelineId.of(1), 3, 5),
                new WalContinuity.Stretch(TimelineId.of(3), 5, Long.MAX_VALUE));
        assertThat(r.newest()).hasToString(seg(3, 7));
        // A backup that began after timeline 3 left timeline 1 is recovered along timeline 2.
        assertThat(WalContinuity.check(backup(6, 6), names, hist).timeline()).isEqualTo(TimelineId.of(2));
    }
}
