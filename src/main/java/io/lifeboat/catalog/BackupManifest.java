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
    /**
     * The format of a logical backup that stores small dump files in tar bundles ("bundle-N.tar"
     * objects, see docs/logical.md); Lifeboat before it refuses such a manifest instead of handing
     * pg_restore a directory with files missing.
     */
    public static final int BUNDLES_FORMAT_VERSION = 2;
    /** The newest format this Lifeboat reads. */
    public static final int NEWEST_FORMAT_VERSION = BUNDLES_FORMAT_VERSION;

    /** A logical backup's bundle of small dump files: a tar whose members go into the dump directory. */
    public static boolean isBundle(String rawName) {
        String file = rawName.substring(rawName.lastIndexOf('/') + 1);
        return file.startsWith("bundle-") && file.endsWith(".tar");
    }

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
     * Physical backup facts. LSNs are in PostgreSQL's text form (0/16B3748). Fields after
     * {@code tablespaces} were added with the physical engine; manifests without them read as
     * null/0.
     *
     * @param timeline         the timeline the backup started on
     * @param backupLabel      the full text of PostgreSQL's backup_label
     * @param walIncluded      whether the WAL needed for consistency is stored with the backup
     * @param tablespaces      tablespace OID to original location
     * @param checkpointLsn    the backup's start checkpoint
     * @param stopTimeline     the timeline the backup ended on
     * @param walSegmentSize   the server's wal_segment_size in bytes
     * @param archives         the tar archives (base.tar, one per tablespace) and their chunk objects, in order
     * @param walSegments      object paths of the WAL segments (walIncluded), each restoring to pg_wal/
     * @param pgManifest       object path of PostgreSQL's own backup_manifest (for pg_verifybackup)
     * @param pgManifestVersion PostgreSQL-Backup-Manifest-Version of that file
     * @param stopSnapshot     pg_current_snapshot() just after the backup ended ("xmin:xmax:xip,..."): which
     *                         transactions had finished by then, so which --target-xid it can recover to;
     *                         null in older manifests or when the server allowed no SQL session
     * @param files            for backups with a file index (read by Lifeboat itself): the index and the chain of
     *                         backups it is put together from; null for backups restored from their tar archives alone
     */
    public record PhysicalDetails(String startLsn, String stopLsn, int timeline, String startWalSegment,
                                  String stopWalSegment, String backupLabel, boolean walIncluded,
                                  Map<String, String> tablespaces, String checkpointLsn, int stopTimeline,
                                  long walSegmentSize, List<TarArchive> archives, List<String> walSegments,
                                  String pgManifest, int pgManifestVersion, String stopSnapshot, IndexedFiles files) {

        public PhysicalDetails(String startLsn, String stopLsn, int timeline, String startWalSegment,
                               String stopWalSegment, String backupLabel, boolean walIncluded,
                               Map<String, String> tablespaces, String checkpointLsn, int stopTimeline,
                               long walSegmentSize, List<TarArchive> archives, List<String> walSegments,
                               String pgManifest, int pgManifestVersion, String stopSnapshot) {
            this(startLsn, stopLsn, timeline, startWalSegment, stopWalSegment, backupLabel, walIncluded, tablespaces,
                    checkpointLsn, stopTimeline, walSegmentSize, archives, walSegments, pgManifest, pgManifestVersion,
                    stopSnapshot, null);
        }

        public PhysicalDetails(String startLsn, String stopLsn, int timeline, String startWalSegment,
                               String stopWalSegment, String backupLabel, boolean walIncluded,
                               Map<String, String> tablespaces) {
            this(startLsn, stopLsn, timeline, startWalSegment, stopWalSegment, backupLabel, walIncluded, tablespaces,
                    null, timeline, 0, null, null, null, 0, null);
        }

        public PhysicalDetails(String startLsn, String stopLsn, int timeline, String startWalSegment,
                               String stopWalSegment, String backupLabel, boolean walIncluded,
                               Map<String, String> tablespaces, String checkpointLsn, int stopTimeline,
                               long walSegmentSize, List<TarArchive> archives, List<String> walSegments,
                               String pgManifest, int pgManifestVersion) {
            this(startLsn, stopLsn, timeline, startWalSegment, stopWalSegment, backupLabel, walIncluded, tablespaces,
                    checkpointLsn, stopTimeline, walSegmentSize, archives, walSegments, pgManifest, pgManifestVersion, null);
        }

        /** The WAL segment size; manifests written before it was recorded mean PostgreSQL's default. */
        public long segmentSize() {
            return walSegmentSize > 0 ? walSegmentSize : io.lifeboat.postgres.WalSegmentName.DEFAULT_SEGMENT_SIZE;
        }

        /** An incremental backup: restoring it needs its parent (and the parent's parents). */
        public boolean incremental() {
            return files != null && files.parent() != null;
        }
    }

    /**
     * A physical backup with a file index ({@link FileIndex}): a backup Lifeboat read from the data
     * directory itself (source local), full or incremental.
     *
     * @param index          object path of the file index
     * @param source         "local": read from the data directory between pg_backup_start and pg_backup_stop
     * @param parent         the backup this one is an incremental of; null for a full backup
     * @param chain          the backups it is put together from, the full backup first, its parent last (empty
     *                       for a full backup)
     * @param blockSize      the server's block size
     * @param dataBytes      the size of the data directory and tablespaces it restores to
     * @param storedFiles    files stored whole
     * @param blockFiles     relation files of which it holds only the blocks changed since its parent
     * @param storedBlocks   blocks it holds of those
     * @param dataChecksums  data_checksums of the server: hint-bit changes move page LSNs only with checksums or
     *                       wal_log_hints
     * @param walLogHints    wal_log_hints of the server
     * @param dataDirectory  the data directory read
     * @param inodes         whether the files' inode numbers were recorded (they tell a recreated file from the old one)
     */
    public record IndexedFiles(String index, String source, BackupId parent, List<BackupId> chain, int blockSize,
                               long dataBytes, long storedFiles, long blockFiles, long storedBlocks,
                               boolean dataChecksums, boolean walLogHints, String dataDirectory, boolean inodes) {
    }

    /**
     * One tar archive of a physical backup, stored as consecutive chunks: concatenating the decoded
     * chunks in order gives the tar file.
     *
     * @param name          base.tar or OID.tar
     * @param tablespaceOid null for base.tar
     * @param location      the tablespace's directory on the server; null for base.tar
     * @param rawBytes      size of the tar file
     * @param chunks        object paths (relative to the backup), in order
     */
    public record TarArchive(String name, String tablespaceOid, String location, long rawBytes, List<String> chunks) {
    }
}
