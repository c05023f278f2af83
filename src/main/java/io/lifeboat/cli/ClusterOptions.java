package io.lifeboat.cli;

import io.lifeboat.config.ClusterConfig;
import io.lifeboat.config.ConfigLoader;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Options shared by every command that works on a cluster: which config, which cluster, overrides. */
public final class ClusterOptions {
    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "Configuration file (default: $LIFEBOAT_CONFIG, ./lifeboat.yml, /etc/lifeboat/lifeboat.yml).")
    Path config;

    @Option(names = "--cluster", paramLabel = "NAME", description = "Cluster (stanza) in the configuration file.")
    String cluster;

    @Option(names = "--pg-host", paramLabel = "HOST", description = "PostgreSQL host or socket directory.")
    String pgHost;

    @Option(names = "--pg-port", paramLabel = "PORT", description = "PostgreSQL port.")
    String pgPort;

    @Option(names = "--pg-user", paramLabel = "USER", description = "PostgreSQL user. The password comes from "
            + "PGPASSWORD, LIFEBOAT_PGPASSWORD or a pgpass file, never from the command line.")
    String pgUser;

    @Option(names = "--pg-password-file", paramLabel = "FILE", description = "pgpass file with the password.")
    String pgPasswordFile;

    @Option(names = "--pg-database", paramLabel = "DB", description = "Database to connect to.")
    String pgDatabase;

    @Option(names = "--repo", paramLabel = "URI", description = "Repository URI, replacing the configured ones.")
    String repo;

    @Option(names = "--allow-same-server", description = "Allow a repository on the database server (demos and tests "
            + "only; a warning is printed).")
    Boolean allowSameServer;

    @Option(names = "--spool-directory", paramLabel = "DIR", description = "Local staging directory for pg_dump output.")
    String spool;

    @Option(names = "--bin-dir", paramLabel = "DIR", description = "PostgreSQL bin directory to prefer.")
    String binDir;

    @Option(names = {"-j", "--jobs"}, paramLabel = "N", description = "Parallel jobs (default: CPU cores).")
    String jobs;

    @Option(names = "--compression", paramLabel = "CODEC", description = "zstd (default), lz4, gzip or none.")
    String compression;

    @Option(names = "--identity-file", paramLabel = "FILE", description = "age identity (private key) to read an "
            + "encrypted repository; only needed to restore, fetch WAL or run restore drills.")
    String identityFile;

    @Option(names = "--passphrase-file", paramLabel = "FILE", description = "File holding the passphrase of "
            + "passphrase-encrypted repositories (mode 0600; or LIFEBOAT_PASSPHRASE). Never the passphrase itself.")
    String passphraseFile;

    public ClusterConfig load() {
        Map<String, String> flags = new LinkedHashMap<>();
        put(flags, "pg-host", pgHost);
        put(flags, "pg-port", pgPort);
        put(flags, "pg-user", pgUser);
        put(flags, "pg-database", pgDatabase);
        put(flags, "pg-password-file", pgPasswordFile);
        put(flags, "repo", repo);
        put(flags, "allow-same-server", allowSameServer == null ? null : allowSameServer.toString());
        put(flags, "spool-directory", spool);
        put(flags, "bin-dir", binDir);
        put(flags, "jobs", jobs);
        put(flags, "compression", compression);
        put(flags, "identity-file", identityFile);
        put(flags, "passphrase-file", passphraseFile);
        Path file = ConfigLoader.locate(config, System.getenv());
        return ConfigLoader.load(file, cluster, System.getenv(), flags);
    }

    private static void put(Map<String, String> m, String k, String v) {
        if (v != null) {
            m.put(k, v);
        }
    }
}
