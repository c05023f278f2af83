package io.lifeboat.engine.physical;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.FileIndex;
import io.lifeboat.postgres.IncrementalFile;
import io.lifeboat.postgres.RelationFile;
import io.lifeboat.postgres.TarStreamWatcher;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Builds a {@link FileIndex} from the tar streams BASE_BACKUP sends, as they pass by through each
 * archive's {@link TarStreamWatcher} (nothing is buffered but one block and an incremental file's header): every member with its place in its
 * archive's stream and its CRC-32C; relation files block by block, so that a later incremental can
 * take blocks of them; a PostgreSQL 17 {@code INCREMENTAL.<file>} member as the relation file it
 * stands for, with the blocks it holds and its truncation block length ({@link IncrementalFile}).
 */
final class ServerTarIndex {
    private final int blockSize;
    private final int segmentBlocks;
    private final List<FileIndex.Entry> entries = new ArrayList<>();

    private String archive;
    private String prefix;
    private Member member;

    /** @param segmentBlocks blocks per relation segment (RELSEG_SIZE) */
    ServerTarIndex(int blockSize, int segmentBlocks) {
        this.blockSize = blockSize;
        this.segmentBlocks = segmentBlocks;
    }

    /**
     * A new archive begins: base.tar (tablespaceOid null) or OID.tar, whose files go under
     * pg_tblspc/OID/; returns what follows its members (the archive's own {@link TarStreamWatcher}
     * walks the tar, and its offsets start at 0).
     */
    TarStreamWatcher.Members archive(String name, String tablespaceOid) {
        checkBetweenMembers();
        archive = name;
        prefix = tablespaceOid == null ? "" : "pg_tblspc/" + tablespaceOid + "/";
        return new TarStreamWatcher.Members() {
            @Override
            public void header(byte[] header, String member, long dataOffset, long dataLength) {
                onHeader(header, member, dataOffset, dataLength);
            }

            @Override
            public void data(byte[] b, int off, int len) {
                if (member != null) {
                    member.data(b, off, len);
                }
            }

            @Override
            public void end() {
                if (member != null) {
                    entries.add(member.entry());
                    member = null;
                }
            }
        };
    }

    /** The index of everything fed; fails if an archive ended in the middle of a member. */
    FileIndex index() {
        checkBetweenMembers();
        return new FileIndex(FileIndex.FORMAT_VERSION, blockSize, List.copyOf(entries));
    }

    private void checkBetweenMembers() {
        if (member != null) {
            throw new LifeboatException(ErrorKind.DATABASE, "the server's archive " + archive + " ended in the middle of "
                    + member.path, "run the backup again");
        }
    }

    private void onHeader(byte[] header, String tarName, long dataOffset, long size) {
        String name = tarName;
        while (name.endsWith("/")) {
            name = name.substring(0, name.length() - 1);
        }
        if (name.startsWith("./")) {
            name = name.substring(2);
        }
        int mode = (int) TarStreamWatcher.octal(header, 100, 8);
        long mtimeNs = TarStreamWatcher.octal(header, 136, 12) * 1_000_000_000L;
        byte type = header[156];
        String path = prefix + name;
        switch (type) {
            case '0', 0, '7' -> member = new Member(path, mode, mtimeNs, size, dataOffset);
            case '5' -> entries.add(new FileIndex.Entry(path, "d", mode, mtimeNs, 0, 0, null, null, 0, null, false, null,
                    null, null));
            case '2' -> entries.add(new FileIndex.Entry(path, "l", mode, mtimeNs, 0, 0,
                    TarStreamWatcher.cString(header, 157, 100), null, 0, null, false, null, null, null));
            default -> throw new LifeboatException(ErrorKind.DATABASE, "the server's archive " + archive + " holds "
                    + path + " as a tar member of type '" + (char) type + "', which PostgreSQL does not write",
                    "report this together with the PostgreSQL version");
        }
    }

    /** Whether PostgreSQL may send a later backup of this file as INCREMENTAL.*: a relation segment of whole blocks. */
    private static boolean relationFile(String path) {
        int slash = path.lastIndexOf('/');
        String dir = slash < 0 ? "" : path.substring(0, slash);
        boolean inDatabase = dir.equals("global") || dir.startsWith("base/") || dir.startsWith("pg_tblspc/");
        return inDatabase && RelationFile.parse(path.substring(slash + 1)).filter(r -> !r.temporary()).isPresent();
    }

