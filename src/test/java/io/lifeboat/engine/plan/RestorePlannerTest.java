package io.lifeboat.engine.plan;

import io.lifeboat.catalog.BackupId;
import io.lifeboat.catalog.BackupManifest;
import io.lifeboat.catalog.RepositoryLayout;
import io.lifeboat.catalog.StoredObject;
import io.lifeboat.engine.verify.DrillRecord;
import io.lifeboat.postgres.RecoveryTarget;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static io.lifeboat.engine.plan.PlanFixture.at;
import static io.lifeboat.engine.plan.PlanFixture.seg;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RestorePlannerTest {
    final PlanFixture fx = new PlanFixture();
    final RepositoryLayout layout = new RepositoryLayout("c");
    final RestorePlanner.Options options = new RestorePlanner.Options("/opt/lifeboat/bin/lifeboat",
            Path.of("/etc/lifeboat/lifeboat.yml"), Path.of("/srv/restore/c"), null, Path.of("/var/lib/postgresql/15/main"));

    /** A repository holding every backup object and every archived WAL file of the fixture, less {@code without}. */
    RestorePlanner.Member member(String name, String... without) {
        Set<String> keys = new HashSet<>();
        for (BackupManifest m : fx.backups) {
            keys.add(layout.manifest(m.id()));
            for (StoredObject o : m.objects()) {
                keys.add(layout.backupObject(m.id(), o.path()));
            }
        }
        Set<String> wal = new HashSet<>(fx.index().names());
        for (String w : without) {
            keys.remove(w);
            wal.remove(w);
        }
        return new RestorePlanner.Member(name, "s3://bucket/" + name, keys, wal, null);
    }

    RestorePlan plan(RecoveryTarget t, List<RestorePlanner.Member> members, Map<BackupId, List<DrillRecord>> drills,
                     RestorePlanner.Options o) {
        return RestorePlanner.plan("c", t, fx.backups, fx.index(), Map.of(), members, drills, o);
    }

    @Test
    void aTimeTargetNeedsTheSegmentsUpToTheFirstStoredAfterIt() {
        BackupManifest b1 = fx.physical(2, 3);
        BackupManifest b2 = fx.physical(6, 7);
        fx.archived(1, 2, 12);
        // between the stored times of segments 9 and 10: segments 6..9 hold only earlier WAL, 10 holds the target
        RecoveryTarget t = RecoveryTarget.time(at(9).plusSeconds(20).toString());
        RestorePlan p = plan(t, List.of(member("a")), Map.of(), options);
        assertThat(p.backup().id()).isEqualTo(b2.id().toString()); // the newest ended before the target, as restore takes
        assertThat(p.wal().first()).isEqualTo(seg(1, 6));
        assertThat(p.wal().through()).isEqualTo(seg(1, 10));
        assertThat(p.wal().count()).isEqualTo(5);
        assertThat(p.wal().storedBytes()).isEqualTo(5 * 4_000_000L);
        assertThat(p.wal().throughIsAtLeast()).isTrue();
        assertThat(p.restorable()).as(p.problems().toString()).isTrue();
        assertThat(p.command()).isEqualTo("/opt/lifeboat/bin/lifeboat restore --config /etc/lifeboat/lifeboat.yml "
                + "--cluster c --backup " + b2.id() + " --target-time '" + t.value() + "' --data-directory /srv/restore/c");
        // before b2's end: b1, with its WAL from its start
        RestorePlan early = plan(RecoveryTarget.time(b2.stopTime().minusSeconds(5).toString()), List.of(member("a")),
                Map.of(), options);
        assertThat(early.backup().id()).isEqualTo(b1.id().toString());
        assertThat(early.wal().first()).isEqualTo(seg(1, 2));
    }

    @Test
    void anIncrementalNeedsEveryObjectOfItsChain() {
        BackupManifest full = fx.physical(2, 3);
        BackupManifest inc = fx.incremental(full, 5, 6, 40_000_000L);
        fx.archived(1, 2, 12);
        RecoveryTarget t = RecoveryTarget.time(at(9).plusSeconds(20).toString());
        String fullChunk = layout.backupObject(full.id(), "base.tar.0001.zst");
        RestorePlan p = plan(t, List.of(member("a"), member("b", fullChunk)), Map.of(), options);
        assertThat(p.backup().id()).isEqualTo(inc.id().toString());
        assertThat(p.backup().chain()).containsExactly(full.id().toString());
        assertThat(p.backup().objects()).isEqualTo(6); // two manifests and four objects
        assertThat(p.wal().first()).isEqualTo(seg(1, 5)); // recovery starts at the incremental's own start
        assertThat(p.restorable()).as(p.problems().toString()).isTrue();
        assertThat(p.repositories().get(1).complete()).isFalse();
        assertThat(p.repositories().get(1).missingObjects()).containsExactly(full.id() + "/base.tar.0001.zst");
        assertThat(p.estimate().basis()).contains("the 2 backups of its chain");
        assertThat(p.command()).contains("--backup " + inc.id());

        // its full backup deleted: not restorable, and the plan says why
        fx.backups.remove(full);
        RestorePlan broken = plan(t, List.of(member("a")), Map.of(), options);
        assertThat(broken.backup().id()).isEqualTo(inc.id().toString());
        assertThat(broken.restorable()).isFalse();
        assertThat(broken.problems()).anySatisfy(x -> assertThat(x).contains("chain is incomplete", full.id().toString()));
    }

    @Test
    void aTargetAfterTheNewestArchivedWalIsNotRestorable() {
        fx.physical(2, 3);
        fx.archived(1, 2, 5);
        RestorePlan p = plan(RecoveryTarget.time(at(5).plusSeconds(30).toString()), List.of(member("a")), Map.of(), options);
        assertThat(p.restorable()).isFalse();
        assertThat(p.problems()).anySatisfy(x -> assertThat(x).contains("after the newest archived WAL")
                .contains("recovery ended before configured recovery target was reached"));
    }

    @Test
    void theStreamsPartialSegmentCanHoldTheTarget() {
        fx.physical(2, 3);
        fx.archived(1, 2, 5);
        fx.store(seg(1, 6) + ".partial", 16 << 20, at(6));
        RestorePlan p = plan(RecoveryTarget.time(at(5).plusSeconds(30).toString()), List.of(member("a")), Map.of(), options);
        assertThat(p.restorable()).as(p.problems().toString()).isTrue();
        assertThat(p.wal().through()).isEqualTo(seg(1, 6) + ".partial");
    }

    @Test
    void anLsnTargetNeedsTheSegmentHoldingItAndAGapBeforeItIsNamed() {
        fx.physical(2, 3);
        fx.archived(1, 2, 4).archived(1, 6, 9);
        RestorePlan p = plan(RecoveryTarget.lsn("0/8000100"), List.of(member("a")), Map.of(), options);
        assertThat(p.wal().through()).isEqualTo(seg(1, 8));
        assertThat(p.wal().throughIsAtLeast()).isFalse();
        assertThat(p.wal().missing()).containsExactly(seg(1, 5));
        assertThat(p.restorable()).isFalse();
        assertThat(p.problems()).anySatisfy(x -> assertThat(x).contains("1 WAL segment(s)").contains(seg(1, 5)));
        assertThat(p.command()).contains("--target-lsn 0/8000100");
        // before the gap it is fine
        assertThat(plan(RecoveryTarget.lsn("0/4000100"), List.of(member("a")), Map.of(), options).restorable()).isTrue();
    }

    @Test
    void eachRepositorySaysWhatItLacksAndTogetherTheyMayHoldEverything() {
        BackupManifest b = fx.physical(2, 3);
        fx.archived(1, 2, 6);
        RecoveryTarget t = RecoveryTarget.lsn("0/5000000");
        String chunk = layout.backupObject(b.id(), "base.tar.0001.zst");
        RestorePlan p = plan(t, List.of(member("near", seg(1, 4)), member("far", chunk)), Map.of(), options);
        assertThat(p.repositories()).extracting(RestorePlan.Coverage::name, RestorePlan.Coverage::complete)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("near", false),
                        org.assertj.core.groups.Tuple.tuple("far", false));
        assertThat(p.repositories().get(0).missingWal()).containsExactly(seg(1, 4));
        assertThat(p.repositories().get(0).backupObjectsPresent()).isEqualTo(3);
        assertThat(p.repositories().get(1).missingObjects()).containsExactly("base.tar.0001.zst");
        assertThat(p.restorable()).isTrue();
        assertThat(p.notes()).anySatisfy(n -> assertThat(n).contains("together they do"));
        // both lack the same segment: not restorable
        RestorePlan q = plan(t, List.of(member("near", seg(1, 4)), member("far", seg(1, 4))), Map.of(), options);
        assertThat(q.restorable()).isFalse();
        // a repository that cannot be listed holds nothing as far as the plan knows
        RestorePlan r = plan(t, List.of(new RestorePlanner.Member("down", "s3://x", Set.of(), Set.of(), "timed out"),
                member("up")), Map.of(), options);
        assertThat(r.repositories().get(0).error()).isEqualTo("timed out");
        assertThat(r.restorable()).isTrue();
    }

    @Test
    void theExpectedTimeComesFromTheDrillsMeasuredRates() {
        BackupManifest b = fx.physical(2, 3, at(3), 1_000_000_000L);
        fx.archived(1, 2, 20);
        long seg = PlanFixture.MB16;
        // drills that restored 1 GB of files and replayed segments 2..5 (4 segments): rates in bytes per second
        double bytes = b.rawBytes() + 4 * seg;
        List<DrillRecord> drills = List.of(drill(b, at(30), bytes / 100), drill(b, at(31), bytes / 50),
                drill(b, at(32), bytes / 200), new DrillRecord(b.id(), at(33), false, 1, "x", Map.of(), List.of("boom")));
        RestorePlan none = plan(RecoveryTarget.lsn("0/5000000"), List.of(member("a")), Map.of(), options);
        assertThat(none.estimate().seconds()).isNull();
        assertThat(none.estimate().basis()).contains("no successful physical drill");
        RestorePlan p = plan(RecoveryTarget.lsn("0/5000000"), List.of(member("a")), Map.of(b.id(), drills), options);
        assertThat(p.estimate().drills()).isEqualTo(3);
        double rate = bytes / 100; // the median of the three successful ones
        assertThat(p.estimate().bytesPerSecond()).isCloseTo(rate, org.assertj.core.data.Offset.offset(1.0));
        // this restore: the same files, and segments 2..5 again
        assertThat(p.estimate().seconds()).isCloseTo(100, org.assertj.core.data.Offset.offset(0.01));
    }

    private static DrillRecord drill(BackupManifest b, Instant when, double rate) {
        double bytes = b.rawBytes() + 4 * PlanFixture.MB16;
        return new DrillRecord(b.id(), when, true, bytes / rate, "scratch", Map.of(), List.of(), "0/5000100", null);
    }

    @Test
    void theCommandQuotesWhatTheShellWouldSplitAndNeverTargetsProduction() {
        fx.physical(2, 3);
        fx.archived(1, 2, 5);
        RestorePlanner.Options odd = new RestorePlanner.Options("lifeboat", Path.of("/etc/life boat/it's.yml"),
                Path.of("/var/lib/postgresql/15/main"), 5499, Path.of("/var/lib/postgresql/15/main"));
        RestorePlan p = plan(RecoveryTarget.name("before 'the' migration"), List.of(member("a")), Map.of(), odd);
        assertThat(p.command()).isEqualTo("lifeboat restore --config '/etc/life boat/it'\\''s.yml' --cluster c --backup "
                + fx.backups.get(0).id() + " --target-name 'before '\\''the'\\'' migration' --data-directory "
                + "/var/lib/postgresql/15/main --start --port 5499");
        assertThat(p.restorable()).isFalse();
        assertThat(p.problems()).anySatisfy(x -> assertThat(x).contains("production data directory"));
        RestorePlan placeholder = plan(RecoveryTarget.immediate("immediate"), List.of(member("a")), Map.of(),
                new RestorePlanner.Options("lifeboat", null, null, null, null));
        assertThat(placeholder.command()).isEqualTo("lifeboat restore --cluster c --backup " + fx.backups.get(0).id()
                + " --target immediate --data-directory " + RestorePlanner.NEW_DATA_DIRECTORY);
        assertThat(placeholder.wal().through()).isEqualTo(seg(1, 3));
    }

    @Test
    void withoutAPhysicalBackupThereIsNothingToPlan() {
        assertThatThrownBy(() -> plan(RecoveryTarget.lsn("0/5000000"), List.of(), Map.of(), options))
                .hasMessageContaining("no complete physical backup");
    }
}
