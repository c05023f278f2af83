package io.lifeboat.engine.physical;

import io.lifeboat.catalog.BackupManifest;
import io.lifeboat.catalog.Json;
import io.lifeboat.catalog.StoredObject;
import io.lifeboat.codec.Compression;
import io.lifeboat.codec.Encryption;
import io.lifeboat.engine.ObjectPipeline;
import io.lifeboat.postgres.TarStreamWatcher;
import io.lifeboat.storage.FsStorage;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A physical backup's data path (tar chunks compressed and stored in parallel) and its restore's
 * (chunks fetched, checked, decoded and extracted, files flushed) run once on a small tar in a
 * local directory, without PostgreSQL: `lifeboat warmup` runs it so that the classes of both are
 * in the start-up archive instead of being read and verified from the jars at every start.
 */
public final class PhysicalWarmup {
    private PhysicalWarmup() {
    }

    public static void run(Path dir) throws IOException {
        ObjectPipeline pipeline = new ObjectPipeline(new FsStorage(dir.resolve("repo")), Compression.ZSTD, 0,
                Encryption.NONE);
        byte[] tar = tar();
        List<StoredObject> stored;
        try (ParallelUploader up = new ParallelUploader(pipeline, p -> "b/" + p, 2)) {
            TarStreamWatcher watcher = new TarStreamWatcher(Set.of("backup_label"));
            ChunkedArchive archive = new ChunkedArchive("base.tar", up, new ChunkedArchive.BufferPool(16 * 1024, 4),
                    watcher::feed);
            archive.write(tar, 0, tar.length);
            archive.close();
            stored = up.finish();
        }
        // what reading and writing a manifest needs (building them prepares the (de)serializers)
        Json.MAPPER.readerFor(BackupManifest.class);
        Json.MAPPER.writerFor(BackupManifest.class);
        ExecutorService fetchPool = Executors.newFixedThreadPool(2);
        try (FileSyncer syncer = new FileSyncer(true);
             ChunkStream in = new ChunkStream(stored, (o, into) -> pipeline.fetchInto("b/" + o.path(), o, into,
                     byte[]::new), fetchPool, 2)) {
            Path root = java.nio.file.Files.createDirectories(dir.resolve("restored"));
            new TarExtractor(root, Ownership.unchanged(), Map.of(), n -> { }, syncer::file).extract(in, "warmup");
            syncer.finish(List.of(root));
        } finally {
            fetchPool.shutdownNow();
        }
    }

    /** A tar of a directory, a few files and a symbolic link, spanning several chunks. */
    private static byte[] tar() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream t = new TarArchiveOutputStream(bytes)) {
            TarArchiveEntry d = new TarArchiveEntry("global/");
            d.setMode(0700);
            t.putArchiveEntry(d);
            t.closeArchiveEntry();
            for (String name : List.of("backup_label", "global/1262", "global/pg_control")) {
                byte[] content = new byte[20_000];
                java.util.Arrays.fill(content, (byte) name.length());
                TarArchiveEntry f = new TarArchiveEntry(name);
                f.setMode(0600);
                f.setSize(content.length);
                t.putArchiveEntry(f);
                t.write(content);
                t.closeArchiveEntry();
            }
            TarArchiveEntry link = new TarArchiveEntry("pg_wal_link", TarArchiveEntry.LF_SYMLINK);
            link.setLinkName("global");
            t.putArchiveEntry(link);
            t.closeArchiveEntry();
        }
        return bytes.toByteArray();
    }
}
