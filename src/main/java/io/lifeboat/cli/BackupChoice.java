package io.lifeboat.cli;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.BackupEntry;
import io.lifeboat.catalog.BackupManifest;
import io.lifeboat.catalog.BackupType;
import io.lifeboat.catalog.Catalog;
import io.lifeboat.postgres.Lsn;
import io.lifeboat.postgres.RecoveryTarget;

import java.util.List;

/** Which physical backup a point-in-time recovery starts from: the newest that ends before the target. */
final class BackupChoice {
    private BackupChoice() {
    }

    static BackupManifest forTarget(Catalog catalog, RecoveryTarget target) {
        List<BackupManifest> physical = catalog.list().stream().filter(BackupEntry::complete).map(BackupEntry::manifest)
                .filter(m -> m.type() == BackupType.PHYSICAL && m.physical() != null).toList();
        if (physical.isEmpty()) {
            throw new LifeboatException(ErrorKind.NOT_FOUND, "no complete physical backup in " + catalog.storage().describe(),
                    "point-in-time recovery starts from a physical backup: take one with `lifeboat backup --type physical`");
        }
        List<BackupManifest> usable = switch (target.kind()) {
            case TIME -> physical.stream().filter(m -> m.stopTime().isBefore(target.instant())).toList();
            case LSN -> physical.stream().filter(m -> m.physical().stopLsn() != null
                    && Lsn.parse(m.physical().stopLsn()).compareTo(Lsn.parse(target.value())) <= 0).toList();
            default -> physical;
        };
        if (usable.isEmpty()) {
            BackupManifest oldest = physical.get(0);
            throw new LifeboatException(ErrorKind.NOT_FOUND, "the recovery target " + target.value() + " is before the end of "
                    + "the oldest physical backup (" + oldest.id() + " ended at " + oldest.stopTime() + ", LSN "
                    + oldest.physical().stopLsn() + ")", "choose a later target; a backup can only be recovered forward "
                    + "from where it ends");
        }
        return usable.get(usable.size() - 1);
    }
}
