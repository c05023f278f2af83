package io.lifeboat.catalog;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.storage.MemoryStorage;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CatalogTest {
    private final MemoryStorage storage = new MemoryStorage();
    private final Catalog catalog = new Catalog(storage, new RepositoryLayout("main"));

    private BackupManifest manifest(BackupId id) {
        return new BackupManifest(BackupManifest.FORMAT_VERSION, id, id.type(), "main", id.time(), id.time().plusSeconds(5),
                150004, "123", "zstd", "none", List.of(new StoredObject("db1-x/toc.dat.zst", 10, "ab", 20, "zstd", "none")),
                new BackupManifest.LogicalDetails(List.of(new BackupManifest.DumpedDatabase("x", "db1-x", 100)), null, "15.4", 2),
                null, Map.of());
    }

    @Test
    void backupsWithoutManifestAreUnfinishedAndNeverRestored() throws IOException {
        BackupId done = BackupId.parse("20261124T100000Z-L");
        BackupId half = BackupId.parse("20261124T110000Z-L");
        storage.put(catalog.layout().backupObject(done, "db1-x/toc.dat.zst"), new byte[10]);
        catalog.writeManifest(manifest(done));
        storage.put(catalog.layout().backupObject(half, "db1-x/toc.dat.zst"), new byte[10]);

        List<BackupEntry> list = catalog.list();
        assertThat(list).extracting(BackupEntry::id).containsExactly(done, half);
        assertThat(list).extracting(BackupEntry::status).containsExactly(BackupEntry.Status.COMPLETE, BackupEntry.Status.UNFINISHED);
        assertThat(catalog.manifest(done).objects()).hasSize(1);
        assertThatThrownBy(() -> catalog.manifest(half)).isInstanceOfSatisfying(LifeboatException.class,
                e -> assertThat(e.kind()).isEqualTo(ErrorKind.CONFLICT));
        assertThatThrownBy(() -> catalog.manifest(BackupId.parse("20261124T120000Z-L")))
                .isInstanceOfSatisfying(LifeboatException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.NOT_FOUND));
    }

    @Test
    void theNewestCompleteBackupOfATypeIsFoundWithoutReadingOlderManifests() throws IOException {
        BackupId oldL = BackupId.parse("20261124T090000Z-L");
        BackupId l = BackupId.parse("20261124T100000Z-L");
        BackupId p = BackupId.parse("20261124T103000Z-P");
        BackupId unfinishedL = BackupId.parse("20261124T110000Z-L");
        for (BackupId id : List.of(l, p)) {
            storage.put(catalog.layout().backupObject(id, "x"), new byte[1]);
            catalog.writeManifest(manifest(id));
        }
        storage.put(catalog.layout().manifest(oldL), "{damaged".getBytes()); // never read
        storage.put(catalog.layout().backupObject(unfinishedL, "x"), new byte[1]);

        assertThat(catalog.newestComplete(BackupType.LOGICAL)).get().extracting(BackupManifest::id).isEqualTo(l);
        assertThat(catalog.newestComplete(BackupType.PHYSICAL)).get().extracting(BackupManifest::id).isEqualTo(p);
        storage.delete(catalog.layout().manifest(p));
        assertThat(catalog.newestComplete(BackupType.PHYSICAL)).isEmpty();

        // what a restore starts from: the backup asked for, else the newest of its type, else NOT_FOUND
        assertThat(catalog.manifestOrNewest(null, BackupType.LOGICAL).id()).isEqualTo(l);
        assertThat(catalog.manifestOrNewest(l, BackupType.PHYSICAL).id()).isEqualTo(l);
        assertThatThrownBy(() -> catalog.manifestOrNewest(null, BackupType.PHYSICAL))
                .isInstanceOfSatisfying(LifeboatException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.NOT_FOUND);
                    assertThat(e.getMessage()).contains("no complete physical backup of cluster 'main'");
                    assertThat(e.hint()).contains("lifeboat backup --type physical");
                });
    }

    @Test
    void manyBackupsAreListedInOrderAndADamagedManifestStillFailsTheListing() throws IOException {
        List<BackupId> ids = new java.util.ArrayList<>();
        for (int h = 10; h < 19; h++) {
            BackupId id = BackupId.parse("20261124T" + h + "0000Z-" + (h % 2 == 0 ? "L" : "P"));
            storage.put(catalog.layout().backupObject(id, "x"), new byte[1]);
            catalog.writeManifest(manifest(id));
            ids.add(id);
        }
        assertThat(catalog.list()).extracting(BackupEntry::id).containsExactlyElementsOf(ids);
        assertThat(catalog.list()).allSatisfy(e -> assertThat(e.manifest().id()).isEqualTo(e.id()));
        storage.put(catalog.layout().manifest(ids.get(4)), "{damaged".getBytes());
        assertThatThrownBy(catalog::list).isInstanceOfSatisfying(LifeboatException.class, e -> {
            assertThat(e.kind()).isEqualTo(ErrorKind.CORRUPT);
            assertThat(e.getMessage()).contains(ids.get(4).toString());
        });
    }

    @Test
    void newIdsNeverReuseAnExistingBackup() throws IOException {
        Instant t = Instant.parse("2026-11-24T10:00:00Z");
        storage.put(catalog.layout().backupObject(BackupId.of(t, BackupType.LOGICAL), "x"), new byte[1]);
        assertThat(catalog.newId(BackupType.LOGICAL, t).toString()).isEqualTo("20261124T100001Z-L");
        assertThat(catalog.newId(BackupType.PHYSICAL, t).toString()).isEqualTo("20261124T100000Z-P");
    }

    @Test
    void deleteRemovesEverything() throws IOException {
        BackupId id = BackupId.parse("20261124T100000Z-L");
        storage.put(catalog.layout().backupObject(id, "db1-x/toc.dat.zst"), new byte[10]);
        catalog.writeManifest(manifest(id));
        assertThat(catalog.delete(id)).isEqualTo(2);
        assertThat(catalog.list()).isEmpty();
        assertThatThrownBy(() -> catalog.delete(id)).isInstanceOf(LifeboatException.class);
    }

    @Test
    void aDifferentClusterIsRefused() {
        catalog.ensureClusterInfo("111", 15);
        assertThat(catalog.ensureClusterInfo("111", 15).systemIdentifier()).isEqualTo("111");
        assertThatThrownBy(() -> catalog.ensureClusterInfo("222", 15))
                .isInstanceOfSatisfying(LifeboatException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.CONFLICT);
                    assertThat(e.getMessage()).contains("111", "222");
                });
    }

    @Test
    void aDamagedManifestIsReportedAsCorrupt() throws IOException {
        BackupId id = BackupId.parse("20261124T100000Z-L");
        storage.put(catalog.layout().manifest(id), "{not json".getBytes());
        assertThatThrownBy(() -> catalog.manifest(id)).isInstanceOfSatisfying(LifeboatException.class, e -> {
            assertThat(e.kind()).isEqualTo(ErrorKind.CORRUPT);
            assertThat(e.getMessage()).contains("manifest.json");
        });
    }
}
