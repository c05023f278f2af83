package io.lifeboat.engine.plan;

import io.lifeboat.catalog.BackupManifest;
import io.lifeboat.engine.verify.DrillRecord;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static io.lifeboat.engine.plan.PlanFixture.at;
import static io.lifeboat.engine.plan.PlanFixture.seg;
import static org.assertj.core.api.Assertions.assertThat;

class RecoverabilityTimelineTest {
    final PlanFixture fx = new PlanFixture();

    @Test
    void aGapAfterTheBackupEndsTheWindowAndIsShownBetweenTheWalAroundIt() {
        BackupManifest b = fx.physical(2, 3);
        fx.archived(1, 2, 5).archived(1, 7, 9);
        RecoverabilityTimeline.Timeline tl = fx.timeline();

        assertThat(tl.lanes()).hasSize(1);
        RecoverabilityTimeline.Lane lane = tl.lanes().get(0);
        assertThat(lane.bands()).extracting(RecoverabilityTimeline.Band::first, RecoverabilityTimeline.Band::last,
                RecoverabilityTimeline.Band::segments).containsExactly(
                org.assertj.core.groups.Tuple.tuple(seg(1, 2), seg(1, 5), 4L),
                org.assertj.core.groups.Tuple.tuple(seg(1, 7), seg(1, 9), 3L));
        assertThat(lane.gaps()).singleElement().satisfies(g -> {
            assertThat(g.first()).isEqualTo(seg(1, 6));
            assertThat(g.segments()).isEqualTo(1);
            assertThat(g.after()).isEqualTo(at(5));
            assertThat(g.before()).isEqualTo(at(7));
            assertThat(g.cost()).contains("point-in-time recovery from " + b.id() + " ends at 0/6000000");
        });
        assertThat(tl.windows()).singleElement().satisfies(w -> {
            assertThat(w.from()).isEqualTo(b.stopTime());
            assertThat(w.to()).isEqualTo(at(5)); // the WAL before the gap was stored then
            assertThat(w.endsAt()).contains("missing " + seg(1, 6));
        });
        assertThat(tl.backups()).singleElement().satisfies(m -> {
            assertThat(m.damaged()).isFalse();
            assertThat(m.recoverableToLsn()).isEqualTo("0/6000000");
            assertThat(m.parent()).isNull();
        });
    }

    @Test
    void anIncrementalIsMarkedWithItsChainAndOneWhoseParentIsGoneIsDamaged() {
        BackupManifest full = fx.physical(2, 3);
        BackupManifest inc = fx.incremental(full, 5, 6, 50_000_000L);
        fx.archived(1, 2, 9);
        RecoverabilityTimeline.Timeline tl = fx.timeline();
        assertThat(tl.backups()).extracting(RecoverabilityTimeline.BackupMark::parent, RecoverabilityTimeline.BackupMark::chain,
                RecoverabilityTimeline.BackupMark::damaged).containsExactly(
                org.assertj.core.groups.Tuple.tuple(null, 1, false),
                org.assertj.core.groups.Tuple.tuple(full.id().toString(), 2, false));
        assertThat(tl.windows()).singleElement().satisfies(w -> assertThat(w.from()).isEqualTo(full.stopTime()));

        // the full backup deleted: the incremental cannot be restored, whatever WAL there is
        fx.backups.remove(full);
        RecoverabilityTimeline.Timeline broken = fx.timeline();
        assertThat(broken.windows()).isEmpty();
        assertThat(broken.backups()).singleElement().satisfies(m -> {
            assertThat(m.id()).isEqualTo(inc.id().toString());
            assertThat(m.damaged()).isTrue();
            assertThat(m.problems()).anySatisfy(x -> assertThat(x).contains("chain is incomplete", full.id().toString()));
        });
    }

