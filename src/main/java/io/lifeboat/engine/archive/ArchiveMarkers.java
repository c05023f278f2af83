package io.lifeboat.engine.archive;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Remembers, inside pg_wal, which files a batch or the archive-ahead process already archived, so
 * that PostgreSQL's own archive_command call for each of them returns at once. A marker holds the
 * file's checksum and carries the file's modification time as it was when the file was read; it is
 * written only after the object is stored and checked. The launcher trusts a marker while the file
 * still has that time (PostgreSQL does not touch a finished segment before it is archived); the JVM
 * path compares checksums.
 */
public final class ArchiveMarkers {
    private final Path dir;
    /** Files the archive-ahead process could not store: the launcher sends their calls to the JVM at once. */
    private final Path failed;

    /** @param state the archive_command's state directory ({@link PushState}) */
    public ArchiveMarkers(Path state) {
        this.dir = state.resolve("archived");
        this.failed = state.resolve("failed");
    }

    /**
     * Stores one waiting file and records it. No marker is written if the file changed while it
     * was read and stored (its modification time moved): its own archive_command call then pushes it.
     */
    public WalArchive.PushOutcome storeAndRecord(WalArchive archive, Path file) throws IOException {
        FileTime before = Files.getLastModifiedTime(file);
        WalArchive.Pushed pushed = archive.pushFile(file);
        if (Files.getLastModifiedTime(file).equals(before)) {
            record(file.getFileName().toString(), pushed.sha256(), before);
        }
        return pushed.outcome();
    }

    void record(String name, String sha256, FileTime fileModified) throws IOException {
        Files.createDirectories(dir);
        Path tmp = dir.resolve("." + name + ".tmp");
        Files.writeString(tmp, sha256);
        Files.setLastModifiedTime(tmp, fileModified);
        Files.move(tmp, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        clearFailure(name);
    }

    /**
     * Notes that storing a file failed here, so that the launcher stops waiting for its marker and
     * its archive_command call pushes it in the JVM, which reports the cause to PostgreSQL.
     */
    public void noteFailure(String name) {
        try {
            Files.createDirectories(failed);
            Files.writeString(failed.resolve(name), "");
        } catch (IOException ignored) {
            // the launcher then waits for the marker until its time is up, as before
        }
    }

    public void clearFailure(String name) {
        try {
            Files.deleteIfExists(failed.resolve(name));
        } catch (IOException ignored) {
            // a note left behind only sends that file's call to the JVM
        }
    }

    /** Those of {@code files} that no marker says are stored already. */
    public List<Path> unrecorded(List<Path> files) {
        return files.stream().filter(p -> recorded(p.getFileName().toString()).isEmpty()).toList();
    }

    public Optional<String> recorded(String name) {
        try {
            return Optional.of(Files.readString(dir.resolve(name)).trim());
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    public void forget(String name) {
        try {
            Files.deleteIfExists(dir.resolve(name));
        } catch (IOException ignored) {
            // a stale marker is only a hint and is checked against the file's checksum
        }
    }

    /** Drops markers of files finished over a day ago: PostgreSQL has long since archived those. */
    public void prune() {
        prune(dir);
        prune(failed);
    }

    private static void prune(Path dir) {
        if (!Files.isDirectory(dir)) {
            return;
        }
        Instant cutoff = Instant.now().minus(Duration.ofDays(1));
        try (Stream<Path> s = Files.list(dir)) {
            s.filter(p -> {
                try {
                    return Files.getLastModifiedTime(p).toInstant().isBefore(cutoff);
                } catch (IOException e) {
                    return false;
                }
            }).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // best effort
        }
    }
}
