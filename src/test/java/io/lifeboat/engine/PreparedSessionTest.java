package io.lifeboat.engine;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.config.ClusterConfig;
import io.lifeboat.config.ConfigLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A session opened ahead that could not open hands nothing over: the command meets the failure itself. */
class PreparedSessionTest {
    @TempDir
    Path dir;

    @Test
    void aGuessThatCannotConnectLeavesTheCommandItsOwnAttemptAndError() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        Path yml = dir.resolve("lifeboat.yml");
        Files.writeString(yml, "clusters:\n  c:\n    postgres:\n      host: 127.0.0.1\n      port: " + closed + "\n"
                + "    repositories:\n      - uri: file://" + dir + "\n");
        ClusterConfig c = ConfigLoader.load(yml, null, Map.of(), Map.of());
        try (PreparedSession p = PreparedSession.start(() -> c, ClusterConfig::postgres, List.of())) {
            assertThat(p.claim(c.postgres())).isNull();
            assertThatThrownBy(() -> p.open(c.postgres())).isInstanceOfSatisfying(LifeboatException.class,
                    e -> assertThat(e.kind()).isEqualTo(ErrorKind.DATABASE));
        }
        try (PreparedSession p = PreparedSession.start(() -> {
            throw new IllegalStateException("no configuration");
        }, ClusterConfig::postgres, List.of("pg_dump"))) {
            assertThat(p.claim(c.postgres())).isNull();
        }
        assertThat(PreparedSession.none().claim(c.postgres())).isNull();
    }
}
