package io.lifeboat.postgres;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** backup_label, PostgreSQL's backup_manifest and the tar stream as the server sends them. */
class PhysicalFormatsTest {
    static final String LABEL = """
            START WAL LOCATION: 0/2000028 (file 000000010000000000000002)
            CHECKPOINT LOCATION: 0/2000060
            BACKUP METHOD: streamed
            BACKUP FROM: primary
            START TIME: 2026-11-24 22:05:12 UTC
            LABEL: lifeboat 20261124T220512Z-P
            START TIMELINE: 1
            """;

    @Test
    void backupLabelFields() {
        BackupLabel l = BackupLabel.parse(LABEL);
        assertThat(l.startLsn()).isEqualTo(Lsn.parse("0/2000028"));
        assertThat(l.startWalFile()).isEqualTo("000000010000000000000002");
        assertThat(l.checkpointLsn()).isEqualTo(Lsn.parse("0/2000060"));
        assertThat(l.startTimeline()).isEqualTo(1);
        assertThat(l.label()).isEqualTo("lifeboat 20261124T220512Z-P");
        assertThat(l.from()).isEqualTo("primary");
        assertThat(l.text()).isEqualTo(LABEL);
    }

    @Test
    void backupLabelWithoutStartIsRefused() {
        assertThatThrownBy(() -> BackupLabel.parse("LABEL: x\n"))
                .isInstanceOfSatisfying(LifeboatException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.CORRUPT));
    }

    @Test
    void pgManifestVersionFilesAndWalRanges() {
        String json = """
                {"PostgreSQL-Backup-Manifest-Version": 2, "System-Identifier": 7311122233344455566,
                "Files": [
                {"Path": "backup_label", "Size": 227, "Last-Modified": "2026-11-24 22:05:12 GMT", "Checksum-Algorithm": "CRC32C", "Checksum": "a1b2c3d4"},
                {"Path": "base/1/1259", "Size": 106496, "Last-Modified": "2026-11-24 22:05:12 GMT", "Checksum-Algorithm": "CRC32C", "Checksum": "01020304"}
                ],
                "WAL-Ranges": [
                {"Timeline": 1, "Start-LSN": "0/2000028", "End-LSN": "0/2000100"}
                ],
                "Manifest-Checksum": "00"}
                """;
        PgBackupManifest m = PgBackupManifest.parse(json.getBytes(StandardCharsets.UTF_8));
        assertThat(m.version()).isEqualTo(2);
        assertThat(m.systemIdentifier()).isEqualTo("7311122233344455566");
        assertThat(m.fileCount()).isEqualTo(2);
        assertThat(m.totalFileBytes()).isEqualTo(227 + 106496);
        assertThat(m.walRanges()).containsExactly(new PgBackupManifest.WalRange(1, Lsn.parse("0/2000028"),
                Lsn.parse("0/2000100")));
        assertThatThrownBy(() -> PgBackupManifest.parse("{\"x\": 1}".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(LifeboatException.class);
    }

    static byte[] tar(boolean terminate, int bigFileSize) throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        TarArchiveOutputStream t = new TarArchiveOutputStream(bos);
        byte[] label = LABEL.getBytes(StandardCharsets.UTF_8);
        add(t, "backup_label", label);
        TarArchiveEntry dir = new TarArchiveEntry("base/");
        t.putArchiveEntry(dir);
        t.closeArchiveEntry();
        byte[] big = new byte[bigFileSize];
        new Random(1).nextBytes(big);
        add(t, "base/1/1259", big);
        add(t, "PG_VERSION", "15\n".getBytes(StandardCharsets.UTF_8));
        add(t, "empty", new byte[0]);
        if (terminate) {
            t.finish();
        } else {
            t.flush();
        }
        byte[] all = bos.toByteArray();
        if (!terminate) {
            // TarArchiveOutputStream pads to its record size even without finish(); cut to the last entry
            int end = all.length;
            while (end > 0 && all[end - 1] == 0) {
                end--;
            }
            end = (end + 511) / 512 * 512;
            return java.util.Arrays.copyOf(all, end);
        }
        return all;
    }

    private static void add(TarArchiveOutputStream t, String name, byte[] data) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name);
        e.setSize(data.length);
        t.putArchiveEntry(e);
        t.write(data);
        t.closeArchiveEntry();
    }

    @Test
    void watcherCapturesMembersFedInAnyPieces() throws IOException {
        byte[] t = tar(true, 70_001);
        for (int seed = 0; seed < 20; seed++) {
            TarStreamWatcher w = new TarStreamWatcher(Set.of("backup_label", "PG_VERSION", "empty"));
            Random r = new Random(seed);
            int pos = 0;
            while (pos < t.length) {
                int n = Math.min(t.length - pos, 1 + r.nextInt(seed < 10 ? 700 : 40_000));
                w.feed(t, pos, n);
                pos += n;
            }
            assertThat(new String(w.captured("backup_label"), StandardCharsets.UTF_8)).isEqualTo(LABEL);
            assertThat(new String(w.captured("PG_VERSION"), StandardCharsets.UTF_8)).isEqualTo("15\n");
            assertThat(w.captured("empty")).isEmpty();
            assertThat(w.captured("base/1/1259")).isNull();
            assertThat(w.members()).isEqualTo(5);
            assertThat(w.terminated()).isTrue();
            assertThat(w.totalBytes()).isEqualTo(t.length);
        }
    }

    @Test
    void watcherNoticesAMissingEndOfArchive() throws IOException {
        byte[] t = tar(false, 1000);
        TarStreamWatcher w = new TarStreamWatcher(Set.of());
        w.feed(t, 0, t.length);
        assertThat(w.members()).isEqualTo(5);
        assertThat(w.terminated()).isFalse();
        w.feed(new byte[1024], 0, 1024);
        assertThat(w.terminated()).isTrue();
    }
}
