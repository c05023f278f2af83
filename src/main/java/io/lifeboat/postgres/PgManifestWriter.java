package io.lifeboat.postgres;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.lifeboat.codec.Crc32c;
import io.lifeboat.codec.Digest;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;

/**
 * Writes PostgreSQL's backup_manifest (the JSON file pg_verifybackup checks a data directory
 * against) for a backup Lifeboat read itself: version 1 as PostgreSQL 13 to 16 write it, version 2
 * (with the system identifier) for 17 and later; one line per file with size, modification time and
 * CRC-32C, the WAL ranges recovery needs, and the SHA-256 of everything before the checksum line.
 */
public final class PgManifestWriter {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'GMT'")
            .withZone(ZoneOffset.UTC);

    /**
     * @param path  relative to the data directory (tablespace files under pg_tblspc/OID/)
     * @param crc32c the file's CRC-32C, or null to record its size only (pg_verifybackup then checks only that)
     */
    public record File(String path, long size, Instant modified, Integer crc32c) {
    }

    /** One timeline's stretch of the WAL the backup needs, newest timeline first as PostgreSQL lists them. */
    public record WalRange(long timeline, Lsn start, Lsn end) {
    }

    private PgManifestWriter() {
    }

    public static byte[] write(int pgMajor, String systemIdentifier, List<File> files, List<WalRange> ranges) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256 + files.size() * 128);
        StringBuilder sb = new StringBuilder();
        if (pgMajor >= 17) {
            sb.append("{ \"PostgreSQL-Backup-Manifest-Version\": 2,\n\"System-Identifier\": ").append(systemIdentifier)
                    .append(",\n\"Files\": [");
        } else {
            sb.append("{ \"PostgreSQL-Backup-Manifest-Version\": 1,\n\"Files\": [");
        }
        boolean first = true;
        JsonStringEncoder json = JsonStringEncoder.getInstance();
        for (File f : files) {
            sb.append(first ? "\n" : ",\n");
            first = false;
            sb.append("{ \"Path\": \"").append(json.quoteAsString(f.path())).append("\", \"Size\": ").append(f.size())
                    .append(", \"Last-Modified\": \"").append(TIME.format(f.modified())).append('"');
            if (f.crc32c() != null) {
                sb.append(", \"Checksum-Algorithm\": \"CRC32C\", \"Checksum\": \"").append(Crc32c.manifestHex(f.crc32c()))
                        .append('"');
            }
            sb.append(" }");
            if (sb.length() > 1 << 16) {
                out.writeBytes(sb.toString().getBytes(StandardCharsets.UTF_8));
                sb.setLength(0);
            }
        }
        sb.append("\n],\n\"WAL-Ranges\": [\n");
        for (int i = 0; i < ranges.size(); i++) {
            WalRange r = ranges.get(i);
            sb.append(i == 0 ? "" : ",\n").append("{ \"Timeline\": ").append(r.timeline()).append(", \"Start-LSN\": \"")
                    .append(r.start()).append("\", \"End-LSN\": \"").append(r.end()).append("\" }");
        }
        sb.append("\n],\n");
        out.writeBytes(sb.toString().getBytes(StandardCharsets.UTF_8));
        MessageDigest md = Digest.newSha256();
        byte[] body = out.toByteArray();
        md.update(body);
        out.writeBytes(("\"Manifest-Checksum\": \"" + Digest.hex(md) + "\"}\n").getBytes(StandardCharsets.UTF_8));
        return out.toByteArray();
    }
}
