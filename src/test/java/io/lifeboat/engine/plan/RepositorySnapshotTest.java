package io.lifeboat.engine.plan;

import io.lifeboat.codec.Compression;
import io.lifeboat.config.ClusterConfig;
import io.lifeboat.config.EncryptionConfig;
import io.lifeboat.config.RepositoryConfig;
import io.lifeboat.config.RepositoryUri;
import io.lifeboat.engine.RepositoryAccess;
import io.lifeboat.engine.archive.WalArchive;
import io.lifeboat.postgres.PgConnectionSettings;
import io.lifeboat.postgres.WalFileName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

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
}
