package io.lifeboat.catalog;

import java.time.Instant;

/**
 * cluster.json: ties a repository prefix to one PostgreSQL cluster, so two clusters can never mix
 * their backups or WAL in one prefix.
 *
 * @param systemIdentifier from pg_control; null when the first backup could not read it (logical
 *                         backups by an unprivileged role)
 */
public record ClusterInfo(int formatVersion, String cluster, String systemIdentifier, int pgMajor, Instant created) {
}
