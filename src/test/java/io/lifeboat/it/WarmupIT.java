package io.lifeboat.it;

import io.lifeboat.postgres.ExternalProcess;
import io.lifeboat.postgres.ScratchCluster;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * `lifeboat warmup` is what the launcher records the start-up archive from; if it failed, the
 * launcher would quietly go without the archive and every command would start several times slower.
 */
class WarmupIT {
    /**
     * Repositories on real S3 endpoints speak https, so the TLS handshake and its ciphers are in the
     * archive too (without them about 700 JDK classes loaded at every start, ~0.4 s of CPU before a
     * restore's first download): the classes warmup loads are the ones the launcher archives.
     */
    @Test
    void warmupRunsEveryPathItCoversTlsIncludedAndLeavesNothingBehind() throws IOException {
        long before = warmupDirs();
        // not created beforehand (the JVM would keep an existing file as classes.txt.0) nor named like warmup's own
        Path logDir = Files.createTempDirectory("lifeboat-classlog-");
        Path log = logDir.resolve("classes.txt");
        try {
            ExternalProcess.Result r = new ExternalProcess(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                    .toString(), "-Xlog:class+load:file=" + log, "-jar", Path.of("target", "lifeboat.jar").toString(),
                    "warmup"), Map.of()).run();
            assertThat(r.ok()).as(r.stdout() + r.stderr()).isTrue();
            assertThat(r.stderr()).as("nothing to report").isEmpty();
            assertThat(Files.readString(log)).contains("sun.security.ssl.ClientHello ", "sun.security.ssl.SSLSocketImpl ",
                    "com.sun.crypto.provider.GaloisCounterMode ");
        } finally {
            ScratchCluster.deleteTree(logDir);
        }
        assertThat(warmupDirs()).isEqualTo(before);
    }

    private static long warmupDirs() throws IOException {
        try (Stream<Path> s = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
            return s.filter(p -> p.getFileName().toString().startsWith("lifeboat-warmup-")).count();
        }
    }
}
