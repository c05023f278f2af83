package io.lifeboat.postgres;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * What Lifeboat reads from PostgreSQL's own backup_manifest (the JSON file pg_verifybackup checks a
 * restored copy against): its version, the number and size of files, and the WAL range needed.
 */
public record PgBackupManifest(int version, String systemIdentifier, int fileCount, long totalFileBytes,
                               List<WalRange> walRanges) {
    private static final ObjectMapper JSON = new ObjectMapper();

    public record WalRange(long timeline, Lsn start, Lsn end) {
    }

    public static PgBackupManifest parse(byte[] data) {
        try {
            JsonNode root = JSON.readTree(data);
            if (root == null || !root.has("PostgreSQL-Backup-Manifest-Version")) {
                throw bad("it has no PostgreSQL-Backup-Manifest-Version", null);
            }
            int files = 0;
            long bytes = 0;
            for (JsonNode f : root.path("Files")) {
                files++;
                bytes += f.path("Size").asLong();
            }
            List<WalRange> ranges = new ArrayList<>();
            for (JsonNode r : root.path("WAL-Ranges")) {
                ranges.add(new WalRange(r.path("Timeline").asLong(), Lsn.parse(r.path("Start-LSN").asText()),
                        Lsn.parse(r.path("End-LSN").asText())));
            }
            JsonNode sysid = root.get("System-Identifier");
            return new PgBackupManifest(root.get("PostgreSQL-Backup-Manifest-Version").asInt(),
                    sysid == null ? null : sysid.asText(), files, bytes, List.copyOf(ranges));
        } catch (IOException e) {
            throw bad("it is not valid JSON (" + e.getMessage() + ")", e);
        }
    }

    private static LifeboatException bad(String why, Throwable cause) {
        return new LifeboatException(ErrorKind.CORRUPT, "the server's backup_manifest cannot be read: " + why,
                "report this together with the PostgreSQL version", cause);
    }
}
