package io.lifeboat.engine.physical;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.BackupId;
import io.lifeboat.catalog.BackupManifest;
import io.lifeboat.catalog.BackupType;
import io.lifeboat.catalog.Json;
import io.lifeboat.catalog.StoredObject;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Tar extraction, tablespace mapping, the disk space check and the manifest's physical details. */
class RestorePiecesTest {
    @TempDir
    Path tmp;

    interface Entries {
        void add(TarArchiveOutputStream t) throws IOException;
    }

    private static byte[] tar(Entries entries) throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (TarArchiveOutputStream t = new TarArchiveOutputStream(bos)) {
            entries.add(t);
        }
        return bos.toByteArray();
    }

    private static void file(TarArchiveOutputStream t, String name, String content, int mode) throws IOException {
        byte[] b = content.getBytes(StandardCharsets.UTF_8);
        TarArchiveEntry e = new TarArchiveEntry(name, true); // keep "/" and ".." as given
        e.setSize(b.length);
        e.setMode(mode);
        t.putArchiveEntry(e);
        t.write(b);
        t.closeArchiveEntry();
    }

    private static void dir(TarArchiveOutputStream t, String name) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name);
        e.setMode(040700);
        t.putArchiveEntry(e);
        t.closeArchiveEntry();
    }

    private static void link(TarArchiveOutputStream t, String name, String to) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name, TarArchiveEntry.LF_SYMLINK);
        e.setLinkName(to);
        t.putArchiveEntry(e);
        t.closeArchiveEntry();
    }

    @Test
    void extractsFilesDirectoriesAndMappedTablespaceLinks() throws IOException {
        byte[] t = tar(a -> {
            file(a, "backup_label", "START WAL LOCATION: ...\n", 0100600);
            dir(a, "base/");
            dir(a, "./pg_wal/archive_status/");
            file(a, "base/1/1259", "x".repeat(5000), 0100640);
            dir(a, "pg_tblspc/");
            link(a, "pg_tblspc/16385/", "/old/place");
            link(a, "pg_tblspc/16386", "/kept/place");
            file(a, "global/pg_control", "control", 0100777);
        });
        Path root = Files.createDirectory(tmp.resolve("data"));
        List<Long> written = new ArrayList<>();
        TarExtractor x = new TarExtractor(root, Ownership.unchanged(), Map.of("pg_tblspc/16385", Path.of("/new/place")),
                written::add);
        x.extract(new ByteArrayInputStream(t), "archive base.tar");
        assertThat(root.resolve("backup_label")).hasContent("START WAL LOCATION: ...");
        assertThat(Files.size(root.resolve("base/1/1259"))).isEqualTo(5000);
        assertThat(root.resolve("pg_wal/archive_status")).isDirectory();
        assertThat(Files.readSymbolicLink(root.resolve("pg_tblspc/16385"))).isEqualTo(Path.of("/new/place"));
        assertThat(Files.readSymbolicLink(root.resolve("pg_tblspc/16386"))).isEqualTo(Path.of("/kept/place"));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(root.resolve("backup_label")))).isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(root.resolve("base/1/1259")))).isEqualTo("rw-r-----");
        // never wider than group read: "other" bits and group write are dropped
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(root.resolve("global/pg_control")))).isEqualTo("rwxr-x---");
        assertThat(x.files()).isEqualTo(3);
        assertThat(written.stream().mapToLong(Long::longValue).sum()).isEqualTo(x.bytes()).isEqualTo(24 + 5000 + 7);
    }

    @Test
    void refusesEntriesThatLeaveTheDirectory() throws IOException {
        Path root = Files.createDirectory(tmp.resolve("data"));
        for (String bad : List.of("../evil", "/etc/evil", "a/../../evil")) {
            byte[] t = tar(a -> file(a, bad, "x", 0100600));
            TarExtractor x = new TarExtractor(root, Ownership.unchanged(), Map.of(), n -> { });
            assertThatThrownBy(() -> x.extract(new ByteArrayInputStream(t), "archive base.tar"))
                    .as(bad).isInstanceOfSatisfying(LifeboatException.class, e -> {
                        assertThat(e.kind()).isEqualTo(ErrorKind.CORRUPT);
                        assertThat(e.getMessage()).contains("outside the target directory");
                    });
        }
        assertThat(tmp.resolve("evil")).doesNotExist();
    }

    @Test
    void refusesWritingThroughALinkTheArchiveMade() throws IOException {
        Path root = Files.createDirectory(tmp.resolve("data"));
        Path outside = Files.createDirectory(tmp.resolve("outside"));
        byte[] t = tar(a -> {
            link(a, "sneaky", outside.toString());
            file(a, "sneaky/file", "x", 0100600);
        });
        TarExtractor x = new TarExtractor(root, Ownership.unchanged(), Map.of(), n -> { });
        assertThatThrownBy(() -> x.extract(new ByteArrayInputStream(t), "archive base.tar")).isInstanceOf(LifeboatException.class);
        assertThat(outside.resolve("file")).doesNotExist();
    }

    @Test
    void aTruncatedArchiveIsCorrupt() throws IOException {
        byte[] t = tar(a -> file(a, "big", "y".repeat(20_000), 0100600));
        byte[] cut = java.util.Arrays.copyOf(t, 5000);
        Path root = Files.createDirectory(tmp.resolve("data"));
        TarExtractor x = new TarExtractor(root, Ownership.unchanged(), Map.of(), n -> { });
        assertThatThrownBy(() -> x.extract(new ByteArrayInputStream(cut), "archive base.tar"))
                .isInstanceOfSatisfying(Exception.class, e -> assertThat(e).isInstanceOfAny(LifeboatException.class, IOException.class));
    }

    @Test
    void tablespaceMappingsByOidOrOldDirectory() {
        Map<String, String> spaces = Map.of("16385", "/srv/ts1", "16390", "/srv/ts=2");
        assertThat(TablespaceMapping.targets(spaces, List.of())).containsEntry("16385", Path.of("/srv/ts1"));
        Map<String, Path> t = TablespaceMapping.targets(spaces, List.of(TablespaceMapping.parse("16385=/new/a"),
                TablespaceMapping.parse("/srv/ts\\=2=/new/b")));
        assertThat(t).containsEntry("16385", Path.of("/new/a")).containsEntry("16390", Path.of("/new/b"));
        assertThatThrownBy(() -> TablespaceMapping.targets(spaces, List.of(TablespaceMapping.parse("99=/x"))))
                .hasMessageContaining("not a tablespace of this backup");
        for (String bad : List.of("16385", "=/x", "16385=relative", "relative=/x", "1=2=3")) {
            assertThatThrownBy(() -> TablespaceMapping.parse(bad)).as(bad)
                    .isInstanceOfSatisfying(LifeboatException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.USAGE));
        }
    }

    @Test
    void diskSpaceIsCheckedPerFilesystem() throws IOException {
        Path a = Files.createDirectories(tmp.resolve("a")).resolve("data");
        Path b = Files.createDirectories(tmp.resolve("b")).resolve("ts");
        Map<Path, Long> needs = new LinkedHashMap<>();
        needs.put(a, 600L << 20);
        needs.put(b, 300L << 20);
        // both on one filesystem with 1 GiB free: 900 MiB + slack fits
        DiskSpace.check(needs, dir -> new DiskSpace.Store("fs", "fs", 1L << 30));
        // one filesystem with 800 MiB free: the sum does not fit, although each part would
        assertThatThrownBy(() -> DiskSpace.check(needs, dir -> new DiskSpace.Store("fs", "fs", 800L << 20)))
                .isInstanceOfSatisfying(LifeboatException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.RESOURCE);
                    assertThat(e.getMessage()).contains("not enough disk space").contains("800.0 MiB free");
                });
        // two filesystems of 700 MiB each: fits
        DiskSpace.check(needs, dir -> new DiskSpace.Store(dir.toString(), dir.toString(), 700L << 20));
    }

    @Test
    void physicalDetailsRoundTripAndOldManifestsStillRead() throws IOException {
        BackupId id = BackupId.parse("20261124T220512Z-P");
        BackupManifest.PhysicalDetails d = new BackupManifest.PhysicalDetails("0/2000028", "0/2000100", 1,
                "000000010000000000000002", "000000010000000000000002", "START WAL LOCATION: ...", true,
                Map.of("16385", "/srv/ts1"), "0/2000060", 1, 16 << 20,
                List.of(new BackupManifest.TarArchive("base.tar", null, null, 1000, List.of("base.tar.000001.zst"))),
                List.of("pg_wal/000000010000000000000002.zst"), "backup_manifest.zst", 1);
        BackupManifest m = new BackupManifest(1, id, BackupType.PHYSICAL, "main", Instant.parse("2026-11-24T22:05:12Z"),
                Instant.parse("2026-11-24T22:05:20Z"), 150018, "7311122233344455566", "zstd", "none",
                List.of(new StoredObject("base.tar.000001.zst", 10, "ab", 1000, "zstd", "none")), null, d, Map.of());
        BackupManifest back = Json.MAPPER.readValue(Json.MAPPER.writeValueAsBytes(m), BackupManifest.class);
        assertThat(back).isEqualTo(m);

        String old = """
                {"formatVersion":1,"id":"20261124T220512Z-P","type":"physical","cluster":"main",
                 "startTime":"2026-11-24T22:05:12Z","stopTime":"2026-11-24T22:05:20Z","pgVersionNum":150018,
                 "compression":"zstd","encryption":"none","objects":[],
                 "physical":{"startLsn":"0/2000028","stopLsn":"0/2000100","timeline":1,"walIncluded":false,
                             "tablespaces":{}}}
                """;
        BackupManifest o = Json.MAPPER.readValue(old, BackupManifest.class);
        assertThat(o.physical().startLsn()).isEqualTo("0/2000028");
        assertThat(o.physical().archives()).isNull();
        assertThat(o.physical().walSegmentSize()).isZero();
    }

    @Test
    void baseBackupCommandAndSizes() {
        BackupId id = BackupId.parse("20261124T220512Z-P");
        assertThat(PhysicalBackup.command(PhysicalBackupRequest.defaults(2), id)).isEqualTo("BASE_BACKUP (LABEL "
                + "'lifeboat 20261124T220512Z-P', PROGRESS, CHECKPOINT 'fast', WAIT false, MANIFEST 'yes', "
                + "MANIFEST_CHECKSUMS 'CRC32C')");
        assertThat(PhysicalBackup.command(new PhysicalBackupRequest(true, false, 1024, 2, 1 << 20), id))
                .contains("CHECKPOINT 'spread'").contains("WAIT false").endsWith("MAX_RATE 1024)");
        assertThat(PhysicalBackup.parseSize("16MB")).isEqualTo(16L << 20);
        assertThat(PhysicalBackup.parseSize("1GB")).isEqualTo(1L << 30);
        assertThat(PhysicalBackup.parseSize("8192")).isEqualTo(8192);
    }
}
