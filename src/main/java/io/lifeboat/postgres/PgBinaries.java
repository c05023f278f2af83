package io.lifeboat.postgres;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * Finds PostgreSQL programs of the right major version. pg_dump must be at least as new as the
 * server it dumps, and pg_restore at least as new as the pg_dump that wrote the archive, so the
 * choice is made per server version instead of taking whatever is first on PATH.
 */
public final class PgBinaries {
    public record Tool(Path path, PgVersion version) {
    }

    /**
     * What each program said to --version, for the whole process: a backup asks for pg_dump and
     * pg_dumpall, a restore for pg_restore and psql, and the command's start probes them ahead
     * (see cli/AheadOfCommand); each program is run once. A file that changed (its size or
     * modification time) is asked again.
     */
    private static final Map<Probed, Optional<PgVersion>> VERSIONS = new ConcurrentHashMap<>();

    private record Probed(Path path, long size, long modified) {
    }

    private final List<Path> searchDirs;

    /** @param preferredBinDir a configured bin directory searched first, or null */
    public PgBinaries(Path preferredBinDir) {
        Set<Path> dirs = new LinkedHashSet<>();
        if (preferredBinDir != null) {
            dirs.add(preferredBinDir);
        }
        dirs.addAll(debianInstallations());
        String path = System.getenv("PATH");
        if (path != null) {
            for (String p : path.split(":")) {
                if (!p.isEmpty()) {
                    dirs.add(Path.of(p));
                }
            }
        }
        this.searchDirs = List.copyOf(dirs);
    }

    private PgBinaries(List<Path> dirs) {
        this.searchDirs = List.copyOf(dirs);
    }

    /** Searches exactly these directories, nothing else (tests, and `bin-dir` used strictly). */
    public static PgBinaries only(List<Path> dirs) {
        return new PgBinaries(dirs);
    }

    private static List<Path> debianInstallations() {
        Path base = Path.of("/usr/lib/postgresql");
        if (!Files.isDirectory(base)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(base)) {
            return s.map(p -> p.resolve("bin")).filter(Files::isDirectory)
                    .sorted(Comparator.comparing(Path::toString).reversed()).toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    /** Every copy of the tool we can find, newest first. */
    public List<Tool> all(String name) {
        List<Tool> found = new ArrayList<>();
        List<Path> candidates = new ArrayList<>();
        Set<Path> seen = new LinkedHashSet<>();
        for (Path dir : searchDirs) {
            Path p = dir.resolve(name);
            if (!Files.isExecutable(p)) {
                continue;
            }
            Path real;
            try {
                real = p.toRealPath();
            } catch (IOException e) {
                continue;
            }
            // Debian's /usr/bin/pg_dump is a wrapper script that picks a version itself: skip it
            // when a versioned copy exists, we want to choose ourselves.
            if (!seen.add(real) || real.getFileName().toString().equals("pg_wrapper")) {
                continue;
            }
            candidates.add(p);
        }
        candidates.parallelStream().forEach(PgBinaries::versionOf);
        for (Path p : candidates) {
            versionOf(p).ifPresent(v -> found.add(new Tool(p, v)));
        }
        found.sort(Comparator.comparing(Tool::version).reversed());
        return found;
    }

    private static Optional<PgVersion> versionOf(Path tool) {
        Probed key;
        try {
            java.nio.file.attribute.BasicFileAttributes a = Files.readAttributes(tool,
                    java.nio.file.attribute.BasicFileAttributes.class);
            key = new Probed(tool, a.size(), a.lastModifiedTime().toMillis());
        } catch (IOException e) {
            return Optional.empty();
        }
        return VERSIONS.computeIfAbsent(key, k -> {
            ExternalProcess.Result r = new ExternalProcess(List.of(k.path().toString(), "--version"), Map.of()).run();
            if (!r.ok()) {
                return Optional.empty();
            }
            try {
                return Optional.of(PgVersion.parseToolOutput(r.stdout().lines().findFirst().orElse("")));
            } catch (LifeboatException e) {
                return Optional.empty();
            }
        });
    }

    /**
     * The copy of {@code name} for work against a server (or archive) of {@code major}: the same
     * major if installed, otherwise the oldest newer one.
     */
    public Tool forMajor(String name, int major, String why) {
        List<Tool> all = all(name);
        Optional<Tool> same = all.stream().filter(t -> t.version().major() == major).findFirst();
        if (same.isPresent()) {
            return same.get();
        }
        Optional<Tool> newer = all.stream().filter(t -> t.version().major() > major)
                .min(Comparator.comparing(Tool::version));
        if (newer.isPresent()) {
            return newer.get();
        }
        String have = all.isEmpty() ? "none found" : "found only "
                + String.join(", ", all.stream().map(t -> t.version().major() + " (" + t.path() + ")").toList());
        throw new LifeboatException(ErrorKind.TOOL, name + " " + major + " or newer is needed " + why + "; " + have,
                "install it (Debian: apt-get install postgresql-client-" + major + ") or set postgres.bin-dir "
                        + "to a directory with a new enough " + name);
    }

    /** Any copy of the tool, newest first; for programs whose version does not matter much. */
    public Tool newest(String name) {
        List<Tool> all = all(name);
        if (all.isEmpty()) {
            throw new LifeboatException(ErrorKind.TOOL, name + " not found (searched " + searchDirs + ")",
                    "install the PostgreSQL client programs (Debian: apt-get install postgresql-client)");
        }
        return all.get(0);
    }
}
