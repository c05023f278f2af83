package io.lifeboat.engine;

import io.lifeboat.config.ClusterConfig;
import io.lifeboat.config.ConfigLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Repositories opened ahead of a command are handed over only for exactly the settings they were opened with. */
class PreparedRepositoriesTest {
    @TempDir
    Path dir;

    private ClusterConfig cluster(String repoDir, boolean allowSameServer) throws Exception {
        Files.createDirectories(dir.resolve(repoDir));
        Path yml = dir.resolve(repoDir + ".yml");
        Files.writeString(yml, "clusters:\n  c:\n    postgres:\n      host: 127.0.0.1\n    repositories:\n"
                + "      - uri: file://" + dir.resolve(repoDir) + "\n" + (allowSameServer ? "        allow-same-server: true\n" : ""));
        return ConfigLoader.load(yml, null, Map.of(), Map.of());
    }

    @Test
    void handsOverTheSameSettingsOnceAndNothingElse() throws Exception {
        ClusterConfig guessed = cluster("a", true);
        ClusterConfig other = cluster("b", true);
        try (PreparedRepositories p = PreparedRepositories.start(() -> guessed)) {
            assertThat(p.claim(other.primaryRepository())).isNull();
            assertThat(p.claim(cluster("a", true).primaryRepository())).isNotNull();
            assertThat(p.claim(guessed.primaryRepository())).as("claimed once").isNull();
        }
    }

    @Test
    void aGuessThatFailsOrIsRefusedOpensNothing() throws Exception {
        ClusterConfig refused = cluster("a", false); // a local directory without allow-same-server: the guard refuses it
        try (PreparedRepositories p = PreparedRepositories.start(() -> refused)) {
            assertThat(p.claim(refused.primaryRepository())).isNull();
        }
        ClusterConfig ok = cluster("b", true);
        try (PreparedRepositories p = PreparedRepositories.start(() -> {
            throw new IllegalStateException("no configuration");
        })) {
            assertThat(p.claim(ok.primaryRepository())).isNull();
        }
    }

    @Test
    void anOpenedRepositoryIsUsedByTheCommand() throws Exception {
        ClusterConfig c = cluster("a", true);
        try (PreparedRepositories p = PreparedRepositories.start(() -> c);
             RepositoryAccess repo = RepositoryAccess.open(c, w -> { }, p)) {
            assertThat(repo.catalog().list()).isEmpty();
            assertThat(p.claim(c.primaryRepository())).as("taken by open").isNull();
        }
    }
}
