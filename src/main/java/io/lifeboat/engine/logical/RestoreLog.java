package io.lifeboat.engine.logical;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The complete output of a logical restore (the globals script, the database definitions Lifeboat
 * runs, every line pg_restore writes), in a file that outlives the spool. Error lines can quote
 * table rows, so the directory is private (0700) and the file 0600. The newest {@value #KEEP} logs
 * are kept.
 */
final class RestoreLog implements AutoCloseable {
    static final int KEEP = 50;
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss.SSS'Z'")
            .withZone(ZoneOffset.UTC);

    private final Path path;
    private final BufferedWriter out;

    private RestoreLog(Path path, BufferedWriter out) {
        this.path = path;
        this.out = out;
    }

    /** The directory logs go to: beside the spools, under the spool directory. */
    static Path directory(Path spoolDir) {
        return spoolDir.resolve("logs");
    }

    static RestoreLog open(Path dir, String name) {
        try {
            if (!Files.isDirectory(dir)) {
                Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            }
            prune(dir);
            Path file = dir.resolve("restore-" + STAMP.format(Instant.now()) + "-" + name + ".log");
            BufferedWriter w = Files.newBufferedWriter(Files.createFile(file,
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))),
                    StandardCharsets.UTF_8, StandardOpenOption.APPEND);
            return new RestoreLog(file, w);
        } catch (IOException e) {
            throw new LifeboatException(ErrorKind.RESOURCE, "cannot write the restore log in " + dir + ": " + e.getMessage(),
                    "check that the spool directory is writable", e);
        }
    }

    private static void prune(Path dir) throws IOException {
        List<Path> logs;
        try (Stream<Path> s = Files.list(dir)) {
            logs = s.filter(p -> p.getFileName().toString().startsWith("restore-")).sorted(Comparator.reverseOrder()).toList();
        }
        for (Path old : logs.subList(Math.min(logs.size(), KEEP - 1), logs.size())) {
            Files.deleteIfExists(old);
        }
    }

    Path path() {
        return path;
    }

    void section(String title) {
        line("");
        line("== " + Instant.now() + " " + title);
    }

    synchronized void line(String s) {
        try {
            out.write(s);
            out.newLine();
        } catch (IOException e) {
            throw new LifeboatException(ErrorKind.RESOURCE, "cannot write the restore log " + path + ": " + e.getMessage(),
                    "free space on the spool directory's filesystem", e);
        }
    }

    @Override
    public synchronized void close() {
        try {
            out.close();
        } catch (IOException ignored) {
            // what was written is there; a failed flush was reported by line()
        }
    }
}
