package io.lifeboat.engine.logical;

import io.lifeboat.catalog.BackupId;
import io.lifeboat.postgres.PgConnectionSettings;

import java.nio.file.Path;
import java.util.List;

/**
 * What to restore, and where.
 *
 * @param backup             the backup, or null for the newest complete logical backup
 * @param databases          the databases inside the backup; empty: the only one it holds
 * @param allDatabases       every database of the backup (in its order: template1 first, as pg_dumpall)
 * @param targetDatabase     the database to restore into (one database only); null means the source's name
 * @param target             the server to restore onto (any version the dump can go to); its database is
 *                           only a last resort for connecting: postgres, then template1 come first
 * @param overwrite          allow restoring into a non-empty database (pg_restore --clean --if-exists)
 * @param globals            run the stored roles/tablespaces script first (errors for existing roles are ignored)
 * @param noOwner            skip ownership and privileges (for servers without the original roles)
 * @param noTablespaces      create everything in the default tablespace (pg_restore --no-tablespaces)
 * @param scratchTablespaces for scratch servers (drills): tablespaces the backup needs are created in
 *                           directories under this one, never at their original places; null otherwise
 */
public record LogicalRestoreRequest(BackupId backup, List<String> databases, boolean allDatabases, String targetDatabase,
                                    PgConnectionSettings target, boolean overwrite, boolean globals, boolean noOwner,
                                    boolean noTablespaces, Path scratchTablespaces, int jobs, boolean checkSpace) {

    public LogicalRestoreRequest {
        databases = databases == null ? List.of() : List.copyOf(databases);
    }

    /** One database (or the backup's only one, when null). */
    public LogicalRestoreRequest(BackupId backup, String sourceDatabase, String targetDatabase, PgConnectionSettings target,
                                 boolean overwrite, boolean globals, boolean noOwner, int jobs, boolean checkSpace) {
        this(backup, sourceDatabase == null ? List.of() : List.of(sourceDatabase), false, targetDatabase, target, overwrite,
                globals, noOwner, false, null, jobs, checkSpace);
    }

    public LogicalRestoreRequest withScratchTablespaces(Path dir) {
        return new LogicalRestoreRequest(backup, databases, allDatabases, targetDatabase, target, overwrite, globals, noOwner,
                noTablespaces, dir, jobs, checkSpace);
    }
}
