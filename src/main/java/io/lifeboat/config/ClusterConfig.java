package io.lifeboat.config;

import io.lifeboat.postgres.PgConnectionSettings;

import java.nio.file.Path;
import java.util.List;

/**
 * Settings of one named cluster ("stanza").
 *
 * @param jobs          parallel jobs for pg_dump/pg_restore and uploads (default: CPU cores)
 * @param spoolDir      where pg_dump -Fd output is staged before upload
 * @param binDir        PostgreSQL bin directory to prefer, or null to discover
 * @param dataDirectory the server's data directory (for wal-push and physical restore), or null
 * @param retention     retention policy, or null when none is configured
 * @param expireAfterBackup run `expire` after each successful backup
 */
public record ClusterConfig(String name, PgConnectionSettings postgres, List<RepositoryConfig> repositories, int jobs,
                            Path spoolDir, Path binDir, Path dataDirectory,
                            io.lifeboat.engine.retention.RetentionPolicy retention, boolean expireAfterBackup) {

    public RepositoryConfig primaryRepository() {
        return repositories.get(0);
    }
}
