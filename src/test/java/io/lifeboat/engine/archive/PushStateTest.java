package io.lifeboat.engine.archive;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class PushStateTest {
    private static final Path WAL = Path.of("/data/pg_wal");

    @Test
    void theCallsAndTheProcessTheyStartShareTheDestination() {
        String call = PushState.destination(List.of("wal-push", "--config", "/etc/a.yml", "pg_wal/000000010000000000000003"),
                Path.of("pg_wal/000000010000000000000003"), false);
        String ahead = PushState.destination(List.of("wal-push", "--config", "/etc/a.yml", "--ahead", "/data/pg_wal"),
                Path.of("/data/pg_wal"), true);
        assertThat(call).isEqualTo("--config /etc/a.yml").isEqualTo(ahead);
        assertThat(PushState.destination(List.of("wal-push", "pg_wal/000000010000000000000003"),
                Path.of("pg_wal/000000010000000000000003"), false)).isEmpty();
    }

    @Test
    void eachDestinationHasItsOwnDirectoryWithANameTheLauncherBuildsToo() {
        assertThat(PushState.directory(WAL, "")).isEqualTo(Path.of("/data/pg_wal/.lifeboat"));
        assertThat(PushState.directory(WAL, "--config /etc/a%b.yml"))
                .isEqualTo(Path.of("/data/pg_wal/.lifeboat/push---config %2Fetc%2Fa%25b.yml"));
        // one-to-one: '/' and an escaped '/' do not meet
        assertThat(PushState.directory(WAL, "--config a/b")).isNotEqualTo(PushState.directory(WAL, "--config a%2Fb"));
        Path longOne = PushState.directory(WAL, "--config /" + "x".repeat(300));
        assertThat(longOne.getFileName().toString()).startsWith("push-sha256-").hasSizeLessThan(80);
    }
}
