package io.lifeboat.engine.physical;

import io.lifeboat.catalog.BackupManifest;
import io.lifeboat.catalog.FileIndex;
import io.lifeboat.engine.Progress;
import io.lifeboat.postgres.PgManifestWriter;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.function.Function;
import java.util.zip.CRC32C;

/**
 * Turns the listed contents of a data directory into the tar archives of a backup (base.tar,
 * OID.tar, each cut into chunks and stored by the uploader), with files read by several readers
 * at once and written in order; and records, as it goes, the file index and the entries of
 * PostgreSQL's backup_manifest. A file stored whole is an ordinary tar member; of a relation file
 * of an incremental only the runs of changed blocks are stored, each as a member named
 * {@code <file>.lifeboat-blocks-<first block>}.
 */
final class LocalArchiveWriter {
    static final String BLOCKS_SUFFIX = ".lifeboat-blocks-";
    static final int PIECE_BYTES = 4 << 20;

    /**
     * How one file is stored.
     *
     * @param rule        null: the file as it is (not block-tracked); else which of its blocks to keep
     * @param whole       block-tracked but every block stored, as one ordinary member
     * @param parentCrcs  for a file stored in part: the CRC of each block the parent holds
     * @param unread      a file stored in part that is not read at all: untouched since the parent read it
     */
    record FilePlan(PieceReader.BlockRule rule, boolean whole, int[] parentCrcs, boolean unread) {
        static final FilePlan PLAIN = new FilePlan(null, true, null, false);
        static final FilePlan ALL_BLOCKS = new FilePlan(PieceReader.BlockRule.ALL, true, null, false);

        FilePlan(PieceReader.BlockRule rule, boolean whole, int[] parentCrcs) {
            this(rule, whole, parentCrcs, false);
        }
    }

    /** What was written. */
    record Result(List<BackupManifest.TarArchive> archives, List<FileIndex.Entry> index,
                  List<PgManifestWriter.File> pgFiles, long storedFiles, long blockFiles, long storedBlocks,
                  long dataBytes, long blocksUnlikeTheChain, long unreadFiles) {
    }

    private final ParallelUploader uploader;
    private final ChunkedArchive.BufferPool chunks;
    private final Map<String, String> tablespaceLocations;
    private final int blockSize;
    private final int readers;
    private final Progress progress;
    private final List<BackupManifest.TarArchive> archives = new ArrayList<>();
    private final List<FileIndex.Entry> index = new ArrayList<>();
    private final List<PgManifestWriter.File> pgFiles = new ArrayList<>();
    private final BlockingQueue<byte[]> buffers;
    private String currentName;
    private ChunkedArchive current;
    private TarWriter tar;
    private long storedFiles;
    private long blockFiles;
    private long storedBlocks;
    private long blocksUnlikeTheChain;
    private long unreadFiles;
    private long dataBytes;
    private ResumeJournal journal;
    private long listedAtMs;
    private ResumePoint resume;
    private long reusedFiles;
    private long reusedBytes;

    /** @param tablespaceLocations OID → location, for the archives' manifest entries */
    LocalArchiveWriter(ParallelUploader uploader, ChunkedArchive.BufferPool chunks, Map<String, String> tablespaceLocations,
                       int blockSize, int readers, Progress progress) {
        this.uploader = uploader;
        this.chunks = chunks;
        this.tablespaceLocations = tablespaceLocations;
        this.blockSize = blockSize;
        this.readers = Math.max(1, readers);
        this.progress = progress;
        this.buffers = new ArrayBlockingQueue<>(window() + 2);
        for (int i = 0; i < window() + 2; i++) {
            buffers.add(new byte[PIECE_BYTES]);
        }
    }

    /** Records in {@code j} what is written, for a later {@code --resume}; the directory was listed at {@code listedAtMs}. */
    void journal(ResumeJournal j, long listedAtMs) {
        this.journal = j;
        this.listedAtMs = listedAtMs;
    }

    /** Goes on with what an interrupted attempt stored: its kept chunks, and the files in them that did not change. */
    void resumeFrom(ResumePoint r) {
        this.resume = r;
    }

    /** Files (and their bytes) kept from the interrupted attempt, not read again. */
    long reusedFiles() {
        return reusedFiles;
    }

    long reusedBytes() {
        return reusedBytes;
    }

    private int window() {
        return readers * 2;
    }

    /** A planned read of one piece of one item. */
    private record Read(DataDirectoryScan.Item item, FilePlan plan, long offset, int length, int index, int count,
                        ResumeJournal.Done reused) {
        Read(DataDirectoryScan.Item item, FilePlan plan, long offset, int length, int index, int count) {
            this(item, plan, offset, length, index, count, null);
        }
    }

