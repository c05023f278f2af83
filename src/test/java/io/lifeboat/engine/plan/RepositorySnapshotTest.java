package io.lifeboat.engine.plan;

import io.lifeboat.catalog.BackupManifest;
import io.lifeboat.catalog.Json;
import io.lifeboat.codec.Compression;
import io.lifeboat.config.ClusterConfig;
import io.lifeboat.config.EncryptionConfig;
import io.lifeboat.config.RepositoryConfig;
import io.lifeboat.config.RepositoryUri;
import io.lifeboat.engine.RepositoryAccess;
import io.lifeboat.engine.archive.WalArchive;
import io.lifeboat.engine.verify.DrillRecord;
import io.lifeboat.engine.verify.RestoreDrill;
import io.lifeboat.postgres.PgConnectionSettings;
import io.lifeboat.postgres.WalFileName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class RepositorySnapshotTest {
    @TempDir
    Path dir;

    @Test
    void anEncryptedRepositoryIsReadWithoutTheIdentity() throws Exception {
        Path r = Files.createDirectories(dir.resolve("repo"));
        String uri = "file://" + r;
        var pair = new com.exceptionfactory.jagged.x25519.X25519KeyPairGenerator().generateKeyPair();
        // a working identity file: had the snapshot used it, the history would have been decrypted and read
        Path identity = dir.resolve("identity.txt");
        Files.writeString(identity, pair.getPrivate() + "\n");
        Files.setPosixFilePermissions(identity, PosixFilePermissions.fromString("rw-------"));
        ClusterConfig cfg = new ClusterConfig("c", new PgConnectionSettings("127.0.0.1", 1, "postgres", "postgres", null,
                null), List.of(new RepositoryConfig("main", RepositoryUri.parse(uri), uri, Compression.ZSTD, 3, true, null,
                null, 16, 4)), 2, dir.resolve("spool"), null, null, null, false,
                new EncryptionConfig(List.of(pair.getPublic().toString()), identity), 1);
        try (RepositoryAccess repo = RepositoryAccess.open(cfg, w -> { })) {
            byte[] history = "1\t0/5000100\tno recovery target specified\n".getBytes(StandardCharsets.UTF_8);
            new WalArchive(repo.storage(), repo.catalog().layout(), repo.pipeline())
                    .push(WalFileName.parse("00000002.history"), history, history.length);
            RepositorySnapshot s = RepositorySnapshot.read(repo);
            assertThat(s.archive().histories()).extracting(t -> t.value()).containsExactly(2L);
            assertThat(s.histories()).isEmpty();
            assertThat(s.notes()).singleElement().asString().contains("timeline 2", "it is encrypted, and the dashboard "
                    + "does not read the identity");
            assertThat(s.usage()).singleElement().satisfies(u -> {
                assertThat(u.error()).isNull();
                assertThat(u.walBytes()).isPositive();
            });
            // the control: the repository's own pipeline (a restore's, a drill's) reads it with the identity
            assertThat(new WalArchive(repo.storage(), repo.catalog().layout(), repo.pipeline())
                    .read(WalFileName.parse("00000002.history")).orElseThrow()).containsExactly(history);
        }
    }

    @Test
    void usageIsPerRepositoryAndOneThatCannotBeListedSaysWhy() throws Exception {
        Path a = Files.createDirectories(dir.resolve("near"));
        Path b = Files.createDirectories(dir.resolve("far"));
        ClusterConfig cfg = new ClusterConfig("c", new PgConnectionSettings("127.0.0.1", 1, "postgres", "postgres", null,
                null), List.of(repo("near", a), repo("far", b)), 2, dir.resolve("spool"), null, null, null, false);
        try (RepositoryAccess repo = RepositoryAccess.open(cfg, w -> { })) {
            byte[] history = "1\t0/5000100\tno recovery target specified\n".getBytes(StandardCharsets.UTF_8);
            new WalArchive(repo.storage(), repo.catalog().layout(), repo.pipeline())
                    .push(WalFileName.parse("00000002.history"), history, history.length);
            // the far one holds something more: a job record of 5,000 bytes
            Files.createDirectories(b.resolve("c/jobs/verify"));
            Files.write(b.resolve("c/jobs/verify/20261201T120000.000Z.json"), new byte[5000]);
            RepositorySnapshot s = RepositorySnapshot.read(repo);
            assertThat(s.usage()).extracting(RepositorySnapshot.Usage::name).containsExactly("near", "far");
            RepositorySnapshot.Usage near = s.usage().get(0);
            RepositorySnapshot.Usage far = s.usage().get(1);
            assertThat(near.walBytes()).isPositive().isEqualTo(far.walBytes());
            assertThat(far.otherBytes() - near.otherBytes()).isEqualTo(5000);
            assertThat(far.objects()).isEqualTo(near.objects() + 1);
            assertThat(far.location()).contains(b.toString());

            // the far one gone: it says why, the near one is still counted
            Files.move(b, dir.resolve("far-moved"));
            RepositorySnapshot gone = RepositorySnapshot.read(repo);
            assertThat(gone.usage().get(0).error()).isNull();
            assertThat(gone.usage().get(0).walBytes()).isEqualTo(near.walBytes());
            assertThat(gone.usage().get(1).error()).isNotBlank();
            assertThat(gone.members().get(1).error()).isNotBlank();
        }
    }

    @Test
    void drillRecordsComeFromTheListingAndAreReadOnce() throws Exception {
        Path r = Files.createDirectories(dir.resolve("drilled"));
        ClusterConfig cfg = new ClusterConfig("c", new PgConnectionSettings("127.0.0.1", 1, "postgres", "postgres", null,
                null), List.of(repo("main", r)), 2, dir.resolve("spool"), null, null, null, false);
        PlanFixture fx = new PlanFixture();
        BackupManifest b = fx.physical(2, 3);
        try (RepositoryAccess repo = RepositoryAccess.open(cfg, w -> { })) {
            repo.catalog().writeManifest(b);
            for (int i = 1; i <= 12; i++) {
                DrillRecord d = new DrillRecord(b.id(), b.stopTime().plusSeconds(60L * i), true, i, "scratch", Map.of(),
                        List.of(), null, null);
                repo.storage().put(repo.catalog().layout().drillsDir(b.id()) + "/" + String.format("%02d", i) + ".json",
                        Json.MAPPER.writeValueAsBytes(d));
            }
            RepositorySnapshot.Memory memory = new RepositorySnapshot.Memory();
            List<DrillRecord> first = RepositorySnapshot.read(repo, memory).drills().get(b.id());
            // the newest ten, as RestoreDrill.history gives them
            assertThat(first).extracting(DrillRecord::restoreSeconds).containsExactly(3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0,
                    10.0, 11.0, 12.0);
            assertThat(first).isEqualTo(RestoreDrill.history(repo.catalog(), b.id(), RepositorySnapshot.DRILLS_PER_BACKUP));
            // once read, a record is not read again: spoilt, it still counts for this reader, not for a new one
            repo.storage().put(repo.catalog().layout().drillsDir(b.id()) + "/12.json", "{".getBytes(StandardCharsets.UTF_8));
            assertThat(RepositorySnapshot.read(repo, memory).drills().get(b.id())).hasSize(10);
            assertThat(RepositorySnapshot.read(repo, new RepositorySnapshot.Memory()).drills().get(b.id())).hasSize(9);
        }
    }

    private static RepositoryConfig repo(String name, Path root) {
        String uri = "file://" + root;
        return new RepositoryConfig(name, RepositoryUri.parse(uri), uri, Compression.ZSTD, 3, true, null, null, 16, 4);
    }
}
