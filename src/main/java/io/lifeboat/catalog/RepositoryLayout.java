package io.lifeboat.catalog;

import io.lifeboat.config.ClusterName;
import io.lifeboat.storage.Keys;

/**
 * Where things live in a repository, one prefix per cluster (DESIGN.md "Repository layout"). The
 * only place that knows these paths.
 */
public record RepositoryLayout(String cluster) {
    public static final String MANIFEST = "manifest.json";

    public RepositoryLayout {
        ClusterName.check(cluster);
    }

    public String clusterInfo() {
        return Keys.join(cluster, "cluster.json");
    }

    public String backupsPrefix() {
        return cluster + "/backups/";
    }

    public String backupDir(BackupId id) {
        return Keys.join(cluster, "backups", id.toString());
    }

    public String backupObject(BackupId id, String relative) {
        return Keys.join(backupDir(id), relative);
    }

    public String manifest(BackupId id) {
        return backupObject(id, MANIFEST);
    }

    /** Restore drill results of one backup. */
    public String drillsDir(BackupId id) {
        return Keys.join(cluster, "drills", id.toString());
    }

    /** The agent's lease (who serves this cluster) and its last reported state. */
    public String agentLease() {
        return Keys.join(cluster, "agent", "lease.json");
    }

    /** Records of the agent's scheduled runs, one object per run. */
    public String jobsPrefix() {
        return cluster + "/jobs/";
    }

    public String walPrefix() {
        return cluster + "/wal/";
    }
}
