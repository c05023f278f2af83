package io.lifeboat.engine.plan;

import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.BackupId;
import io.lifeboat.catalog.BackupManifest;
import io.lifeboat.catalog.BackupType;
import io.lifeboat.catalog.Catalog;
import io.lifeboat.catalog.RepositoryLayout;
import io.lifeboat.postgres.RecoveryTarget;
import io.lifeboat.postgres.XidSnapshot;
import io.lifeboat.storage.MemoryStorage;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BackupChoiceTest {
    final MemoryStorage storage = new MemoryStorage();
    final Catalog catalog = new Catalog(storage, new RepositoryLayout("c"));

    BackupManifest backup(String start, String stopLsn, String snapshot) {
        Instant t = Instant.parse(start);
        BackupId id = BackupId.of(t, BackupType.PHYSICAL);
        BackupManifest.PhysicalDetails d = new BackupManifest.PhysicalDetails("0/2000028", stopLsn, 1, null, null, "l", false,
                Map.of(), null, 1, 0, List.of(), List.of(), null, 0, snapshot);
        BackupManifest m = new BackupManifest(1, id, BackupType.PHYSICAL, "c", t, t.plusSeconds(60), 150000, "1", "zstd",
                "none", List.of(), null, d, Map.of());
        catalog.writeManifest(m);
        return m;
    }

    @Test
    void anXidTargetStartsFromTheNewestBackupItHadNotFinishedBy() {
        BackupManifest b1 = backup("2026-11-24T10:00:00Z", "0/3000100", "700:705:701,703");
        BackupManifest b2 = backup("2026-11-24T11:00:00Z", "0/9000100", "800:810:805");
        BackupManifest b3 = backup("2026-11-24T12:00:00Z", "0/F000100", "900:900:");
        assertThat(BackupChoice.forTarget(catalog, RecoveryTarget.xid("950")).backup()).isEqualTo(b3);
        assertThat(BackupChoice.forTarget(catalog, RecoveryTarget.xid("900")).backup()).isEqualTo(b3); // not started yet
        assertThat(BackupChoice.forTarget(catalog, RecoveryTarget.xid("899")).backup()).isEqualTo(b2); // finished by b3's end
        assertThat(BackupChoice.forTarget(catalog, RecoveryTarget.xid("805")).backup()).isEqualTo(b2); // running at b2's end
        assertThat(BackupChoice.forTarget(catalog, RecoveryTarget.xid("806")).backup()).isEqualTo(b1);
        assertThat(BackupChoice.forTarget(catalog, RecoveryTarget.xid("703")).backup()).isEqualTo(b1);
        assertThatThrownBy(() -> BackupChoice.forTarget(catalog, RecoveryTarget.xid("702")))
                .isInstanceOfSatisfying(LifeboatException.class, e -> {
                    assertThat(e.exitCode()).isEqualTo(7);
                    assertThat(e.getMessage()).contains("transaction 702 had already finished", b1.id().toString());
                });
    }

    @Test
    void withoutRecordsTheOldestBackupIsTaken() {
        BackupManifest b1 = backup("2026-11-24T10:00:00Z", "0/3000100", null);
        backup("2026-11-24T11:00:00Z", "0/9000100", null);
        BackupChoice.Choice xid = BackupChoice.forTarget(catalog, RecoveryTarget.xid("1000"));
        assertThat(xid.backup()).isEqualTo(b1);
        assertThat(xid.note()).contains("oldest physical backup, " + b1.id());
        BackupChoice.Choice name = BackupChoice.forTarget(catalog, RecoveryTarget.name("before-migration"));
        assertThat(name.backup()).isEqualTo(b1);
        assertThat(name.note()).contains("restore point").contains("--backup");
        // a newer backup that records its snapshot proves the target finished before it; the older one may do
        backup("2026-11-24T12:00:00Z", "0/F000100", "2000:2000:");
        assertThat(BackupChoice.forTarget(catalog, RecoveryTarget.xid("1000")).backup()).isEqualTo(b1);
    }

    @Test
    void timeAndLsnTargetsComeAfterTheBackupsEnd() {
        BackupManifest b1 = backup("2026-11-24T10:00:00Z", "0/3000100", null);
        BackupManifest b2 = backup("2026-11-24T11:00:00Z", "0/9000100", null);
        assertThat(BackupChoice.forTarget(catalog, RecoveryTarget.time("2026-11-24T11:00:30Z")).backup()).isEqualTo(b1);
        assertThat(BackupChoice.forTarget(catalog, RecoveryTarget.time("2026-11-24T11:01:30Z")).backup()).isEqualTo(b2);
        assertThat(BackupChoice.forTarget(catalog, RecoveryTarget.lsn("0/9000000")).backup()).isEqualTo(b1);
        assertThat(BackupChoice.forTarget(catalog, RecoveryTarget.immediate("immediate")).backup()).isEqualTo(b2);
        assertThatThrownBy(() -> BackupChoice.forTarget(catalog, RecoveryTarget.lsn("0/1000000")))
                .isInstanceOf(LifeboatException.class).hasMessageContaining("before the end of the oldest");
    }

    @Test
    void snapshotsReadLikePostgresqlWritesThem() {
        XidSnapshot s = XidSnapshot.parse("800:810:801,805");
        assertThat(s.finished(799)).isTrue();
        assertThat(s.finished(801)).isFalse();
        assertThat(s.finished(802)).isTrue();
        assertThat(s.finished(810)).isFalse();
        assertThat(s).hasToString("800:810:801,805");
        // epoch 2: a 32-bit id is read in the snapshot's epoch, near xmax
        long epoch2 = 2L << 32;
        XidSnapshot wide = XidSnapshot.parse((epoch2 + 100) + ":" + (epoch2 + 200) + ":");
        assertThat(wide.finished(150)).isTrue();
        assertThat(wide.finished(250)).isFalse();
        assertThat(wide.finished(epoch2 + 250)).isFalse();
        assertThat(wide.finished(0xFFFFFFF0L)).isTrue(); // the end of epoch 1
        for (String bad : new String[] {"", "1:2", "5:3:", "800:810:900", "a:b:"}) {
            assertThatThrownBy(() -> XidSnapshot.parse(bad)).as(bad).isInstanceOf(LifeboatException.class);
        }
    }
}
