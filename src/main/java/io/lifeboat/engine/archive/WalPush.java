package io.lifeboat.engine.archive;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.engine.Parallel;
import io.lifeboat.postgres.WalFileName;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * archive_command: archives the file PostgreSQL asks for, and with it the other files already
 * waiting (.ready in archive_status), in parallel, so a burst of WAL costs one process start
 * instead of one per segment.
 */
public final class WalPush {
    private final WalArchive archive;
    private final Consumer<String> log;

    public WalPush(WalArchive archive, Consumer<String> log) {
        this.archive = archive;
        this.log = log;
    }

    public record Result(WalArchive.PushOutcome outcome, int batched) {
    }

    /**
     * @param file     %p as PostgreSQL passed it (relative to the data directory)
     * @param state    the archive_command's state directory in pg_wal ({@link PushState}): only its markers
     *                 say that a file is stored in this command's repositories
     * @param maxBatch how many other waiting files to archive along (0: none)
     */
    public Result run(Path file, Path state, int maxBatch, int jobs) throws IOException {
        Path pgWal = file.toAbsolutePath().getParent();
        ArchiveMarkers markers = new ArchiveMarkers(state);
        String name = file.getFileName().toString();
        WalFileName.parse(name);
        var marker = markers.recorded(name);
        if (marker.isPresent() && Files.isRegularFile(file) && marker.get().equals(WalArchive.sha256(file))) {
            markers.forget(name);
            return new Result(WalArchive.PushOutcome.ALREADY_ARCHIVED, 0);
        }
        List<Path> batch = new ArrayList<>();
        batch.add(file);
        // files with a marker are stored already; their own call will say so
        batch.addAll(markers.unrecorded(waiting(pgWal, name, maxBatch)));
        List<Parallel.Task<WalArchive.PushOutcome>> tasks = new ArrayList<>();
        for (Path p : batch) {
            boolean requested = p.equals(file);
            tasks.add(() -> {
                try {
                    return requested ? archive.push(p) : markers.storeAndRecord(archive, p);
                } catch (LifeboatException | IOException e) {
                    if (requested) {
                        throw e;
                    }
                    // Only the requested file decides our exit code; PostgreSQL asks for the others itself.
                    log.accept("warning: could not archive " + p.getFileName() + " along: " + e.getMessage());
                    return null;
                }
            });
        }
        List<WalArchive.PushOutcome> outcomes = Parallel.run(Math.max(1, jobs), tasks);
        markers.clearFailure(name);
        markers.prune();
        return new Result(outcomes.get(0), (int) outcomes.stream().skip(1).filter(o -> o != null).count());
    }

    /** Other files PostgreSQL has marked ready, oldest first (segments sort by name). */
    static List<Path> waiting(Path pgWal, String except, int max) {
        if (max <= 0) {
            return List.of();
        }
        Path status = pgWal.resolve("archive_status");
        if (!Files.isDirectory(status)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(status)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".ready"))
                    .map(n -> n.substring(0, n.length() - ".ready".length()))
                    .filter(n -> except == null || !n.equals(except))
                    .filter(n -> {
                        try {
                            WalFileName.parse(n);
                            return true;
                        } catch (LifeboatException e) {
                            return false;
                        }
                    })
                    .sorted().limit(max).map(pgWal::resolve).filter(Files::isRegularFile).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void requireFile(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new LifeboatException(ErrorKind.NOT_FOUND, "WAL file " + file + " does not exist",
                    "archive_command must pass %p; PostgreSQL runs it in the data directory");
        }
    }
}
