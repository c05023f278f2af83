package io.lifeboat.cli;

import io.lifeboat.config.ConfigLoader;
import io.lifeboat.engine.PreparedRepositories;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Opens a restore's repositories while picocli builds its model and parses the command line (about
 * 0.4 s of CPU on a core that is otherwise idle, followed by the S3 client's creation and first TLS
 * handshake, another 0.5-1 s): the {@link ClusterOptions} are read from the arguments here by
 * name, the same configuration is loaded from them, and the command takes what was opened only if
 * its own settings turn out equal (see {@link PreparedRepositories}). A misread argument costs
 * nothing but the background work.
 */
final class AheadOfCommand {
    /** Commands that open the repository at once, with nothing else to do first. */
    private static final Set<String> COMMANDS = Set.of("restore");
    /** ClusterOptions' names and the flag keys {@link ClusterOptions#load} gives them. */
    private static final Map<String, String> VALUED = Map.ofEntries(Map.entry("--cluster", "cluster"),
            Map.entry("-c", "config"), Map.entry("--config", "config"), Map.entry("--pg-host", "pg-host"),
            Map.entry("--pg-port", "pg-port"), Map.entry("--pg-user", "pg-user"),
            Map.entry("--pg-password-file", "pg-password-file"), Map.entry("--pg-database", "pg-database"),
            Map.entry("--repo", "repo"), Map.entry("--spool-directory", "spool-directory"),
            Map.entry("--bin-dir", "bin-dir"), Map.entry("-j", "jobs"), Map.entry("--jobs", "jobs"),
            Map.entry("--compression", "compression"), Map.entry("--identity-file", "identity-file"),
            Map.entry("--passphrase-file", "passphrase-file"));

    private AheadOfCommand() {
    }

    static PreparedRepositories start(String[] args) {
        if (args.length == 0 || !COMMANDS.contains(args[0]) || System.getenv("LIFEBOAT_NO_AHEAD") != null) {
            return PreparedRepositories.none();
        }
        Map<String, String> flags = options(args);
        String config = flags.remove("config");
        String cluster = flags.remove("cluster");
        return PreparedRepositories.start(() -> ConfigLoader.load(
                ConfigLoader.locate(config == null ? null : Path.of(config), System.getenv()), cluster, System.getenv(), flags));
    }

    /** The ClusterOptions among the arguments after the command's name, keyed as ClusterOptions' flags (and config, cluster). */
    static Map<String, String> options(String[] args) {
        Map<String, String> given = new LinkedHashMap<>();
        for (int i = 1; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--")) {
                break;
            }
            int eq = a.indexOf('=');
            String name = eq > 0 ? a.substring(0, eq) : a;
            if (name.equals("--allow-same-server")) {
                given.put("allow-same-server", eq > 0 ? a.substring(eq + 1) : "true");
            } else if (VALUED.containsKey(name)) {
                if (eq > 0) {
                    given.put(VALUED.get(name), a.substring(eq + 1));
                } else if (i + 1 < args.length) {
                    given.put(VALUED.get(name), args[++i]);
                }
            } else if ((a.startsWith("-c") || a.startsWith("-j")) && !a.startsWith("--") && a.length() > 2) {
                given.put(a.startsWith("-c") ? "config" : "jobs", a.substring(2)); // picocli's -cFILE
            }
        }
        return given;
    }
}
