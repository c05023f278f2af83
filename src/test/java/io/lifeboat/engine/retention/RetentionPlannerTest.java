package io.lifeboat.engine.retention;

import io.lifeboat.config.RetentionPolicy;
import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.BackupEntry;
import io.lifeboat.catalog.BackupId;
import io.lifeboat.catalog.BackupManifest;
import io.lifeboat.catalog.BackupType;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RetentionPlannerTest {
    static final Instant NOW = Instant.parse("2026-11-25T12:00:00Z");

    static BackupEntry physical(Instant start, String startSegment) {
        BackupId id = BackupId.of(start, BackupType.PHYSICAL);
        BackupManifest m = new BackupManifest(1, id, BackupType.PHYSICAL, "c", start, start.plusSeconds(600), 150000, "1",
                "zstd", "none", List.of(), null, new BackupManifest.PhysicalDetails("0/0", "0/0", 1, startSegment, startSegment,
                "l", false, Map.of()), Map.of());
        return new BackupEntry(id, BackupEntry.Status.COMPLETE, m, 1, 1, start);
    }

    /** A backup with a file index: full when {@code chain} is empty, else an incremental of its last element. */
    static BackupEntry indexed(Instant start, String startSegment, BackupId... chain) {
        BackupId id = BackupId.of(start, BackupType.PHYSICAL);
        BackupManifest.IndexedFiles files = new BackupManifest.IndexedFiles("file-index.json.zst", "local",
                chain.length == 0 ? null : chain[chain.length - 1], List.of(chain), 8192, 1, 1, 0, 0, false, true, "/d", true);
        BackupManifest m = new BackupManifest(1, id, BackupType.PHYSICAL, "c", start, start.plusSeconds(600), 150000, "1",
                "zstd", "none", List.of(), null, new BackupManifest.PhysicalDetails("0/0", "0/0", 1, startSegment, startSegment,
                "l", false, Map.of(), null, 1, 0, List.of(), List.of(), null, 1, null, files), Map.of());
        return new BackupEntry(id, BackupEntry.Status.COMPLETE, m, 1, 1, start);
    }

    @Test
    void aKeptIncrementalKeepsItsWholeChainAndTheChainsWal() {
        BackupEntry f1 = indexed(daysAgo(40), "000000010000000000000010");
        BackupEntry i1 = indexed(daysAgo(35), "000000010000000000000012", f1.id());
        BackupEntry f2 = indexed(daysAgo(30), "000000010000000000000020");
        BackupEntry i2a = indexed(daysAgo(20), "000000010000000000000024", f2.id());
        BackupEntry i2b = indexed(daysAgo(10), "000000010000000000000028", f2.id(), i2a.id());
        List<BackupEntry> e = List.of(f1, i1, f2, i2a, i2b);
        RetentionPlan p = RetentionPlanner.plan(e, List.of("000000010000000000000011.zst", "000000010000000000000021.zst"),
                new RetentionPolicy(1, null, 0, null, null), NOW);
        assertThat(p.backupsToDelete()).containsExactly(f1.id(), i1.id());
        assertThat(p.backups()).filteredOn(d -> d.id().equals(f2.id())).singleElement()
                .satisfies(d -> assertThat(d.reason()).isEqualTo("in the chain of " + i2b.id() + ", which is kept"));
        assertThat(p.oldestNeededSegment()).isEqualTo(0x20);
        assertThat(p.walToDelete()).containsExactly("000000010000000000000011.zst");

        // A window whose rules keep only the chain's incrementals keeps its full backup too.
        BackupEntry g = indexed(daysAgo(50), "000000010000000000000001");
        BackupEntry g1 = indexed(daysAgo(45), "000000010000000000000002", g.id());
        BackupEntry g2 = indexed(daysAgo(35), "000000010000000000000003", g.id(), g1.id());
        RetentionPlan w = RetentionPlanner.plan(List.of(g, g1, g2), List.of(), new RetentionPolicy(0, Duration.ofDays(40), 0,
                null, null), NOW);
        assertThat(w.backupsToDelete()).isEmpty();
        assertThat(w.backups().get(0).reason()).startsWith("in the chain of " + g2.id());
    }

    static BackupEntry logical(Instant start) {
        BackupId id = BackupId.of(start, BackupType.LOGICAL);
        BackupManifest m = new BackupManifest(1, id, BackupType.LOGICAL, "c", start, start.plusSeconds(60), 150000, "1",
                "zstd", "none", List.of(), new BackupManifest.LogicalDetails(List.of(), null, "15.4", 2), null, Map.of());
        return new BackupEntry(id, BackupEntry.Status.COMPLETE, m, 1, 1, start);
    }

    static BackupEntry unfinished(Instant start, Instant lastModified) {
        return new BackupEntry(BackupId.of(start, BackupType.PHYSICAL), BackupEntry.Status.UNFINISHED, null, 1, 1, lastModified);
    }

    static Instant daysAgo(int d) {
        return NOW.minus(Duration.ofDays(d));
    }

    @Test
    void countKeepsTheNewestAndWalFromTheOldestKept() {
        List<BackupEntry> e = List.of(physical(daysAgo(30), "000000010000000000000010"),
                physical(daysAgo(20), "000000010000000000000020"), physical(daysAgo(10), "000000020000000000000030"),
                physical(daysAgo(1), "000000020000000000000040"));
        List<String> wal = List.of("000000010000000000000011.zst", "00000001000000000000001F.zst",
                "000000010000000000000020.00000028.backup.zst", "000000010000000000000021.zst", "000000020000000000000025.zst",
                "00000002.history.zst", "000000020000000000000031.zst");
        RetentionPlan p = RetentionPlanner.plan(e, wal, new RetentionPolicy(2, null, 0, null, null), NOW);
        assertThat(p.backupsToDelete()).containsExactly(e.get(0).id(), e.get(1).id());
        assertThat(p.oldestNeededSegment()).isEqualTo(0x30);
        // Below segment 0x30 on every timeline goes; history files never.
        assertThat(p.walToDelete()).containsExactlyInAnyOrder("000000010000000000000011.zst", "00000001000000000000001F.zst",
                "000000010000000000000020.00000028.backup.zst", "000000010000000000000021.zst", "000000020000000000000025.zst");
    }

    @Test
    void windowKeepsEverythingInsideAndTheBackupItStartsFrom() {
        List<BackupEntry> e = List.of(physical(daysAgo(40), "000000010000000000000001"),
                physical(daysAgo(20), "000000010000000000000005"), physical(daysAgo(16), "000000010000000000000007"),
                physical(daysAgo(10), "000000010000000000000009"), physical(daysAgo(2), "00000001000000000000000B"));
        RetentionPlan p = RetentionPlanner.plan(e, List.of(), new RetentionPolicy(0, Duration.ofDays(14), 0, null, null), NOW);
        assertThat(p.backupsToDelete()).containsExactly(e.get(0).id(), e.get(1).id());
        assertThat(p.backups().get(2).reason()).contains("window starts from it");
        assertThat(p.oldestNeededSegment()).isEqualTo(7);
    }

    @Test
    void logicalAndPhysicalAreSeparate() {
        List<BackupEntry> e = List.of(logical(daysAgo(9)), logical(daysAgo(5)), physical(daysAgo(8), "000000010000000000000003"),
                logical(daysAgo(1)));
        RetentionPlan onlyLogical = RetentionPlanner.plan(e, List.of("000000010000000000000001.zst"),
                new RetentionPolicy(0, null, 1, null, null), NOW);
        assertThat(onlyLogical.backupsToDelete()).containsExactly(e.get(0).id(), e.get(1).id());
        assertThat(onlyLogical.walToDelete()).as("no physical rule: WAL untouched").isEmpty();
        RetentionPlan both = RetentionPlanner.plan(e, List.of("000000010000000000000001.zst"),
                new RetentionPolicy(1, null, 2, null, null), NOW);
        assertThat(both.backupsToDelete()).containsExactly(e.get(0).id());
        assertThat(both.walToDelete()).containsExactly("000000010000000000000001.zst");
    }

    @Test
    void unfinishedBackupsGoOnlyAfterTheGraceTime() {
        List<BackupEntry> e = List.of(unfinished(daysAgo(3), daysAgo(3)), unfinished(NOW.minusSeconds(600), NOW.minusSeconds(5)),
                physical(daysAgo(1), "000000010000000000000003"));
        RetentionPlan p = RetentionPlanner.plan(e, List.of(), new RetentionPolicy(1, null, 0, null, Duration.ofHours(6)), NOW);
        assertThat(p.backupsToDelete()).containsExactly(e.get(0).id());
    }

    @Test
    void settingsThatWouldDeleteEverythingAreRefused() {
        assertThatThrownBy(() -> new RetentionPolicy(-1, null, 0, null, null)).isInstanceOf(LifeboatException.class);
        assertThatThrownBy(() -> new RetentionPolicy(0, Duration.ZERO, 0, null, null)).isInstanceOf(LifeboatException.class);
        // A window alone always keeps the newest backup older than it, and everything inside it.
        List<BackupEntry> e = List.of(physical(daysAgo(100), "000000010000000000000001"));
        RetentionPlan p = RetentionPlanner.plan(e, List.of(), new RetentionPolicy(0, Duration.ofDays(1), 0, null, null), NOW);
        assertThat(p.backupsToDelete()).isEmpty();
    }

    @Test
    void noWalIsDeletedWithoutAKeptPhysicalBackup() {
        RetentionPlan p = RetentionPlanner.plan(List.of(logical(daysAgo(1))), List.of("000000010000000000000001.zst"),
                new RetentionPolicy(3, null, 1, null, null), NOW);
        assertThat(p.walToDelete()).isEmpty();
    }

    /** Generated catalogs: whatever the mix, every kept physical backup still has all WAL from its start. */
    @Test
    void generatedCatalogsNeverLoseWalAKeptBackupNeeds() {
        Random r = new Random(42);
        for (int round = 0; round < 300; round++) {
            List<BackupEntry> entries = new ArrayList<>();
            List<String> wal = new ArrayList<>();
            int timelines = 1 + r.nextInt(4);
            long seg = 1;
            for (int day = 60; day > 0; day -= 1 + r.nextInt(5)) {
                int tli = 1 + r.nextInt(timelines);
                seg += 1 + r.nextInt(10);
                if (r.nextInt(3) == 0) {
                    entries.add(logical(daysAgo(day)));
                } else if (r.nextInt(10) == 0) {
                    entries.add(unfinished(daysAgo(day), daysAgo(day)));
                } else {
                    entries.add(physical(daysAgo(day), String.format("%08X%08X%08X", tli, seg / 256, seg % 256)));
                }
            }
            for (long s = 1; s <= seg + 5; s++) {
                for (int t = 1; t <= timelines; t++) {
                    if (r.nextInt(4) > 0) { // gaps
                        wal.add(String.format("%08X%08X%08X.zst", t, s / 256, s % 256));
                    }
                }
            }
            RetentionPolicy policy = new RetentionPolicy(r.nextInt(4), r.nextBoolean() ? Duration.ofDays(1 + r.nextInt(30)) : null,
                    r.nextInt(3), null, Duration.ofDays(1));
            if (!policy.governsPhysical()) {
                continue;
            }
            RetentionPlan plan = RetentionPlanner.plan(entries, wal, policy, NOW);
            List<BackupId> deleted = plan.backupsToDelete();
            long keptPhysical = entries.stream().filter(e -> e.complete() && e.manifest().type() == BackupType.PHYSICAL
                    && !deleted.contains(e.id())).count();
            long physicalTotal = entries.stream().filter(e -> e.complete() && e.manifest().type() == BackupType.PHYSICAL).count();
            if (physicalTotal > 0) {
                assertThat(keptPhysical).as("round %d keeps a physical backup", round).isPositive();
            }
            for (BackupEntry e : entries) {
                if (e.complete() && e.manifest().type() == BackupType.PHYSICAL && !deleted.contains(e.id())) {
                    long start = io.lifeboat.postgres.WalSegmentName.parse(e.manifest().physical().startWalSegment()).segmentNumber();
                    for (String w : plan.walToDelete()) {
                        assertThat(io.lifeboat.postgres.WalSegmentName.parse(w.substring(0, 24)).segmentNumber())
                                .as("round %d: %s is needed by %s", round, w, e.id()).isLessThan(start);
                    }
                }
            }
        }
    }

    @Test
    void partialsOfSegmentsArchivedWholeAreDeletedOthersKept() {
        String h = ".sha256-" + "a".repeat(64) + ".zst";
        // the stream's pieces carry their byte range after the checksum
        String piece = ".sha256-" + "b".repeat(64) + ".bytes-00001000-00002000.zst";
        java.util.List<String> names = java.util.List.of("000000010000000000000005" + h,
                "000000010000000000000005.partial" + h, "000000010000000000000005.partial" + piece,
                "000000010000000000000006.partial" + h, "000000010000000000000006.partial" + piece,
                "000000020000000000000005.partial" + h);
        assertThat(RetentionPlanner.supersededPartials(names, java.util.List.of()))
                .containsExactly("000000010000000000000005.partial" + h, "000000010000000000000005.partial" + piece);
    }
}
