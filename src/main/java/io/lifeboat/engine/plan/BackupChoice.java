package io.lifeboat.engine.plan;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.BackupEntry;
import io.lifeboat.catalog.BackupManifest;
import io.lifeboat.catalog.BackupType;
import io.lifeboat.catalog.Catalog;
import io.lifeboat.postgres.Lsn;
import io.lifeboat.postgres.RecoveryTarget;
import io.lifeboat.postgres.XidSnapshot;

import java.util.List;

/**
 * Which physical backup a point-in-time recovery starts from: the newest that can reach the
 * target, which must come after the backup's end (recovery is consistent only there). Time and LSN
 * targets compare with the backup's end; an xid target with the transactions the backup's manifest
 * says had finished when it ended. Where nothing is recorded (restore points; xids and older
 * manifests), the oldest backup, which reaches every target after its end.
 */
public final class BackupChoice {
    private BackupChoice() {
    }

    /** @param note why this backup, when that is worth saying (null otherwise) */
    public record Choice(BackupManifest backup, String note) {
    }

    public static Choice forTarget(Catalog catalog, RecoveryTarget target) {
        return forTarget(catalog.list().stream().filter(BackupEntry::complete).map(BackupEntry::manifest).toList(),
                catalog.storage().describe(), target);
    }

    /**
     * The same choice over complete backups already read (oldest first), as the restore planner
     * makes it: the planner and `restore` cannot disagree.
     *
     * @param where the repository, for the message when it holds no physical backup
     */
    public static Choice forTarget(List<BackupManifest> complete, String where, RecoveryTarget target) {
        List<BackupManifest> physical = complete.stream()
                .filter(m -> m.type() == BackupType.PHYSICAL && m.physical() != null).toList();
        if (physical.isEmpty()) {
            throw new LifeboatException(ErrorKind.NOT_FOUND, "no complete physical backup in " + where,
                    "point-in-time recovery starts from a physical backup: take one with `lifeboat backup --type physical`");
        }
        BackupManifest oldest = physical.get(0);
        return switch (target.kind()) {
            case TIME -> newest(physical.stream().filter(m -> m.stopTime().isBefore(target.instant())).toList(), target, oldest);
            case LSN -> newest(physical.stream().filter(m -> m.physical().stopLsn() != null
                    && Lsn.parse(m.physical().stopLsn()).compareTo(Lsn.parse(target.value())) <= 0).toList(), target, oldest);
            case XID -> forXid(physical, target);
            case NAME -> new Choice(oldest, physical.size() == 1 ? null : "where a restore point was created is not "
                    + "recorded: recovering from the oldest physical backup, " + oldest.id() + ", which reaches every "
                    + "restore point created after it ended (" + oldest.stopTime() + "); --backup ID starts from a later one");
            case IMMEDIATE -> new Choice(physical.get(physical.size() - 1), null);
        };
    }

    private static Choice newest(List<BackupManifest> usable, RecoveryTarget target, BackupManifest oldest) {
        if (usable.isEmpty()) {
            throw beforeOldest(target, oldest);
        }
        return new Choice(usable.get(usable.size() - 1), null);
    }

    /**
     * The newest backup by whose end the transaction had not finished (it commits later, in WAL the
     * backup's recovery replays). Once one backup proves it finished, every later one does too.
     */
    private static Choice forXid(List<BackupManifest> physical, RecoveryTarget target) {
        long xid = Long.parseLong(target.value());
        for (int i = physical.size() - 1; i >= 0; i--) {
            String snapshot = physical.get(i).physical().stopSnapshot();
            if (snapshot != null && !XidSnapshot.parse(snapshot).finished(xid)) {
                return new Choice(physical.get(i), null);
            }
        }
        BackupManifest oldest = physical.get(0);
        if (oldest.physical().stopSnapshot() != null) {
            throw new LifeboatException(ErrorKind.NOT_FOUND, "transaction " + xid + " had already finished when the oldest "
                    + "physical backup, " + oldest.id() + ", ended (" + oldest.stopTime() + "): no backup can recover to it",
                    "a backup can only be recovered forward from where it ends; check the transaction id");
        }
        return new Choice(oldest, "no backup records which transactions had finished by its end: recovering from the "
                + "oldest physical backup, " + oldest.id() + ", which reaches transaction " + xid + " if it finished after "
                + oldest.stopTime() + "; --backup ID starts from a later one");
    }

    private static LifeboatException beforeOldest(RecoveryTarget target, BackupManifest oldest) {
        return new LifeboatException(ErrorKind.NOT_FOUND, "the recovery target " + target.value() + " is before the end of "
                + "the oldest physical backup (" + oldest.id() + " ended at " + oldest.stopTime() + ", LSN "
                + oldest.physical().stopLsn() + ")", "choose a later target; a backup can only be recovered forward "
                + "from where it ends");
    }
}
