package io.lifeboat.catalog;

import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;

import java.io.IOException;
import java.util.List;

/**
 * Every file, directory and link of a physical backup read by Lifeboat itself (or indexed from the
 * server's tar stream), and where in the backup's tar archives each file's bytes are: stored as an
 * object of the backup next to its chunks, so that a restore can put files together from several
 * backups of a chain, a delta restore can compare an existing directory, and the next incremental
 * can tell what changed. Paths are relative to the data directory, tablespace files under
 * pg_tblspc/OID/ (as PostgreSQL's backup_manifest names them).
 *
 * @param blockSize the server's block size; relation files are tracked in blocks of this size
 */
public record FileIndex(int formatVersion, int blockSize, List<Entry> files) {
    public static final int FORMAT_VERSION = 1;
    private static final ObjectWriter WRITER = Json.MAPPER.writer().without(SerializationFeature.INDENT_OUTPUT)
            .forType(FileIndex.class);
    private static final ObjectReader READER = Json.MAPPER.readerFor(FileIndex.class);

    /**
     * One entry.
     *
     * @param path      relative to the data directory
     * @param type      f (regular file), d (directory) or l (symbolic link)
     * @param mode      permission bits
     * @param mtimeNs   modification time, nanoseconds since the epoch, as read
     * @param inode     the inode number on the server ({@code unix:ino}), 0 when unknown: a file with another
     *                  inode than in the parent backup is a new file, whatever its name
     * @param size      bytes (files)
     * @param link      the target (links)
     * @param archive   the tar archive of this backup holding what this backup stored of the file (base.tar,
     *                  OID.tar); null if it stored nothing of it
     * @param offset    for files stored whole: where their bytes start in the archive's tar stream
     * @param crc       CRC-32C of the whole file's content as a restore puts it together; null when unknown
     * @param blocks    tracked in blocks (relation data): {@code runs} say which blocks this backup holds, the
     *                  others come from the parent backup
     * @param runs      for block-tracked files: {first block, block count, offset in the archive's tar stream}
     * @param blockCrcs for block-tracked files: CRC-32C of each block this backup holds, in run order (4 bytes
     *                  little-endian each)
     * @param truncationBlocks set for a file the server sent as INCREMENTAL.* (PostgreSQL 17+ incremental over the
     *                  replication protocol): its truncation block length. Blocks below it that {@code runs} do not
     *                  hold come from older backups of the chain as pg_combinebackup takes them, the others are zeros.
     *                  Null for every other file.
     */
    public record Entry(String path, String type, int mode, long mtimeNs, long inode, long size, String link,
                        String archive, long offset, Integer crc, boolean blocks, List<long[]> runs, byte[] blockCrcs,
                        Long ctimeNs, Integer truncationBlocks) {

        public Entry(String path, String type, int mode, long mtimeNs, long inode, long size, String link,
                     String archive, long offset, Integer crc, boolean blocks, List<long[]> runs, byte[] blockCrcs,
                     Long ctimeNs) {
            this(path, type, mode, mtimeNs, inode, size, link, archive, offset, crc, blocks, runs, blockCrcs, ctimeNs, null);
        }

        public boolean isFile() {
            return "f".equals(type);
        }

        public boolean isDirectory() {
            return "d".equals(type);
        }

        public boolean isLink() {
            return "l".equals(type);
        }

        /** Blocks this backup holds of a block-tracked file. */
        public long storedBlocks() {
            if (runs == null) {
                return 0;
            }
            long n = 0;
            for (long[] r : runs) {
                n += r[1];
            }
            return n;
        }

        /** The CRC of the i-th block this backup holds. */
        public int blockCrc(int i) {
            int o = i * 4;
            return (blockCrcs[o] & 0xFF) | (blockCrcs[o + 1] & 0xFF) << 8 | (blockCrcs[o + 2] & 0xFF) << 16
                    | (blockCrcs[o + 3] & 0xFF) << 24;
        }
    }

    public byte[] toBytes() {
        try {
            return WRITER.writeValueAsBytes(this);
        } catch (IOException e) {
            throw new IllegalStateException("cannot serialise a file index", e);
        }
    }

    /** @param what names the object in errors */
    public static FileIndex parse(byte[] data, String what) {
        try {
            FileIndex i = READER.readValue(data);
            if (i.formatVersion() > FORMAT_VERSION) {
                throw new LifeboatException(ErrorKind.CONFLICT, what + " has format version " + i.formatVersion()
                        + ", newer than this Lifeboat understands", "upgrade Lifeboat to restore this backup");
            }
            if (i.files() == null || i.blockSize() <= 0) {
                throw new LifeboatException(ErrorKind.CORRUPT, what + " lists no files", "the backup is damaged");
            }
            return i;
        } catch (IOException e) {
            throw new LifeboatException(ErrorKind.CORRUPT, what + " is not a valid file index: " + e.getMessage(),
                    "the backup is damaged; restore another one", e);
        }
    }

    /** Packs CRCs as {@link Entry#blockCrcs} stores them. */
    public static byte[] packCrcs(int[] crcs, int count) {
        byte[] out = new byte[count * 4];
        for (int i = 0; i < count; i++) {
            int c = crcs[i];
            out[i * 4] = (byte) c;
            out[i * 4 + 1] = (byte) (c >>> 8);
            out[i * 4 + 2] = (byte) (c >>> 16);
            out[i * 4 + 3] = (byte) (c >>> 24);
        }
        return out;
    }
}
