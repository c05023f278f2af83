package io.lifeboat.postgres;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The recovery part of a restored data directory (PostgreSQL 12+): settings appended to
 * postgresql.auto.conf, plus recovery.signal so the server replays WAL when it starts.
 *
 * @param restoreCommand e.g. "/usr/bin/lifeboat wal-fetch --cluster main %f %p"; null when all WAL
 *                       needed is already in pg_wal (self-contained backup)
 * @param target         recovery_target_* settings (name without the prefix → value), may be empty
 * @param targetAction   promote, pause or shutdown; null for PostgreSQL's default
 * @param targetTimeline "latest", "current" or a number; null for the default (latest)
 */
public record RecoverySettings(String restoreCommand, Map<String, String> target, String targetAction,
                               String targetTimeline) {

    public static RecoverySettings archiveRecovery(String restoreCommand) {
        return new RecoverySettings(restoreCommand, Map.of(), null, null);
    }

    public RecoverySettings withTargetTimeline(String tli) {
        return new RecoverySettings(restoreCommand, target, targetAction, tli);
    }

    public Map<String, String> settings() {
        Map<String, String> s = new LinkedHashMap<>();
        if (restoreCommand != null) {
            s.put("restore_command", restoreCommand);
        }
        target.forEach((k, v) -> s.put("recovery_target" + (k.isEmpty() ? "" : "_" + k), v));
        if (targetAction != null) {
            s.put("recovery_target_action", targetAction);
        }
        if (targetTimeline != null) {
            s.put("recovery_target_timeline", targetTimeline);
        }
        return s;
    }

    /** Writes the settings and recovery.signal into a restored (not running) data directory. */
    public void writeTo(Path dataDir) throws IOException {
        StringBuilder sb = new StringBuilder("\n# recovery settings written by lifeboat restore\n");
        settings().forEach((k, v) -> sb.append(k).append(" = '").append(v.replace("'", "''")).append("'\n"));
        Files.writeString(dataDir.resolve("postgresql.auto.conf"), sb.toString(), StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
        Files.writeString(dataDir.resolve("recovery.signal"), "", StandardOpenOption.CREATE);
    }
}
