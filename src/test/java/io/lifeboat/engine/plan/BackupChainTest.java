package io.lifeboat.engine.plan;

import io.lifeboat.catalog.BackupManifest;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class BackupChainTest {
    final PlanFixture fx = new PlanFixture();

    @Test
    void aChainGoesBackToItsFullBackup() {
        BackupManifest full = fx.physical(2, 3);
        BackupManifest i1 = fx.incremental(full, 5, 6, 10);
        BackupManifest i2 = fx.incremental(i1, 8, 9, 20);
        BackupChain c = BackupChain.of(i2, fx.backups);
        assertThat(c.members()).containsExactly(full, i1, i2);
        assertThat(c.parents()).containsExactly(full, i1);
        assertThat(c.complete()).isTrue();
        assertThat(c.rawBytes()).isEqualTo(full.rawBytes() + i1.rawBytes() + i2.rawBytes());
        assertThat(BackupChain.of(full, fx.backups).incremental()).isFalse();
        // the middle one gone: the chain stops there, naming it
        BackupChain broken = BackupChain.of(i2, List.of(full, i2));
        assertThat(broken.complete()).isFalse();
        assertThat(broken.missing()).isEqualTo(i1.id());
        assertThat(broken.members()).containsExactly(i2);
    }

    @Test
    void onlyAnIncrementalFactWithABackupIdNamesAParent() {
        BackupManifest full = fx.physical(2, 3);
        assertThat(BackupChain.parent(full)).isNull();
        assertThat(BackupChain.parent(fx.physical(4, 5, PlanFixture.at(5), 1, Map.of("kind", "full")))).isNull();
        assertThat(BackupChain.parent(fx.physical(6, 7, PlanFixture.at(7), 1, Map.of("kind", "incremental of soup"))))
                .isNull();
        // a parent newer than the backup (a loop, or a forged manifest) is a broken chain, not an endless one
        BackupManifest newer = fx.physical(20, 21);
        BackupManifest odd = fx.incremental(newer, 8, 9, 1);
        BackupManifest loop = fx.physical(30, 31, PlanFixture.at(31), 1, Map.of("kind", "incremental of " + odd.id()));
        assertThat(BackupChain.of(odd, fx.backups).missing()).isEqualTo(newer.id());
        assertThat(BackupChain.of(loop, fx.backups).complete()).isFalse();
    }
}
