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
        // its own temporary directory: /tmp is shared with other runs whose warmups come and go meanwhile
        Path tmp = Files.createTempDirectory("lifeboat-warmup-it-");
        Path log = tmp.resolve("classes.txt");
        try {
            ExternalProcess.Result r = new ExternalProcess(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                    .toString(), "-Djava.io.tmpdir=" + tmp, "-Xlog:class+load:file=" + log, "-jar",
                    Path.of("target", "lifeboat.jar").toString(), "warmup"), Map.of()).run();
            assertThat(r.ok()).as(r.stdout() + r.stderr()).isTrue();
            assertThat(r.stderr()).as("nothing to report").isEmpty();
            assertThat(Files.readString(log)).contains("sun.security.ssl.ClientHello ", "sun.security.ssl.SSLSocketImpl ",
                    "com.sun.crypto.provider.GaloisCounterMode ");
            try (Stream<Path> left = Files.list(tmp)) {
                assertThat(left.map(p -> p.getFileName().toString())).as("left behind").containsOnly("classes.txt");
            }
        } finally {
            ScratchCluster.deleteTree(tmp);
        }
    }
}
