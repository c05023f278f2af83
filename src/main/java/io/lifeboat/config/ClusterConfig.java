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
 * @param encryption    age recipients and identity, or null for unencrypted repositories
 * @param minRepositories how many repositories must store a backup or WAL file for it to count as done
 * @param localSource   physical backups read the data directory on this host ({@code source: local}) instead of
 *                      streaming it over the replication protocol
 * @param fullEvery     when a chain of incremental physical backups gets a new full backup; null: only on request
 */
public record ClusterConfig(String name, PgConnectionSettings postgres, List<RepositoryConfig> repositories, int jobs,
                            Path spoolDir, Path binDir, Path dataDirectory,
                            RetentionPolicy retention, boolean expireAfterBackup,
                            EncryptionConfig encryption, int minRepositories, boolean localSource, FullEvery fullEvery) {

    /** Physical backups over the replication protocol, full only. */
    public ClusterConfig(String name, PgConnectionSettings postgres, List<RepositoryConfig> repositories, int jobs,
                         Path spoolDir, Path binDir, Path dataDirectory,
                         RetentionPolicy retention, boolean expireAfterBackup,
                         EncryptionConfig encryption, int minRepositories) {
        this(name, postgres, repositories, jobs, spoolDir, binDir, dataDirectory, retention, expireAfterBackup, encryption,
                minRepositories, false, null);
    }

    /** Without encryption, every repository required. */
    public ClusterConfig(String name, PgConnectionSettings postgres, List<RepositoryConfig> repositories, int jobs,
                         Path spoolDir, Path binDir, Path dataDirectory,
                         RetentionPolicy retention, boolean expireAfterBackup) {
        this(name, postgres, repositories, jobs, spoolDir, binDir, dataDirectory, retention, expireAfterBackup, null,
                repositories.size());
    }

    /** The same settings against another server (e.g. a restore drill's scratch cluster). */
    public ClusterConfig withPostgres(PgConnectionSettings other) {
        return new ClusterConfig(name, other, repositories, jobs, spoolDir, binDir, dataDirectory, retention,
                expireAfterBackup, encryption, minRepositories, localSource, fullEvery);
    }

    /** The codec stage for objects written for this cluster. */
    public io.lifeboat.codec.Encryption encryptionStage() {
        return encryption == null ? io.lifeboat.codec.Encryption.NONE : encryption.stage();
    }

    public RepositoryConfig primaryRepository() {
        return repositories.get(0);
    }
}
