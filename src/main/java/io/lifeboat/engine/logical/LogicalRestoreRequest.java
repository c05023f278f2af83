package io.lifeboat.engine.logical;

import io.lifeboat.catalog.BackupId;
import io.lifeboat.postgres.PgConnectionSettings;

/**
 * What to restore, and where.
 *
 * @param backup         the backup, or null for the newest complete logical backup
 * @param sourceDatabase the database inside the backup; null if the backup has exactly one
 * @param targetDatabase the database to restore into; null means the source's name
 * @param target         the server to restore onto (any version the dump can go to)
 * @param overwrite      allow restoring into a non-empty database (pg_restore --clean --if-exists)
 * @param globals        run the stored roles/tablespaces script first (errors for existing roles are ignored)
 * @param noOwner        skip ownership (for servers without the original roles)
 */
public record LogicalRestoreRequest(BackupId backup, String sourceDatabase, String targetDatabase,
                                    PgConnectionSettings target, boolean overwrite, boolean globals, boolean noOwner,
                                    int jobs, boolean checkSpace) {
}
