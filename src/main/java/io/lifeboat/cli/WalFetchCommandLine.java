package io.lifeboat.cli;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.SecretMask;
import io.lifeboat.config.ClusterConfig;
import io.lifeboat.config.ConfigLoader;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The restore_command a restored server runs to fetch WAL: used by restore and by restore drills. */
final class WalFetchCommandLine {
    private WalFetchCommandLine() {
    }

    /**
     * The restore_command that fetches WAL from this repository: the launcher (system property
     * lifeboat.launcher, set by bin/lifeboat) with the same configuration file and cluster.
     */
    static String of(ClusterConfig cfg, ClusterOptions cluster) {
        List<String> cmd = new ArrayList<>();
        cmd.add(System.getProperty("lifeboat.launcher", "lifeboat"));
        cmd.add("wal-fetch");
        cmd.add("--cluster");
        cmd.add(cfg.name());
        Path file = ConfigLoader.locate(cluster.config, System.getenv());
        if (file != null) {
            cmd.add("--config");
            cmd.add(file.toAbsolutePath().toString());
        }
        if (file == null || cluster.repo != null) {
            String uri = cfg.primaryRepository().uriText();
            if (SecretMask.hasSecret(uri)) {
                // postgresql.auto.conf is readable by whoever reads the data directory; credentials come from the config
                throw new LifeboatException(ErrorKind.CONFIG, "repository URI " + SecretMask.uri(uri) + " holds a secret, "
                        + "which restore_command would carry into postgresql.auto.conf", "put credentials in lifeboat.yml "
                        + "or the environment of the server's user, not in the URI");
            }
            cmd.add("--repo");
            cmd.add(uri);
            if (cfg.primaryRepository().allowSameServer()) {
                cmd.add("--allow-same-server");
            }
        }
        if (cfg.encryption() != null && cfg.encryption().identityFile() != null) {
            // a path, not a secret: recovery runs as the server's user, who must be able to read it
            cmd.add("--identity-file");
            cmd.add(cfg.encryption().identityFile().toAbsolutePath().toString());
        }
        if (cfg.encryption() != null && cfg.encryption().passphrase() != null
                && cfg.encryption().passphrase().file() != null) {
            // a path, not the passphrase: it must never appear in postgresql.auto.conf or a process list
            cmd.add("--passphrase-file");
            cmd.add(cfg.encryption().passphrase().file().toAbsolutePath().toString());
        }
        StringBuilder sb = new StringBuilder();
        for (String a : cmd) {
            sb.append(RestoreCommand.shellQuote(a)).append(' ');
        }
        return sb.append("%f %p").toString();
    }

    /** The files that restore_command reads (as the server's user): the configuration and key files it names. */
    static List<Path> filesRead(ClusterConfig cfg, ClusterOptions cluster) {
        List<Path> files = new ArrayList<>();
        Path config = ConfigLoader.locate(cluster.config, System.getenv());
        if (config != null) {
            files.add(config.toAbsolutePath());
        }
        if (cfg.encryption() != null && cfg.encryption().identityFile() != null) {
            files.add(cfg.encryption().identityFile().toAbsolutePath());
        }
        if (cfg.encryption() != null && cfg.encryption().passphrase() != null
                && cfg.encryption().passphrase().file() != null) {
            files.add(cfg.encryption().passphrase().file().toAbsolutePath());
        }
        return files;
    }
}
