package io.lifeboat.engine.verify;

import io.lifeboat.catalog.BackupId;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The result of a restore drill, stored in the repository next to the backups
 * (&lt;cluster&gt;/drills/&lt;backup id&gt;/&lt;time&gt;.json) so `list` can say "proven restorable at T".
 *
 * @param checks what was checked, each with its outcome ("ok" or the problem)
 */
public record DrillRecord(BackupId backup, Instant time, boolean ok, double restoreSeconds, String restoredOnto,
                          Map<String, String> checks, List<String> problems) {
}
