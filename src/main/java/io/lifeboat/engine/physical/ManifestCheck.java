package io.lifeboat.engine.physical;

import com.fasterxml.jackson.databind.JsonNode;
import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.Json;
import io.lifeboat.codec.Crc32c;
import io.lifeboat.engine.Parallel;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Lifeboat's own check of a restored data directory against its backup_manifest, where no
 * pg_verifybackup of the backup's version is installed: every file the manifest lists is there
 * with its size and, where the manifest has one, its CRC-32C. (pg_verifybackup also checks the
 * manifest's own checksum and the WAL; this check does not.)
 */
final class ManifestCheck {
    private ManifestCheck() {
    }

    /** Returns how many files were checked; throws CORRUPT naming the first few problems. */
    static int run(Path dataDir, int jobs) {
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(dataDir.resolve("backup_manifest").toFile());
        } catch (IOException e) {
            throw new LifeboatException(ErrorKind.CORRUPT, "cannot read the restored backup_manifest in " + dataDir + ": "
                    + e.getMessage(), "restore another backup and report this", e);
        }
        List<String> problems = Collections.synchronizedList(new ArrayList<>());
        List<Parallel.Task<Void>> tasks = new ArrayList<>();
        int files = 0;
        for (JsonNode f : root.path("Files")) {
            files++;
            String path = f.path("Path").asText();
            long size = f.path("Size").asLong();
            String crc = "CRC32C".equals(f.path("Checksum-Algorithm").asText()) ? f.path("Checksum").asText() : null;
            tasks.add(() -> {
                Path p = dataDir.resolve(path);
                if (!Files.isRegularFile(p)) {
                    problems.add(path + " is missing");
                } else if (Files.size(p) != size) {
                    problems.add(path + " has " + Files.size(p) + " bytes, the manifest says " + size);
                } else if (crc != null && !crc.equals(Crc32c.manifestHex(crc(p)))) {
                    problems.add(path + " has another CRC-32C than the manifest's " + crc);
                }
                return null;
            });
        }
        Parallel.run(Math.max(1, jobs), tasks);
        if (!problems.isEmpty()) {
            Collections.sort(problems);
            throw new LifeboatException(ErrorKind.CORRUPT, "the restored copy in " + dataDir + " does not match its "
                    + "backup_manifest: " + String.join("; ", problems.subList(0, Math.min(5, problems.size())))
                    + (problems.size() > 5 ? " (and " + (problems.size() - 5) + " more)" : ""),
                    "restore another backup and report this");
        }
        return files;
    }

    private static int crc(Path p) throws IOException {
        CRC32C c = new CRC32C();
        byte[] buf = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(p, LinkOption.NOFOLLOW_LINKS)) {
            int n;
            while ((n = in.read(buf)) > 0) {
                c.update(buf, 0, n);
            }
        }
        return (int) c.getValue();
    }
}
