package io.lifeboat.engine.physical;

import io.lifeboat.catalog.FileIndex;
import io.lifeboat.catalog.Json;
import io.lifeboat.catalog.StoredObject;
import io.lifeboat.engine.ObjectPipeline;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * What a local-mode backup has stored so far, written into the backup's own directory as it goes,
 * so that {@code backup --resume} (from this host or another) can keep it after a kill or a crash
 * ({@link ResumePoint} reads it back). Every second or so a new segment lists the chunks stored
 * since the last one (with their size and SHA-256 as stored, and how the tar stream can be gone on
 * with after each: see {@link TarWriter#completionAt}) and the files whose members were written
 * since. A segment is stored through the backup's codecs (it names files, as the file index does)
 * and then a small plain reference with its size and checksum, so that the segment can be read
 * back and checked like any other object; a segment without its reference is ignored. The
 * journal is removed before the manifest is written.
 */
final class ResumeJournal {
    static final String DIR = "resume-journal/";
    static final int FORMAT_VERSION = 1;

    /**
     * What a backup must share with an interrupted one to keep what it stored.
     *
     * @param parent the parent backup of an incremental; null for a full backup
     */
    record Identity(String systemIdentifier, int pgMajor, String dataDirectory, String parent, int blockSize,
                    String compression, String encryption) {
    }

    /**
     * One attempt at the backup.
     *
     * @param attempt   tells attempts apart
     * @param backend   "pid/start" of the server session that holds the attempt's pg_backup_start
     * @param continued archive → offset from which this attempt went on with an earlier attempt's stream
     */
    record Header(int version, Identity identity, String attempt, String backend, Map<String, Long> continued) {
    }

    /**
     * A stored chunk.
     *
     * @param end        offset of its end in the archive's stream
     * @param completion zero bytes that complete the tar member it ends in; -1: the stream cannot go on after it
     */
    record Chunk(String archive, String rawName, int index, long end, long completion, StoredObject stored) {
    }

    /**
     * A file whose members were all written, ending at {@code end} in its archive's stream.
     *
     * @param kind       plain, whole (block-tracked, every block) or part (the blocks the parent lacks)
     * @param listedAtMs when the data directory was listed, before the file was read
     */
    record Done(FileIndex.Entry entry, long end, String kind, long listedAtMs) {
    }

    record Segment(int seq, Header header, List<Chunk> chunks, List<Done> files) {
    }

    private record Cut(String archive, int index, long end, long completion) {
    }

    private final ObjectPipeline pipeline;
    private final Function<String, String> keyOf;
    private final Header header;
    private final long intervalMs;
    private final Map<String, Cut> cuts = new HashMap<>();
    private List<Chunk> chunks = new ArrayList<>();
    private List<Done> files = new ArrayList<>();
    private int seq;
    private long lastFlush = System.currentTimeMillis();

    /**
     * @param keyOf  storage key of a path relative to the backup
     * @param seq    the last segment number an earlier attempt wrote (0: none)
     */
    ResumeJournal(ObjectPipeline pipeline, Function<String, String> keyOf, Header header, int seq, long intervalMs) {
        this.pipeline = pipeline;
        this.keyOf = keyOf;
        this.header = header;
        this.seq = seq;
        this.intervalMs = intervalMs;
    }

    static long interval() {
        return Long.getLong("lifeboat.resume-journal-ms", 1000);
    }

    /** A full chunk handed to the uploader (before it is stored). */
    synchronized void cut(String archive, String rawName, int index, long end, long completion) {
        cuts.put(rawName, new Cut(archive, index, end, completion));
    }

    /** A piece stored by the uploader: a chunk the journal was told of is recorded. */
    void stored(String rawName, StoredObject o) {
        synchronized (this) {
            Cut c = cuts.remove(rawName);
            if (c == null) {
                return;
            }
            chunks.add(new Chunk(c.archive(), rawName, c.index(), c.end(), c.completion(), o));
            if (System.currentTimeMillis() - lastFlush < intervalMs) {
                return;
            }
            flush();
        }
    }

    /** Chunks of an earlier attempt this one keeps (so that a second interruption keeps them too). */
    synchronized void carry(List<Chunk> kept) {
        chunks.addAll(kept);
    }

    synchronized void done(FileIndex.Entry e, long end, String kind, long listedAtMs) {
        files.add(new Done(e, end, kind, listedAtMs));
    }

    /** Writes what was recorded since the last segment as the next segment (called holding the lock). */
    private void flush() {
        lastFlush = System.currentTimeMillis();
        if (chunks.isEmpty() && files.isEmpty()) {
            return;
        }
        int n = ++seq;
        Segment s = new Segment(n, header, chunks, files);
        chunks = new ArrayList<>();
        files = new ArrayList<>();
        String raw = DIR + String.format("%08d", n) + ".json";
        try {
            byte[] data = Json.MAPPER.writeValueAsBytes(s);
            String path = pipeline.storedName(raw);
            StoredObject o = pipeline.store(keyOf.apply(path), path, data, data.length);
            pipeline.storage().put(keyOf.apply(DIR + String.format("%08d", n) + ".ref"), Json.MAPPER.writeValueAsBytes(o));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
