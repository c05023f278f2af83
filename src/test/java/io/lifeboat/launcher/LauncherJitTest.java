package io.lifeboat.launcher;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The JIT settings bin/lifeboat gives the data-moving commands keep TLS's AES-GCM on C2's
 * intrinsics. Listing an intrinsic method itself in CompileThresholdScaling is not enough: C2 uses
 * the intrinsic only where it compiles the caller, and a list of the intrinsics alone left every
 * download's decryption in Java loops (about 20x the CPU). The launcher is run as it runs
 * `restore` and `wal-prefetch`, with a jar whose main class decrypts records the way TLS does, and
 * C2's own report (PrintIntrinsics; -Xbatch: compiled before the loop goes on) must show both.
 */
class LauncherJitTest {
    @TempDir
    Path dir;

    @Test
    void restoreAndPrefetchDecryptWithIntrinsics() throws Exception {
        Path jar = workloadJar();
        for (String command : List.of("restore", "wal-prefetch")) {
            String out = launch(jar, command);
            assertThat(out).as(command).containsPattern("GHASH::processBlocks .*\\(intrinsic")
                    .containsPattern("CounterMode::implCrypt .*\\(intrinsic");
        }
    }

    private String launch(Path jar, String command) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(Path.of("bin/lifeboat").toAbsolutePath().toString(), command, "20000");
        pb.environment().put("LIFEBOAT_JAR", jar.toString());
        pb.environment().put("LIFEBOAT_NO_CDS", "1");
        pb.environment().put("LIFEBOAT_JAVA_OPTS", "-Xbatch -XX:+UnlockDiagnosticVMOptions -XX:+PrintIntrinsics");
        pb.redirectErrorStream(true);
        Path log = dir.resolve(command + ".log");
        pb.redirectOutput(log.toFile());
        Process p = pb.start();
        assertThat(p.waitFor(5, TimeUnit.MINUTES)).isTrue();
        assertThat(p.exitValue()).as(Files.readString(log)).isZero();
        return Files.readString(log, StandardCharsets.UTF_8);
    }

    private Path workloadJar() throws Exception {
        Manifest m = new Manifest();
        m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        m.getMainAttributes().put(Attributes.Name.MAIN_CLASS, GcmWorkload.class.getName());
        Path jar = dir.resolve("workload.jar");
        String entry = GcmWorkload.class.getName().replace('.', '/') + ".class";
        try (OutputStream f = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(f, m);
             InputStream in = GcmWorkload.class.getClassLoader().getResourceAsStream(entry)) {
            j.putNextEntry(new JarEntry(entry));
            in.transferTo(j);
            j.closeEntry();
        }
        return jar;
    }
}
