package io.lifeboat.postgres;

import io.lifeboat.codec.Digest;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class PgManifestWriterTest {
    @Test
    void writesWhatPostgresWritesWithAChecksumOfItself() {
        byte[] m = PgManifestWriter.write(15, "7400000000000000001", List.of(
                new PgManifestWriter.File("backup_label", 225, Instant.parse("2026-01-02T03:04:05Z"), 0x12345678),
                new PgManifestWriter.File("base/5/16385", 16384, Instant.parse("2026-01-02T03:04:05Z"), null),
                new PgManifestWriter.File("weird \"name\"\n", 1, Instant.EPOCH, 1)),
                List.of(new PgManifestWriter.WalRange(1, Lsn.parse("0/2000028"), Lsn.parse("0/2000100"))));
        String text = new String(m, StandardCharsets.UTF_8);
        assertThat(text).startsWith("{ \"PostgreSQL-Backup-Manifest-Version\": 1,\n\"Files\": [\n{ \"Path\": \"backup_label\", "
                + "\"Size\": 225, \"Last-Modified\": \"2026-01-02 03:04:05 GMT\", \"Checksum-Algorithm\": \"CRC32C\", "
                + "\"Checksum\": \"78563412\" },\n{ \"Path\": \"base/5/16385\", \"Size\": 16384, \"Last-Modified\": "
                + "\"2026-01-02 03:04:05 GMT\" },");
        assertThat(text).contains("\"WAL-Ranges\": [\n{ \"Timeline\": 1, \"Start-LSN\": \"0/2000028\", \"End-LSN\": "
                + "\"0/2000100\" }\n],\n\"Manifest-Checksum\": \"");
        int at = text.indexOf("\"Manifest-Checksum\"");
        assertThat(text.substring(at)).isEqualTo("\"Manifest-Checksum\": \""
                + Digest.sha256(text.substring(0, at).getBytes(StandardCharsets.UTF_8)) + "\"}\n");
        PgBackupManifest parsed = PgBackupManifest.parse(m);
        assertThat(parsed.version()).isEqualTo(1);
        assertThat(parsed.fileCount()).isEqualTo(3);
        assertThat(parsed.walRanges()).hasSize(1);
    }

    @Test
    void version2ForPostgres17NamesTheSystem() {
        PgBackupManifest parsed = PgBackupManifest.parse(PgManifestWriter.write(17, "7400000000000000001", List.of(),
                List.of(new PgManifestWriter.WalRange(2, Lsn.parse("0/5000000"), Lsn.parse("0/5000100")))));
        assertThat(parsed.version()).isEqualTo(2);
        assertThat(parsed.systemIdentifier()).isEqualTo("7400000000000000001");
    }
}