    /** Writes every item, in order; files are read {@code readers} at a time, a few pieces ahead. */
    void writeAll(List<DataDirectoryScan.Item> items, Function<DataDirectoryScan.Item, FilePlan> plans) {
        Iterator<Read> reads = reads(items, plans).iterator();
        try (OrderedReads<PieceReader.Piece> ahead = new OrderedReads<>(readers)) {
            List<Read> queued = new ArrayList<>();
            FileState file = null;
            int next = 0;
            while (true) {
                while (ahead.pending() < window() && reads.hasNext()) {
                    Read r = reads.next();
                    queued.add(r);
                    if (r.length() < 0) {
                        ahead.submit(() -> null); // a directory, link or empty file: nothing to read
                    } else {
                        byte[] buf = takeBuffer();
                        ahead.submit(() -> PieceReader.read(r.item().source(), r.offset(), r.length(), buf, r.plan().rule(),
                                blockSize));
                    }
                }
                if (ahead.pending() == 0) {
                    break;
                }
                Read r = queued.get(next);
                queued.set(next++, null);
                PieceReader.Piece p = ahead.next();
                try {
                    file = consume(r, p, file);
                } finally {
                    if (p != null) {
                        buffers.add(p.data());
                    }
                }
            }
        }
        uploader.check();
    }

    /** Every read, in order: one per directory, link and empty file, one per piece of a file. */
    private List<Read> reads(List<DataDirectoryScan.Item> items, Function<DataDirectoryScan.Item, FilePlan> plans) {
        List<Read> out = new ArrayList<>();
        for (DataDirectoryScan.Item it : items) {
            if (!it.type().equals("f") || it.size() == 0) {
                out.add(new Read(it, FilePlan.PLAIN, 0, -1, 0, 0));
                continue;
            }
            ResumeJournal.Done kept = resume == null ? null : resume.reusable(it);
            if (kept != null) {
                out.add(new Read(it, FilePlan.PLAIN, 0, -1, 0, 0, kept));
                continue;
            }
            FilePlan plan = plans.apply(it);
            if (plan.unread()) {
                out.add(new Read(it, plan, 0, -1, 0, 0));
                continue;
            }
            int count = (int) ((it.size() + PIECE_BYTES - 1) / PIECE_BYTES);
            for (int i = 0; i < count; i++) {
                long off = (long) i * PIECE_BYTES;
                out.add(new Read(it, plan, off, (int) Math.min(PIECE_BYTES, it.size() - off), i, count));
            }
        }
        return out;
    }

    private byte[] takeBuffer() {
        try {
            return buffers.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new io.lifeboat.LifeboatException(io.lifeboat.ErrorKind.INTERRUPTED, "interrupted");
        }
    }

    /** The file being written: its members so far. */
    private static final class FileState {
        final DataDirectoryScan.Item item;
        final FilePlan plan;
        boolean skipped;
        long offset = -1;
        final CRC32C crc = new CRC32C();
        int blockCrc;
        long nextBlock;
        final List<long[]> runs = new ArrayList<>();
        int[] crcs = new int[16];
        int crcCount;

        FileState(DataDirectoryScan.Item item, FilePlan plan) {
            this.item = item;
            this.plan = plan;
        }

        void addCrc(int c) {
            if (crcCount == crcs.length) {
                crcs = java.util.Arrays.copyOf(crcs, crcs.length * 2);
            }
            crcs[crcCount++] = c;
        }
    }