    @Test
    void aMissingSegmentOfTheBackupsOwnWalDamagesItAndLeavesNoWindow() {
        BackupManifest b = fx.physical(2, 4);
        fx.archived(1, 2, 2).archived(1, 4, 6);
        RecoverabilityTimeline.Timeline tl = fx.timeline();
        assertThat(tl.windows()).isEmpty();
        assertThat(tl.backups().get(0).damaged()).isTrue();
        assertThat(tl.lanes().get(0).gaps()).singleElement().satisfies(g ->
                assertThat(g.cost()).contains(b.id() + " is DAMAGED"));
    }

    @Test
    void walNotArchivedYetAtTheEndIsPendingNotAGap() {
        fx.physical(2, 3);
        fx.archived(1, 2, 2); // the stop segment has not arrived yet
        RecoverabilityTimeline.Timeline tl = fx.timeline();
        RecoverabilityTimeline.BackupMark m = tl.backups().get(0);
        assertThat(m.damaged()).isFalse();
        assertThat(m.walPending()).isTrue();
        assertThat(m.problems()).singleElement().asString().startsWith("not archived yet: " + seg(1, 3));
        assertThat(tl.lanes().get(0).gaps()).isEmpty();
        assertThat(tl.windows()).isEmpty();
    }

    @Test
    void backupsOnBothSidesOfAGapGiveTwoWindowsAndThePartialExtendsTheLast() {
        BackupManifest b1 = fx.physical(2, 3);
        BackupManifest b2 = fx.physical(8, 9);
        fx.archived(1, 2, 5).archived(1, 7, 10);
        fx.store(seg(1, 11) + ".partial", 16 << 20, at(11).plusSeconds(20));
        RecoverabilityTimeline.Timeline tl = fx.timeline();
        assertThat(tl.windows()).hasSize(2);
        assertThat(tl.windows().get(0).from()).isEqualTo(b1.stopTime());
        assertThat(tl.windows().get(0).to()).isEqualTo(at(5));
        assertThat(tl.windows().get(1).from()).isEqualTo(b2.stopTime());
        assertThat(tl.windows().get(1).to()).isEqualTo(at(11).plusSeconds(20));
        assertThat(tl.windows().get(1).endsAt()).isEqualTo("the end of the archive");
        assertThat(tl.oldestRestorable()).isEqualTo(b1.stopTime());
        assertThat(tl.newestRestorable()).isEqualTo(at(11).plusSeconds(20));
        assertThat(tl.lanes().get(0).partial()).isEqualTo(seg(1, 11) + ".partial");
        assertThat(tl.to()).isEqualTo(at(11).plusSeconds(20));
    }

    @Test
    void timelinesAreLanesAndDrillsAreProofPoints() {
        BackupManifest b = fx.physical(2, 3);
        fx.archived(1, 2, 5);
        fx.archived(2, 5, 7);
        fx.store("00000002.history", 100, at(5));
        String history = "1\t0/5000100\tno recovery target specified\n";
        DrillRecord d = new DrillRecord(b.id(), at(8), true, 42.5, "scratch", Map.of(), List.of(), "0/7000000", null,
                "time 2026-11-24 10:04:00.000000+00:00");
        RecoverabilityTimeline.Timeline tl = RecoverabilityTimeline.build(fx.backups, fx.index(),
                Map.of(io.lifeboat.postgres.TimelineId.of(2), history), Map.of(b.id(), List.of(d)));
        assertThat(tl.lanes()).extracting(RecoverabilityTimeline.Lane::timeline).containsExactly(1L, 2L);
        assertThat(tl.lanes().stream().flatMap(l -> l.gaps().stream())).isEmpty();
        assertThat(tl.windows()).singleElement().satisfies(w -> {
            assertThat(w.timeline()).isEqualTo(2);
            assertThat(w.to()).isEqualTo(at(7));
        });
        assertThat(tl.drills()).singleElement().satisfies(x -> {
            assertThat(x.ok()).isTrue();
            assertThat(x.seconds()).isEqualTo(42.5);
            assertThat(x.target()).startsWith("time ");
        });
    }
}
