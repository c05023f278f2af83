package io.lifeboat.engine.verify;

import io.lifeboat.catalog.BackupId;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The result of a restore drill, stored in the repository next to the backups
 * (&lt;cluster&gt;/drills/&lt;backup id&gt;/&lt;time&gt;.json) so `list` can say "proven restorable at T".
 *
 * @param restoreSeconds  logical: restore and checks; physical: restore and recovery, until the copy accepted connections
 * @param checks          what was checked, each with its outcome ("ok" or the problem)
 * @param recoveredTo     physical: the LSN where WAL replay ended (end of the archive); null for logical drills
 * @param lastTransaction physical: the time of the last replayed commit, as the server logged it; null if unknown
 * @param target          physical: the recovery target the drill recovered to ("time 2026-…", "lsn 0/…"); null for
 *                        the end of the archive
 */
public record DrillRecord(BackupId backup, Instant time, boolean ok, double restoreSeconds, String restoredOnto,
                          Map<String, String> checks, List<String> problems, String recoveredTo, String lastTransaction,
                          String target) {

    public DrillRecord(BackupId backup, Instant time, boolean ok, double restoreSeconds, String restoredOnto,
                       Map<String, String> checks, List<String> problems, String recoveredTo, String lastTransaction) {
        this(backup, time, ok, restoreSeconds, restoredOnto, checks, problems, recoveredTo, lastTransaction, null);
    }

    public DrillRecord(BackupId backup, Instant time, boolean ok, double restoreSeconds, String restoredOnto,
                       Map<String, String> checks, List<String> problems) {
        this(backup, time, ok, restoreSeconds, restoredOnto, checks, problems, null, null);
    }
}
