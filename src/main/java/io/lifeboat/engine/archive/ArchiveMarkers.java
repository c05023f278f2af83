package io.lifeboat.engine.archive;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Remembers, inside pg_wal, which files a batch already archived (with their checksum), so that
 * PostgreSQL's own archive_command call for each of them returns at once. A marker is written only
 * after the object is stored and checked; it is only trusted for a file with the same checksum.
 */
public final class ArchiveMarkers {
    private final Path dir;

    public ArchiveMarkers(Path pgWal) {
        this.dir = pgWal.resolve(".lifeboat").resolve("archived");
    }

    public void record(String name, String sha256) throws IOException {
        Files.createDirectories(dir);
        Path tmp = dir.resolve("." + name + ".tmp");
        Files.writeString(tmp, sha256);
        Files.move(tmp, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
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

    /** Drops markers older than a day: PostgreSQL has long since archived those files. */
    public void prune() {
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