    /** One regular file being read. */
    private final class Member {
        final String path;
        final int mode;
        final long mtimeNs;
        final long size;
        final long dataStart;
        final String relation; // the file an INCREMENTAL.* member stands for, else null
        final boolean blocks;
        final CRC32C whole = new CRC32C();
        final byte[] block;
        int blockFill;
        int[] crcs = new int[16];
        int crcCount;
        ByteArrayOutputStream head;
        int headNeed = IncrementalFile.FIXED_BYTES;
        IncrementalFile incremental;
        long read;

        Member(String path, int mode, long mtimeNs, long size, long dataStart) {
            int slash = path.lastIndexOf('/');
            String file = path.substring(slash + 1);
            String rel = IncrementalFile.relationName(file);
            this.relation = rel == null ? null : path.substring(0, slash + 1) + rel;
            this.path = relation != null ? relation : path;
            this.mode = mode;
            this.mtimeNs = mtimeNs;
            this.size = size;
            this.dataStart = dataStart;
            this.blocks = relation != null || (size > 0 && size % blockSize == 0 && relationFile(path));
            this.block = blocks ? new byte[blockSize] : null;
            if (relation != null) {
                head = new ByteArrayOutputStream();
            }
        }

        void data(byte[] b, int off, int len) {
            read += len;
            if (head != null) {
                int n = Math.min(len, headNeed - head.size());
                head.write(b, off, n);
                off += n;
                len -= n;
                if (head.size() == IncrementalFile.FIXED_BYTES && headNeed == IncrementalFile.FIXED_BYTES) {
                    headNeed = IncrementalFile.headerLength(head.toByteArray(), blockSize, segmentBlocks, what());
                    int more = Math.min(len, headNeed - head.size());
                    head.write(b, off, more);
                    off += more;
                    len -= more;
                }
                if (head.size() == headNeed) {
                    incremental = IncrementalFile.parse(head.toByteArray(), size, blockSize, segmentBlocks, what());
                    head = null;
                }
                if (len == 0) {
                    return;
                }
            }
            if (!blocks) {
                whole.update(b, off, len);
                return;
            }
            while (len > 0) {
                int n = Math.min(len, blockSize - blockFill);
                System.arraycopy(b, off, block, blockFill, n);
                blockFill += n;
                off += n;
                len -= n;
                if (blockFill == blockSize) {
                    if (crcCount == crcs.length) {
                        crcs = Arrays.copyOf(crcs, crcs.length * 2);
                    }
                    crcs[crcCount++] = io.lifeboat.codec.Crc32c.of(block, 0, blockSize);
                    blockFill = 0;
                }
            }
        }

        String what() {
            return "INCREMENTAL." + relation.substring(relation.lastIndexOf('/') + 1) + " in " + archive + " ("
                    + prefix + relation + ")";
        }

        FileIndex.Entry entry() {
            if (!blocks) {
                return new FileIndex.Entry(path, "f", mode, mtimeNs, 0, size, null, size == 0 ? null : archive, dataStart,
                        (int) whole.getValue(), false, null, null, null);
            }
            if (relation == null) {
                return new FileIndex.Entry(path, "f", mode, mtimeNs, 0, size, null, archive, dataStart, null, true,
                        List.<long[]>of(new long[] {0, crcCount, dataStart}), FileIndex.packCrcs(crcs, crcCount), null);
            }
            if (incremental == null) {
                IncrementalFile.parse(head.toByteArray(), size, blockSize, segmentBlocks, what()); // throws: truncated
            }
            int[] numbers = incremental.blocks();
            List<long[]> runs = new ArrayList<>();
            long at = dataStart + incremental.headerLength();
            for (int i = 0; i < numbers.length; ) {
                int j = i + 1;
                while (j < numbers.length && numbers[j] == numbers[j - 1] + 1) {
                    j++;
                }
                runs.add(new long[] {numbers[i], j - i, at + (long) i * blockSize});
                i = j;
            }
            return new FileIndex.Entry(path, "f", mode, mtimeNs, 0, (long) incremental.reconstructedBlocks() * blockSize,
                    null, numbers.length == 0 ? null : archive, dataStart, null, true, runs,
                    FileIndex.packCrcs(crcs, crcCount), null, incremental.truncationBlocks());
        }
    }
}
