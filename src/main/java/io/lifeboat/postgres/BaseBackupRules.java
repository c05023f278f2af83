package io.lifeboat.postgres;

import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What a base backup leaves out of a data directory, as pg_basebackup does (PostgreSQL's
 * basebackup.c, 15 and later): temporary files, files rebuilt or removed at start-up, the contents
 * of directories emptied at start-up (the directories stay, for their permissions), pg_wal's
 * segments, and in database directories the forks of unlogged relations except their init fork,
 * and temporary relations. Names are compared in every directory, as PostgreSQL does.
 */
public final class BaseBackupRules {
    /** Files and directories whose name starts with this are temporary (pgsql_tmp). */
    public static final String TEMP_PREFIX = "pgsql_tmp";
    private static final Set<String> FILES = Set.of("postgresql.auto.conf.tmp", "current_logfiles.tmp", "backup_label",
            "tablespace_map", "backup_manifest", "postmaster.pid", "postmaster.opts");
    private static final String RELCACHE_INIT = "pg_internal.init";
    private static final Set<String> CONTENTS = Set.of("pg_stat_tmp", "pg_replslot", "pg_dynshmem", "pg_notify",
            "pg_serial", "pg_snapshots", "pg_subtrans");
    private static final Pattern DIGITS = Pattern.compile("\\d+");

    private BaseBackupRules() {
    }

    /** Left out wherever it is: temporary files, the relation cache, a running server's own files. */
    public static boolean skipped(String name) {
        return name.startsWith(TEMP_PREFIX) || name.startsWith(RELCACHE_INIT) || FILES.contains(name);
    }

    /** A directory kept empty in the backup: PostgreSQL empties or rebuilds it at start-up. */
    public static boolean contentsSkipped(String name) {
        return CONTENTS.contains(name);
    }

    /**
     * Whether {@code name}, in a database directory whose entries are {@code siblings}, is left out:
     * a temporary relation, or a fork of an unlogged relation other than its init fork (the init fork
     * is copied over the main fork when the restored server starts).
     */
    public static boolean skippedInDatabase(String name, Set<String> siblings) {
        Optional<RelationFile> rel = RelationFile.parse(name);
        if (rel.isEmpty()) {
            return false;
        }
        RelationFile r = rel.get();
        if (r.temporary()) {
            return true;
        }
        return r.fork() != RelationFile.Fork.INIT && siblings.contains(r.initForkName());
    }

    /**
     * Whether a directory holds a database's relations: {@code base/OID} under the data directory,
     * or {@code VERSIONDIR/OID} under a tablespace's directory ({@code parentPath} is the directory
     * it is in, relative to its root; {@code versionDirectory} the tablespace version directory).
     */
    public static boolean isDatabaseDirectory(String parentPath, String name, String versionDirectory) {
        if (!DIGITS.matcher(name).matches()) {
            return false;
        }
        return parentPath.equals("base") || parentPath.equals(versionDirectory) || parentPath.endsWith("/" + versionDirectory);
    }

    /** The directory a tablespace holds for one server version: PG_15_202209061. */
    public static String tablespaceVersionDirectory(int major, long catalogVersion) {
        return "PG_" + major + "_" + catalogVersion;
    }
}
