package io.lifeboat.engine.retention;

import io.lifeboat.catalog.BackupId;

import java.util.List;

/**
 * What expiring would delete, with the reason for each backup, so `expire --dry-run` can show it.
 *
 * @param oldestNeededSegment the first WAL segment number kept (WAL below it on every timeline goes),
 *                            or -1 when no WAL is deleted
 */
public record RetentionPlan(List<Decision> backups, List<String> walToDelete, long oldestNeededSegment) {
    public record Decision(BackupId id, boolean keep, String reason) {
    }

    public List<BackupId> backupsToDelete() {
        return backups.stream().filter(d -> !d.keep()).map(Decision::id).toList();
    }
}
