package io.lifeboat.engine.archive;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.RepositoryLayout;
import io.lifeboat.codec.Compression;
import io.lifeboat.codec.Encryption;
import io.lifeboat.engine.ObjectPipeline;
import io.lifeboat.postgres.WalFileName;
import io.lifeboat.storage.MemoryStorage;
import io.lifeboat.storage.ObjectInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class WalArchiveTest {
    @TempDir
    Path dir;
    final MemoryStorage storage = new MemoryStorage();
    final WalArchive archive = new WalArchive(storage, new RepositoryLayout("main"),
            new ObjectPipeline(storage, Compression.ZSTD, 1, Encryption.NONE));

    Path wal(String name, long seed) throws IOException {
        byte[] b = new byte[1 << 20];
        new Random(seed).nextBytes(b);
        for (int i = 0; i < b.length / 2; i++) {
            b[i] = 0; // compressible half, like a real segment
        }
        Path p = dir.resolve("pg_wal").resolve(name);
        Files.createDirectories(p.getParent());
        Files.write(p, b);
        return p;
    }

    @Test
    void pushThenFetchRoundTripsAndRePushIsIdempotent() throws IOException {
        Path seg = wal("000000010000000A000000FE", 1);
        assertThat(archive.push(seg)).isEqualTo(WalArchive.PushOutcome.ARCHIVED);
        assertThat(archive.push(seg)).isEqualTo(WalArchive.PushOutcome.ALREADY_ARCHIVED);
        assertThat(storage.list("main/wal/000000010000000A/")).hasSize(1)
                .allMatch(o -> o.key().endsWith(".zst") && o.key().contains("000000010000000A000000FE.sha256-"));
        Path target = dir.resolve("restored");
        assertThat(archive.fetch(WalFileName.parse("000000010000000A000000FE"), target)).isTrue();
        assertThat(Files.readAllBytes(target)).isEqualTo(Files.readAllBytes(seg));
    }

    @Test
    void differentContentUnderTheSameNameIsAConflict() throws IOException {
        archive.push(wal("000000010000000000000003", 1));
        Path other = wal("000000010000000000000003", 2);
        assertThatThrownBy(() -> archive.push(other)).isInstanceOfSatisfying(LifeboatException.class, e -> {
            assertThat(e.kind()).isEqualTo(ErrorKind.CONFLICT);
            assertThat(e.getMessage()).contains("000000010000000000000003", "different content");
        });
    }

    @Test
    void missingIsFalseAndCorruptIsNamedAndNeverServed() throws IOException {
        assertThat(archive.fetch(WalFileName.parse("000000010000000000000009"), dir.resolve("x"))).isFalse();
        archive.push(wal("000000010000000000000004", 3));
        ObjectInfo o = storage.list("main/wal/").get(0);
        byte[] stored = storage.get(o.key());
        stored[stored.length / 2] ^= 0x55;
        storage.overwriteRaw(o.key(), stored);
        Path target = dir.resolve("pg_wal/RECOVERYXLOG");
        assertThatThrownBy(() -> archive.fetch(WalFileName.parse("000000010000000000000004"), target))
                .isInstanceOfSatisfying(LifeboatException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.CORRUPT);
                    assertThat(e.getMessage()).contains(o.key());
                });
        assertThat(target).doesNotExist();
        try (var files = Files.list(target.getParent())) {
            assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith(".lifeboat-fetch"));
        }
    }

    @Test
    void historyAndBackupHistoryFiles() throws IOException {
        Path h = dir.resolve("pg_wal/00000002.history");
        Files.createDirectories(h.getParent());
        Files.writeString(h, "1\t0/3000000\tno recovery target specified\n");
        archive.push(h);
        assertThat(storage.list("main/wal/00000002.history")).hasSize(1);
        archive.push(wal("000000010000000000000002.00000028.backup", 4));
        assertThat(storage.list("main/wal/0000000100000000/000000010000000000000002.00000028.backup")).hasSize(1);
        assertThat(archive.fetch(WalFileName.parse("00000002.history"), dir.resolve("h"))).isTrue();
        assertThat(Files.readString(dir.resolve("h"))).contains("no recovery target");
    }

    @Test
    void onlyWalFileNamesAreAccepted() {
        assertThatThrownBy(() -> archive.push(dir.resolve("postgresql.conf"))).isInstanceOfSatisfying(LifeboatException.class,
                e -> assertThat(e.kind()).isEqualTo(ErrorKind.USAGE));
        assertThatThrownBy(() -> WalFileName.parse("00000001000000000000000")).isInstanceOf(LifeboatException.class);
        assertThat(WalFileName.parse("000000020000000000000005.partial").kind()).isEqualTo(WalFileName.Kind.PARTIAL);
    }

    @Test
    void passphraseEncryptedWalIsReadFromItsStanzaWithoutAManifest() throws IOException {
        io.lifeboat.codec.AgeEncryption age = new io.lifeboat.codec.AgeEncryption(java.util.List.of(), null,
                io.lifeboat.codec.Passphrase.ofEnvironment("wal pass"), io.lifeboat.codec.AgeScrypt.MIN_WORK_FACTOR);
        WalArchive enc = new WalArchive(storage, new RepositoryLayout("main"),
                new ObjectPipeline(storage, Compression.ZSTD, 1, age));
        Path seg = wal("000000010000000000000021", 4);
        assertThat(enc.push(seg)).isEqualTo(WalArchive.PushOutcome.ARCHIVED);
        assertThat(storage.list("main/wal/")).singleElement().matches(o -> o.key().endsWith(".zst.age"));
        Path target = dir.resolve("fetched");
        assertThat(enc.fetch(WalFileName.parse("000000010000000000000021"), target)).isTrue();
        assertThat(Files.readAllBytes(target)).isEqualTo(Files.readAllBytes(seg));
        // the wrong passphrase: a KEY error, and nothing handed to the server
        WalArchive wrong = new WalArchive(storage, new RepositoryLayout("main"), new ObjectPipeline(storage,
                Compression.ZSTD, 1, new io.lifeboat.codec.AgeEncryption(java.util.List.of(), null,
                io.lifeboat.codec.Passphrase.ofEnvironment("not it"), 16)));
        Path t2 = dir.resolve("fetched2");
        assertThatThrownBy(() -> wrong.fetch(WalFileName.parse("000000010000000000000021"), t2))
                .isInstanceOfSatisfying(LifeboatException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.KEY));
        assertThat(t2).doesNotExist();
    }

    /** The network failing is STORAGE naming the object, and a local write failing is RESOURCE naming the path. */
    @Test
    void transportAndLocalFailuresAreNeverCalledDamage() throws IOException {
        Path seg = wal("000000010000000A000000FD", 3);
        archive.push(seg);
        WalFileName name = WalFileName.parse("000000010000000A000000FD");
        storage.retryFor(java.time.Duration.ofMillis(300));
        storage.cutReads(1000, 0);
        assertThatThrownBy(() -> archive.fetch(name, dir.resolve("out1"))).isInstanceOfSatisfying(LifeboatException.class,
                e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.STORAGE);
                    assertThat(e.getMessage()).contains("000000010000000A000000FD.sha256-", storage.describe());
                });
        storage.cutReads(2, 1000);
        assertThat(archive.fetch(name, dir.resolve("out2"))).isTrue(); // resumed
        assertThat(Files.readAllBytes(dir.resolve("out2"))).isEqualTo(Files.readAllBytes(seg));
        Path nowhere = dir.resolve("no/such/dir/RECOVERYXLOG");
        assertThatThrownBy(() -> archive.fetch(name, nowhere)).isInstanceOfSatisfying(LifeboatException.class, e -> {
            assertThat(e.kind()).isEqualTo(ErrorKind.RESOURCE);
            assertThat(e.getMessage()).contains(dir.resolve("no/such/dir").toString());
        });
    }

    /** A segment whose first page carries a long header (PostgreSQL 15, 16 MiB segments) from system {@code sysid}. */
    Path segmentOf(String name, long sysid, long seed) throws IOException {
        Path p = wal(name, seed);
        Files.write(p, io.lifeboat.postgres.TestWal.withHeader(Files.readAllBytes(p), name, Long.toUnsignedString(sysid)));
        return p;
    }

    @Test
    void walOfAnotherClusterIsRefusedAndNothingStored() throws IOException {
        io.lifeboat.catalog.Catalog catalog = new io.lifeboat.catalog.Catalog(storage, new RepositoryLayout("main"));
        catalog.ensureClusterInfo("7714326627442931669", 15);
        Path foreign = segmentOf("000000010000000000000005", 7000000000000000001L, 1);
        assertThatThrownBy(() -> archive.push(foreign)).isInstanceOfSatisfying(LifeboatException.class, e -> {
            assertThat(e.kind()).isEqualTo(ErrorKind.CONFLICT);
            assertThat(e.exitCode()).isEqualTo(9);
            assertThat(e.getMessage()).contains("000000010000000000000005", "7000000000000000001", "7714326627442931669",
                    "nothing was stored");
        });
        assertThat(storage.list("main/wal/")).isEmpty();
        // the cluster's own WAL goes in; one whose header says it starts elsewhere does not
        assertThat(archive.push(segmentOf("000000010000000000000006", 7714326627442931669L, 2)))
                .isEqualTo(WalArchive.PushOutcome.ARCHIVED);
        Path renamed = dir.resolve("pg_wal/000000010000000000000009");
        Files.copy(segmentOf("000000010000000000000007", 7714326627442931669L, 3), renamed);
        assertThatThrownBy(() -> archive.push(renamed)).isInstanceOfSatisfying(LifeboatException.class,
                e -> assertThat(e.getMessage()).contains("0/9000000", "0/7000000"));
        // with a system known, a file without a page header is no WAL of it
        assertThatThrownBy(() -> archive.push(wal("00000001000000000000000A", 4))).isInstanceOfSatisfying(
                LifeboatException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.CORRUPT));
        assertThat(storage.list("main/wal/")).hasSize(1);
        // a partial segment (at promotion) is WAL too
        Path partial = dir.resolve("pg_wal/000000010000000000000008.partial");
        Files.copy(segmentOf("000000010000000000000008", 7000000000000000001L, 5), partial);
        assertThatThrownBy(() -> archive.push(partial)).isInstanceOfSatisfying(LifeboatException.class,
                e -> assertThat(e.kind()).isEqualTo(ErrorKind.CONFLICT));
    }

    @Test
    void theFirstWalClaimsAnUnclaimedPrefix() throws IOException {
        io.lifeboat.catalog.Catalog catalog = new io.lifeboat.catalog.Catalog(storage, new RepositoryLayout("main"));
        assertThat(catalog.clusterInfo()).isEmpty();
        archive.push(segmentOf("000000010000000000000001", 42L, 1));
        assertThat(catalog.clusterInfo()).get().satisfies(c -> {
            assertThat(c.systemIdentifier()).isEqualTo("42");
            assertThat(c.pgMajor()).isEqualTo(15);
        });
        WalArchive second = new WalArchive(storage, new RepositoryLayout("main"),
                new ObjectPipeline(storage, Compression.ZSTD, 1, Encryption.NONE));
        assertThatThrownBy(() -> second.push(segmentOf("000000010000000000000002", 43L, 2)))
                .isInstanceOfSatisfying(LifeboatException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.CONFLICT));
        // a backup of the other cluster is refused there too
        assertThatThrownBy(() -> catalog.ensureClusterInfo("43", 15)).isInstanceOf(LifeboatException.class);
    }
}
