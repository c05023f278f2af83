package io.lifeboat.it;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * `lifeboat warmup` is what the launcher records the start-up archive from; if it failed, the
 * launcher would quietly go without the archive and every command would start several times slower.
 */
class WarmupIT {
    @Test
    void warmupRunsEveryPathItCoversAndLeavesNothingBehind() throws IOException {
        long before = warmupDirs();
        Cli.Result r = Cli.run("warmup");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.err()).as("nothing to report").isEmpty();
        assertThat(warmupDirs()).isEqualTo(before);
    }

    private static long warmupDirs() throws IOException {
        try (Stream<Path> s = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
            return s.filter(p -> p.getFileName().toString().startsWith("lifeboat-warmup-")).count();
        }
    }
}
