package io.lifeboat.cli;

import io.lifeboat.config.ClusterConfig;
import io.lifeboat.config.ConfigLoader;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The restore_command a physical restore writes for a backup without its WAL. */
class WalFetchCommandTest {
    @Test
    void callsBackTheLauncherWithTheSameRepository() {
        RestoreCommand c = new RestoreCommand();
        c.cluster = new ClusterOptions();
        c.cluster.repo = "s3://bucket/prefix?endpoint=http://10.0.0.5:9000&path-style=true";
        ClusterConfig cfg = ConfigLoader.load(null, "main", Map.of(), Map.of("repo", c.cluster.repo,
                "allow-same-server", "true"));
        String old = System.getProperty("lifeboat.launcher");
        System.setProperty("lifeboat.launcher", "/opt/life boat/bin/lifeboat");
        try {
            assertThat(WalFetchCommandLine.of(cfg, c.cluster)).isEqualTo("'/opt/life boat/bin/lifeboat' wal-fetch --cluster main --repo "
                    + "'s3://bucket/prefix?endpoint=http://10.0.0.5:9000&path-style=true' --allow-same-server %f %p");
        } finally {
            if (old == null) {
                System.clearProperty("lifeboat.launcher");
            } else {
                System.setProperty("lifeboat.launcher", old);
            }
        }
        assertThat(RestoreCommand.shellQuote("it's")).isEqualTo("'it'\\''s'");
        assertThat(RestoreCommand.shellQuote("/usr/bin/lifeboat")).isEqualTo("/usr/bin/lifeboat");
    }

    @Test
    void namesThePassphraseFileNeverThePassphrase() {
        RestoreCommand c = new RestoreCommand();
        c.cluster = new ClusterOptions();
        c.cluster.repo = "file:///mnt/nfs/backups";
        ClusterConfig cfg = ConfigLoader.load(null, "main", Map.of(), Map.of("repo", c.cluster.repo,
                "passphrase-file", "/secure/pass phrase"));
        assertThat(WalFetchCommandLine.of(cfg, c.cluster)).contains("--passphrase-file '/secure/pass phrase' %f %p");
        ClusterConfig fromEnv = ConfigLoader.load(null, "main", Map.of("LIFEBOAT_PASSPHRASE", "hunter2 hunter2"),
                Map.of("repo", c.cluster.repo));
        assertThat(WalFetchCommandLine.of(fromEnv, c.cluster)).doesNotContain("hunter2").doesNotContain("--passphrase-file");
    }

    static int run(String... args) {
        java.io.ByteArrayOutputStream sink = new java.io.ByteArrayOutputStream();
        java.io.PrintStream ps = new java.io.PrintStream(sink, true, java.nio.charset.StandardCharsets.UTF_8);
        return Main.run(args, ps, ps);
    }

    /**
     * Only a repository's answer that it lacks the file is "not in the archive" (44, which
     * bin/lifeboat turns into PostgreSQL's 1); a command line or configuration error, which once exited
     * 2 or 3 and so ended recovery early, stops recovery (200) like every other failure.
     */
    @Test
    void everyFailureButAProvenMissingFileStopsRecovery(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        java.nio.file.Path repo = java.nio.file.Files.createDirectories(dir.resolve("repo"));
        String target = dir.resolve("pg_wal/RECOVERYXLOG").toString();
        java.nio.file.Files.createDirectories(dir.resolve("pg_wal"));
        String[] where = {"--repo", "file://" + repo, "--cluster", "c", "--allow-same-server"};
        assertThat(run(concat(new String[] {"wal-fetch", "000000010000000000000001", target}, where)))
                .isEqualTo(WalFetchCommand.NOT_IN_ARCHIVE).isEqualTo(44);
        assertThat(run(concat(new String[] {"--json", "wal-fetch", "00000002.history", target}, where))).isEqualTo(44);
        // usage: an unknown option, a missing argument, a name PostgreSQL never asks for
        assertThat(run(concat(new String[] {"wal-fetch", "--no-such-option", "000000010000000000000001", target}, where)))
                .isEqualTo(200);
        assertThat(run("wal-fetch", "000000010000000000000001")).isEqualTo(200);
        assertThat(run(concat(new String[] {"wal-fetch", "postgresql.conf", target}, where))).isEqualTo(200);
        // configuration: a file that is missing, unreadable or wrong
        assertThat(run("wal-fetch", "--config", dir.resolve("none.yml").toString(), "000000010000000000000001", target))
                .isEqualTo(200);
        java.nio.file.Path bad = java.nio.file.Files.writeString(dir.resolve("bad.yml"), "clusters: [");
        assertThat(run("wal-fetch", "--config", bad.toString(), "000000010000000000000001", target)).isEqualTo(200);
        // storage: a repository that is not there
        assertThat(run("wal-fetch", "--repo", "file://" + dir.resolve("gone"), "--cluster", "c", "--allow-same-server",
                "000000010000000000000001", target)).isEqualTo(200);
        // other commands keep their own codes
        assertThat(run("list", "--no-such-option")).isEqualTo(2);
        assertThat(WalFetchCommand.invoked(new String[] {"--json", "wal-fetch"})).isTrue();
        assertThat(WalFetchCommand.invoked(new String[] {"wal-push", "wal-fetch"})).isFalse();
    }

    static String[] concat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
