package io.lifeboat.it;

import io.lifeboat.postgres.ExternalProcess;
import io.lifeboat.postgres.ScratchCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * bin/lifeboat wal-fetch as PostgreSQL runs it (as the server's user): exactly two answers end with
 * a code below 126, "here it is" (0) and "the repository does not have it" (1); every failure of
 * the launcher, the JVM, the command line or the configuration exits 200, which stops recovery
 * where a code below 126 would end it and promote at the wrong point.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WalFetchExitCodesIT {
    Path work;
    Path repo;
    Path pgWal;
    Path config;

    @BeforeAll
    void setUp() throws Exception {
        work = Files.createTempDirectory("lifeboat-fetchcodes-");
        Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxr-xr-x"));
        repo = Files.createDirectories(work.resolve("repo/c/wal"));
        pgWal = Files.createDirectories(work.resolve("data/pg_wal"));
        config = work.resolve("lifeboat.yml");
        Files.writeString(config, "clusters:\n  c:\n    repositories:\n      - uri: file://" + work.resolve("repo")
                + "\n        allow-same-server: true\n");
        ScratchCluster.giveToServerUser(work);
    }

    @AfterAll
    void tearDown() {
        ScratchCluster.deleteTree(work);
    }

    /** bin/lifeboat wal-fetch ARGS... %f %p as the server's user, with extra environment. */
    ExternalProcess.Result fetch(Map<String, String> env, String... args) {
        List<String> cmd = new ArrayList<>(List.of(LauncherProperty.LAUNCHER.toString(), "wal-fetch"));
        cmd.addAll(List.of(args));
        Map<String, String> e = new HashMap<>(env);
        e.put("LIFEBOAT_NO_CDS", "1");
        return new ExternalProcess(ExternalProcess.asUser(ScratchCluster.OS_USER, cmd), e).run();
    }

    ExternalProcess.Result fetch(String... args) {
        return fetch(Map.of(), args);
    }

    String target() {
        return pgWal.resolve("RECOVERYXLOG").toString();
    }

    @Test
    void aFileTheRepositoryDoesNotHaveIsTheOnlyEndOfTheArchive() {
        ExternalProcess.Result r = fetch("--config", config.toString(), "--cluster", "c", "000000010000000000000001", target());
        assertThat(r.exitCode()).as(r.stderr()).isEqualTo(1);
        // timeline 1 has no history file: answered by the launcher itself
        assertThat(fetch("--config", config.toString(), "00000001.history", target()).exitCode()).isEqualTo(1);
    }

    @Test
    void aConfigurationTheServersUserCannotReadStopsRecovery() throws Exception {
        // As the issue found it: a root-owned 0600 configuration read by the postgres user exited 3.
        Path secret = work.resolve("root-only.yml");
        Files.copy(config, secret);
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-------"));
        new ExternalProcess(List.of("chown", "root:", secret.toString()), Map.of()).runChecked("chown");
        ExternalProcess.Result r = fetch("--config", secret.toString(), "--cluster", "c", "000000010000000000000001", target());
        assertThat(r.exitCode()).as(r.stderr()).isEqualTo(200);
        assertThat(r.stderr()).contains("root-only.yml");
        // a configuration that is wrong, or a cluster it does not name
        assertThat(fetch("--config", work.resolve("none.yml").toString(), "000000010000000000000001", target()).exitCode())
                .isEqualTo(200);
        assertThat(fetch("--config", config.toString(), "--cluster", "other", "000000010000000000000001", target()).exitCode())
                .isEqualTo(200);
    }

    @Test
    void aBadCommandLineStopsRecovery() {
        assertThat(fetch("--config", config.toString(), "--no-such-option", "000000010000000000000001", target()).exitCode())
                .isEqualTo(200);
        assertThat(fetch("--config", config.toString(), "RECOVERYXLOG", target()).exitCode()).isEqualTo(200);
        assertThat(fetch().exitCode()).isEqualTo(200);
    }

    @Test
    void theLauncherOrTheJvmFailingStopsRecovery() throws Exception {
        String[] args = {"--config", config.toString(), "000000010000000000000001", target()};
        // the jar is missing (exited 11)
        assertThat(fetch(Map.of("LIFEBOAT_JAR", work.resolve("none.jar").toString()), args).exitCode()).isEqualTo(200);
        // the JVM does not start (exited 1, PostgreSQL's "not in the archive")
        ExternalProcess.Result jvm = fetch(Map.of("LIFEBOAT_JAVA_OPTS", "-XX:+NoSuchVmOption"), args);
        assertThat(jvm.stderr()).contains("NoSuchVmOption");
        assertThat(jvm.exitCode()).isEqualTo(200);
        ExternalProcess.Result heap = fetch(Map.of("LIFEBOAT_JAVA_OPTS", "-Xmx1m"), args);
        assertThat(heap.exitCode()).as(heap.stderr()).isEqualTo(200);
        // a failing command under set -e (exited with that command's code, here 1): dirname answers a
        // directory that does not exist, so the launcher's cd fails before the JVM
        Path shim = Files.createDirectories(work.resolve("shim"));
        Files.writeString(shim.resolve("dirname"), "#!/bin/sh\necho /nonexistent\n");
        Files.setPosixFilePermissions(shim.resolve("dirname"), PosixFilePermissions.fromString("rwxr-xr-x"));
        ExternalProcess.Result setE = fetch(Map.of("PATH", shim + ":" + System.getenv("PATH")), args);
        assertThat(setE.stderr()).contains("/nonexistent");
        assertThat(setE.exitCode()).isEqualTo(200);
    }
}
