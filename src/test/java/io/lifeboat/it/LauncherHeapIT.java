package io.lifeboat.it;

import io.lifeboat.postgres.ExternalProcess;
import io.lifeboat.postgres.ScratchCluster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The JVM options bin/lifeboat starts a command with, seen through a stand-in {@code java} on the
 * PATH that prints its arguments. The long, buffer-heavy commands start with a small initial heap
 * (-Xms64m): with the JVM's default (1/64 of the machine's memory) their peak RSS grew with the
 * host's memory, past 512 MiB on a 64 GiB host for a physical backup of incompressible data.
 */
class LauncherHeapIT {
    Path shim;

    @BeforeEach
    void setUp() throws Exception {
        shim = Files.createTempDirectory("lifeboat-javashim-");
        Path java = shim.resolve("java");
        Files.writeString(java, "#!/bin/sh\nprintf '%s\\n' \"$@\"\n");
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    @AfterEach
    void tearDown() {
        ScratchCluster.deleteTree(shim);
    }

    List<String> javaArgs(Map<String, String> env, String... args) {
        List<String> cmd = new java.util.ArrayList<>(List.of(LauncherProperty.LAUNCHER.toString()));
        cmd.addAll(List.of(args));
        Map<String, String> e = new java.util.HashMap<>(env);
        e.put("PATH", shim + ":" + System.getenv("PATH"));
        e.put("LIFEBOAT_NO_CDS", "1");
        ExternalProcess.Result r = new ExternalProcess(cmd, e).run();
        assertThat(r.exitCode()).as(r.stderr()).isZero();
        return r.stdout().lines().toList();
    }

    @Test
    void backupAndRestoreStartWithASmallHeapThatTheUserCanOverride() {
        for (String command : List.of("backup", "restore", "verify", "agent", "wal-prefetch")) {
            assertThat(javaArgs(Map.of(), command, "--help")).as(command).contains("-Xms64m");
        }
        // LIFEBOAT_JAVA_OPTS comes later on the command line, so that its heap settings win
        List<String> own = javaArgs(Map.of("LIFEBOAT_JAVA_OPTS", "-Xms1g"), "backup", "--help");
        assertThat(own.indexOf("-Xms1g")).isGreaterThan(own.indexOf("-Xms64m"));
        // short commands keep the JVM's defaults
        assertThat(javaArgs(Map.of(), "list")).doesNotContain("-Xms64m");
    }
}