    private FileState consume(Read r, PieceReader.Piece p, FileState file) {
        DataDirectoryScan.Item it = r.item();
        archive(it.archive());
        if (r.reused() != null) {
            reuse(it, r.reused());
            return null;
        }
        if (r.length() < 0 && r.plan().unread()) {
            unread(it, r.plan());
            return null;
        }
        if (r.length() < 0) {
            if (it.type().equals("d")) {
                tar.directory(it.tarName(), it.mode(), it.mtimeSeconds(), it.uid(), it.gid());
            } else if (it.type().equals("l")) {
                tar.link(it.tarName(), it.link(), it.mode(), it.mtimeSeconds(), it.uid(), it.gid());
            } else {
                long off = tar.file(it.tarName(), 0, it.mode(), it.mtimeSeconds(), it.uid(), it.gid());
                tar.endFile(0);
                index.add(entry(it, it.archive(), off, 0, false, null, null));
                pgFiles.add(new PgManifestWriter.File(it.path(), 0, Instant.ofEpochSecond(it.mtimeSeconds()), 0));
                storedFiles++;
                return null;
            }
            index.add(new FileIndex.Entry(it.path(), it.type(), it.mode(), it.mtimeNs(), it.inode(), 0, it.link(), null, 0,
                    null, false, null, null, null));
            return null;
        }
        if (r.index() == 0) {
            file = new FileState(it, r.plan());
            file.skipped = p.gone();
            if (!file.skipped && (r.plan().rule() == null || r.plan().whole())) {
                file.offset = tar.file(it.tarName(), it.size(), it.mode(), it.mtimeSeconds(), it.uid(), it.gid());
            }
        }
        progress.advance(r.length());
        if (!file.skipped) {
            if (r.plan().rule() == null || r.plan().whole()) {
                tar.data(p.data(), 0, p.length());
                file.crc.update(p.data(), 0, p.length());
                if (r.plan().rule() != null) {
                    for (int i = 0; i < p.crcCount(); i++) {
                        file.addCrc(p.crcs()[i]);
                    }
                }
            } else {
                partPiece(file, r, p);
                blocksUnlikeTheChain += p.olderButDifferent();
            }
        }
        if (r.index() == r.count() - 1) {
            finishFile(file);
            return null;
        }
        return file;
    }

    /** The kept blocks of one piece of a file stored in part: one member per run. */
    private void partPiece(FileState f, Read r, PieceReader.Piece p) {
        DataDirectoryScan.Item it = f.item;
        int dataAt = 0;
        int crcAt = 0;
        long pieceEnd = (r.offset() + r.length()) / blockSize;
        for (int i = 0; i < p.runCount(); i++) {
            long first = p.runs()[i * 2];
            long count = p.runs()[i * 2 + 1];
            foldParent(f, first);
            long off = tar.file(it.tarName() + BLOCKS_SUFFIX + first, count * blockSize, it.mode(), it.mtimeSeconds(),
                    it.uid(), it.gid());
            tar.data(p.data(), dataAt, (int) (count * blockSize));
            tar.endFile(count * blockSize);
            dataAt += (int) (count * blockSize);
            f.runs.add(new long[] {first, count, off});
            for (long b = 0; b < count; b++) {
                int c = p.crcs()[crcAt++];
                f.addCrc(c);
                f.blockCrc = f.nextBlock == 0 ? c : io.lifeboat.codec.Crc32c.append(f.blockCrc, c, blockSize);
                f.nextBlock++;
            }
        }
        foldParent(f, pieceEnd);
    }

    /** Folds the parent's CRCs of the blocks left to it, up to {@code block}, into the file's CRC. */
    private void foldParent(FileState f, long block) {
        int[] parent = f.plan.parentCrcs();
        while (f.nextBlock < block) {
            int c = parent[(int) f.nextBlock];
            f.blockCrc = f.nextBlock == 0 ? c : io.lifeboat.codec.Crc32c.append(f.blockCrc, c, blockSize);
            f.nextBlock++;
        }
    }

    private void finishFile(FileState f) {
        DataDirectoryScan.Item it = f.item;
        if (f.skipped) {
            return; // removed before it was read: its removal is in the WAL
        }
        dataBytes += it.size();
        FileIndex.Entry e;
        int crc;
        if (f.plan.rule() == null) {
            tar.endFile(it.size());
            crc = (int) f.crc.getValue();
            e = entry(it, it.archive(), f.offset, crc, false, null, null);
            storedFiles++;
        } else if (f.plan.whole()) {
            tar.endFile(it.size());
            crc = (int) f.crc.getValue();
            long blocks = it.size() / blockSize;
            e = entry(it, it.archive(), f.offset, crc, true, List.<long[]>of(new long[] {0, blocks, f.offset}),
                    FileIndex.packCrcs(f.crcs, f.crcCount));
            storedFiles++;
            storedBlocks += blocks;
        } else {
            crc = f.blockCrc;
            e = entry(it, f.runs.isEmpty() ? null : it.archive(), 0, crc, true, List.copyOf(f.runs),
                    FileIndex.packCrcs(f.crcs, f.crcCount));
            blockFiles++;
            storedBlocks += f.crcCount;
        }
        index.add(e);
        pgFiles.add(new PgManifestWriter.File(it.path(), it.size(), Instant.ofEpochSecond(it.mtimeSeconds()), crc));
        if (journal != null && e.archive() != null) {
            journal.done(e, tar.position(), f.plan.rule() == null ? "plain" : f.plan.whole() ? "whole" : "part", listedAtMs);
        }
    }

