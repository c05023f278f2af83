package io.lifeboat.engine.archive;

import io.lifeboat.catalog.RepositoryLayout;
import io.lifeboat.codec.Compression;
import io.lifeboat.codec.Encryption;
import io.lifeboat.engine.ObjectPipeline;
import io.lifeboat.storage.Storage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchService;

/**
 * wal-push's path (a waiting file stored and recorded as the archive-ahead process does, its watch
 * on archive_status) run once on a fake segment without PostgreSQL: `lifeboat warmup` runs it, over
 * https too, so that these classes are in the start-up archive, which every wal-push JVM and
 * archive-ahead process maps instead of reading and verifying them from the jars.
 */
public final class ArchiveWarmup {
    private ArchiveWarmup() {
    }

    public static void run(Path dir, Storage storage) throws IOException {
        Path pgWal = Files.createDirectories(dir.resolve("pg_wal"));
        Path status = Files.createDirectories(pgWal.resolve("archive_status"));
        Path segment = pgWal.resolve("000000010000000000000001");
        Files.write(segment, new byte[1 << 20]); // no page header: stored as a file of no known cluster
        Files.createFile(status.resolve(segment.getFileName() + ".ready"));
        WalArchive archive = new WalArchive(storage, new RepositoryLayout("warmup"),
                new ObjectPipeline(storage, Compression.ZSTD, 3, Encryption.NONE));
        Path state = PushState.directory(pgWal, "--config warmup.yml");
        ArchiveMarkers markers = new ArchiveMarkers(state);
        try (WatchService watcher = pgWal.getFileSystem().newWatchService()) {
            status.register(watcher, StandardWatchEventKinds.ENTRY_CREATE);
            for (Path p : markers.unrecorded(WalPush.waiting(pgWal, null, 4))) {
                markers.storeAndRecord(archive, p);
            }
            watcher.poll();
        }
        new WalPush(archive, w -> { }).run(segment, state, 0, 1);
        markers.prune();
    }
}
