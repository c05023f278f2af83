package io.lifeboat.engine.physical;

import io.lifeboat.LifeboatException;
import io.lifeboat.codec.Crc32c;
import io.lifeboat.postgres.Lsn;
import io.lifeboat.postgres.PgManifestWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ManifestCheckTest {
    @Test
    void passesWhatTheManifestSaysAndNamesEveryDifference(@TempDir Path dir) throws Exception {
        byte[] a = "first file".getBytes(StandardCharsets.UTF_8);
        byte[] b = new byte[8192 * 3];
        b[5000] = 7;
        Files.createDirectories(dir.resolve("base/1"));
        Files.write(dir.resolve("PG_VERSION"), a);
        Files.write(dir.resolve("base/1/1259"), b);
        byte[] manifest = PgManifestWriter.write(17, "7300000000000000001", List.of(
                new PgManifestWriter.File("PG_VERSION", a.length, Instant.EPOCH, Crc32c.of(a, 0, a.length)),
                new PgManifestWriter.File("base/1/1259", b.length, Instant.EPOCH, Crc32c.of(b, 0, b.length))),
                List.of(new PgManifestWriter.WalRange(1, Lsn.parse("0/2000028"), Lsn.parse("0/2000100"))));
        Files.write(dir.resolve("backup_manifest"), manifest);
        assertThat(ManifestCheck.run(dir, 2)).isEqualTo(2);

        b[100] = 1; // same size, other content
        Files.write(dir.resolve("base/1/1259"), b);
        Files.write(dir.resolve("PG_VERSION"), "short".getBytes(StandardCharsets.UTF_8));
        assertThatThrownBy(() -> ManifestCheck.run(dir, 2)).isInstanceOf(LifeboatException.class)
                .hasMessageContaining("base/1/1259 has another CRC-32C")
                .hasMessageContaining("PG_VERSION has 5 bytes, the manifest says 10");
        Files.delete(dir.resolve("PG_VERSION"));
        assertThatThrownBy(() -> ManifestCheck.run(dir, 1)).hasMessageContaining("PG_VERSION is missing");
    }
}
