package io.lifeboat.catalog;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The record of one complete backup, written last (invariant 3). It names every object with its
 * size and checksum and the codecs, never a secret. {@code formatVersion} lets later versions
 * change the format without misreading old backups.
 *
 * @param logical  set for logical backups
 * @param physical set for physical backups
 * @param extra    free-form facts (tool versions, host names) shown by `show`
 */
public record BackupManifest(
        int formatVersion,
        BackupId id,
        BackupType type,
        String cluster,
        Instant startTime,
        Instant stopTime,
        int pgVersionNum,
        String systemIdentifier,
        String compression,
        String encryption,
        List<StoredObject> objects,
        LogicalDetails logical,
        PhysicalDetails physical,
        Map<String, String> extra) {

    public static final int FORMAT_VERSION = 1;

    public long storedBytes() {
        return objects.stream().mapToLong(StoredObject::size).sum();
    }

    public long rawBytes() {
        return objects.stream().mapToLong(StoredObject::rawSize).sum();
    }

    /**
     * @param databases     the databases dumped, each in its own directory named after its index
     * @param globals       object path of the pg_dumpall --globals-only script, or null
     * @param pgDumpVersion version of the pg_dump that wrote the archives (pg_restore must be as new)
     */
    public record LogicalDetails(List<DumpedDatabase> databases, String globals, String pgDumpVersion, int jobs) {
    }

    /** @param directory the directory (relative to the backup) holding this database's pg_dump -Fd files */
    public record DumpedDatabase(String name, String directory, long sizeBytes) {
    }

    /**
     * Physical backup facts. LSNs are in PostgreSQL's text form (0/16B3748).
     *
     * @param walIncluded whether the WAL needed for consistency is stored with the backup
     * @param tablespaces tablespace OID to original location
     */
    public record PhysicalDetails(String startLsn, String stopLsn, int timeline, String startWalSegment,
                                  String stopWalSegment, String backupLabel, boolean walIncluded,
                                  Map<String, String> tablespaces) {
    }
}
