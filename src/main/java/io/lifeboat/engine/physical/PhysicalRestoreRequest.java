package io.lifeboat.engine.physical;

import io.lifeboat.catalog.BackupId;
import io.lifeboat.postgres.RecoverySettings;
import io.lifeboat.postgres.RestoredServerSettings;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * What to restore, and where.
 *
 * @param backup         the backup, or null for the newest complete physical backup
 * @param dataDirectory  the new data directory: absent or empty
 * @param tablespaceMap  where tablespaces go instead of their original locations (which must then be absent or empty)
 * @param recovery       recovery settings to write (PITR targets, restore_command); null for the default: none
 *                       for a backup with its WAL (the server replays pg_wal and starts), else archive recovery
 *                       with {@code restoreCommand}
 * @param restoreCommand the restore_command for the default recovery of a backup without WAL, e.g.
 *                       "/usr/bin/lifeboat wal-fetch --cluster main %f %p"
 * @param owner          OS user to own the files when running as root; null picks one (see Ownership)
 * @param verify         run pg_verifybackup on the result when a matching one is installed
 * @param start          start the server afterwards and wait until recovery is over
 * @param port           port for the started server (pg_ctl -o "-p N"); null keeps the configured one
 * @param startTimeout   how long to wait for the server to finish recovery
 * @param jobs           parallel downloads
 * @param checkSpace     refuse to start when a target filesystem is too small
 * @param sync           flush every restored file and directory to disk before reporting success (off only
 *                       for scratch restores such as drills)
 * @param server         whether the restored server archives and whether it is a standby (default: neither)
 * @param delta          restore into an existing data directory of the same cluster (stopped), writing only what
 *                       differs and removing what the backup does not hold
 * @param trustUnchanged with delta: files unchanged since the last restore into the directory recorded them (inode,
 *                       size, mtime, ctime; see RestoredState) are compared by that backup's CRCs instead of being read
 */
public record PhysicalRestoreRequest(BackupId backup, Path dataDirectory, List<TablespaceMapping> tablespaceMap,
                                     RecoverySettings recovery, String restoreCommand, String owner, boolean verify,
                                     boolean start, Integer port, Duration startTimeout, int jobs, boolean checkSpace,
                                     boolean sync, RestoredServerSettings server, boolean delta,
                                     boolean trustUnchanged) {

    /** A restore that reads every file it compares. */
    public PhysicalRestoreRequest(BackupId backup, Path dataDirectory, List<TablespaceMapping> tablespaceMap,
                                  RecoverySettings recovery, String restoreCommand, String owner, boolean verify,
                                  boolean start, Integer port, Duration startTimeout, int jobs, boolean checkSpace,
                                  boolean sync, RestoredServerSettings server, boolean delta) {
        this(backup, dataDirectory, tablespaceMap, recovery, restoreCommand, owner, verify, start, port, startTimeout, jobs,
                checkSpace, sync, server, delta, false);
    }

    /** A restore into an absent or empty directory. */
    public PhysicalRestoreRequest(BackupId backup, Path dataDirectory, List<TablespaceMapping> tablespaceMap,
                                  RecoverySettings recovery, String restoreCommand, String owner, boolean verify,
                                  boolean start, Integer port, Duration startTimeout, int jobs, boolean checkSpace,
                                  boolean sync, RestoredServerSettings server) {
        this(backup, dataDirectory, tablespaceMap, recovery, restoreCommand, owner, verify, start, port, startTimeout, jobs,
                checkSpace, sync, server, false);
    }

    /** A restore whose server neither archives nor follows a primary. */
    public PhysicalRestoreRequest(BackupId backup, Path dataDirectory, List<TablespaceMapping> tablespaceMap,
                                  RecoverySettings recovery, String restoreCommand, String owner, boolean verify,
                                  boolean start, Integer port, Duration startTimeout, int jobs, boolean checkSpace,
                                  boolean sync) {
        this(backup, dataDirectory, tablespaceMap, recovery, restoreCommand, owner, verify, start, port, startTimeout, jobs,
                checkSpace, sync, RestoredServerSettings.DEFAULT);
    }

    /** A restore into {@code dataDirectory} with defaults: verify, no start. */
    public static PhysicalRestoreRequest into(Path dataDirectory, int jobs) {
        return new PhysicalRestoreRequest(null, dataDirectory, List.of(), null, null, null, true, false, null,
                Duration.ofHours(1), jobs, true, true);
    }

    public PhysicalRestoreRequest withBackup(BackupId id) {
        return new PhysicalRestoreRequest(id, dataDirectory, tablespaceMap, recovery, restoreCommand, owner, verify, start,
                port, startTimeout, jobs, checkSpace, sync, server, delta, trustUnchanged);
    }

    public PhysicalRestoreRequest withRecovery(RecoverySettings r) {
        return new PhysicalRestoreRequest(backup, dataDirectory, tablespaceMap, r, restoreCommand, owner, verify, start,
                port, startTimeout, jobs, checkSpace, sync, server, delta, trustUnchanged);
    }

    public PhysicalRestoreRequest withStart(boolean s, Integer p) {
        return new PhysicalRestoreRequest(backup, dataDirectory, tablespaceMap, recovery, restoreCommand, owner, verify, s,
                p, startTimeout, jobs, checkSpace, sync, server, delta, trustUnchanged);
    }

    public PhysicalRestoreRequest withTablespaceMap(List<TablespaceMapping> map) {
        return new PhysicalRestoreRequest(backup, dataDirectory, map, recovery, restoreCommand, owner, verify, start, port,
                startTimeout, jobs, checkSpace, sync, server, delta, trustUnchanged);
    }
}
