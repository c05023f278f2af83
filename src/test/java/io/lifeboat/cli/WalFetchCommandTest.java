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
}