    /** A file the interrupted attempt stored in a kept chunk, unchanged since: its entry as that attempt wrote it. */
    private void reuse(DataDirectoryScan.Item it, ResumeJournal.Done d) {
        FileIndex.Entry e = d.entry();
        index.add(e);
        pgFiles.add(new PgManifestWriter.File(it.path(), it.size(), Instant.ofEpochSecond(it.mtimeSeconds()), e.crc()));
        long blocks = e.blockCrcs() == null ? 0 : e.blockCrcs().length / 4;
        if (d.kind().equals("part")) {
            blockFiles++;
        } else {
            storedFiles++;
        }
        storedBlocks += blocks;
        dataBytes += it.size();
        reusedFiles++;
        reusedBytes += it.size();
        progress.advance(it.size());
        if (journal != null) {
            journal.done(e, d.end(), d.kind(), d.listedAtMs());
        }
    }

    /** A relation file left to the chain whole, unread: every block the parent's, its CRC from theirs. */
    private void unread(DataDirectoryScan.Item it, FilePlan plan) {
        int[] parent = plan.parentCrcs();
        int blocks = (int) (it.size() / blockSize);
        int crc = ChainView.wholeCrc(parent, blocks, blockSize);
        index.add(entry(it, null, 0, crc, true, List.of(), new byte[0]));
        pgFiles.add(new PgManifestWriter.File(it.path(), it.size(), Instant.ofEpochSecond(it.mtimeSeconds()), crc));
        blockFiles++;
        unreadFiles++;
        dataBytes += it.size();
        progress.advance(it.size());
    }

    private static FileIndex.Entry entry(DataDirectoryScan.Item it, String archive, long offset, int crc, boolean blocks,
                                         List<long[]> runs, byte[] crcs) {
        return new FileIndex.Entry(it.path(), "f", it.mode(), it.mtimeNs(), it.inode(), it.size(), null, archive, offset,
                crc, blocks, runs, crcs, it.ctimeNs() == 0 ? null : it.ctimeNs());
    }

    /** Makes {@code name} the archive being written, finishing the one before. */
    void archive(String name) {
        if (name.equals(currentName)) {
            return;
        }
        endArchive();
        currentName = name;
        current = new ChunkedArchive(name, uploader, chunks, null);
        if (journal != null) {
            ResumeJournal j = journal;
            current.onChunk((raw, i, end) -> j.cut(name, raw, i, end, tar.completionAt(end)));
        }
        ResumePoint.Kept kept = resume == null ? null : resume.archives().get(name);
        if (kept != null) {
            current.continueAfter(kept.chunks().stream().map(ResumeJournal.Chunk::rawName).toList(), kept.end());
        }
        tar = new TarWriter(current);
        if (kept != null) {
            if (journal != null) {
                journal.carry(kept.chunks());
            }
            tar.completeMember(kept.completion());
        }
    }

    /** Appends a file that is not on disk (backup_label) to the current archive, stored whole. */
    void extraFile(String tarName, byte[] content, int mode, Instant mtime) {
        long off = tar.file(tarName, content.length, mode, mtime.getEpochSecond(), 0, 0);
        tar.data(content, 0, content.length);
        tar.endFile(content.length);
        CRC32C c = new CRC32C();
        c.update(content, 0, content.length);
        index.add(new FileIndex.Entry(tarName, "f", mode, mtime.getEpochSecond() * 1_000_000_000L, 0, content.length, null,
                currentName, off, (int) c.getValue(), false, null, null, null));
        pgFiles.add(new PgManifestWriter.File(tarName, content.length, mtime, (int) c.getValue()));
        storedFiles++;
        dataBytes += content.length;
    }

    /** Ends the last archive; what was written. */
    Result finish() {
        endArchive();
        return new Result(List.copyOf(archives), List.copyOf(index), List.copyOf(pgFiles), storedFiles, blockFiles,
                storedBlocks, dataBytes, blocksUnlikeTheChain, unreadFiles);
    }

    private void endArchive() {
        if (current == null) {
            return;
        }
        tar.finish();
        List<String> names = current.close();
        String oid = currentName.equals(DataDirectoryScan.BASE) ? null : currentName.substring(0, currentName.length() - 4);
        archives.add(new BackupManifest.TarArchive(currentName, oid, oid == null ? null : tablespaceLocations.get(oid),
                current.rawBytes(), names.stream().map(uploader.pipeline()::storedName).toList()));
        current = null;
        tar = null;
        currentName = null;
    }

    /** Gives back the chunk buffer of an unfinished archive (the backup failed). */
    void discard() {
        if (current != null) {
            current.discard();
        }
    }
}
