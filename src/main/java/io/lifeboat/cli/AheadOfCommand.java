package io.lifeboat.cli;

import io.lifeboat.catalog.BackupId;
import io.lifeboat.catalog.BackupType;
import io.lifeboat.catalog.Catalog;
import io.lifeboat.config.ClusterConfig;
import io.lifeboat.config.ConfigLoader;
import io.lifeboat.engine.PreparedRepositories;
import io.lifeboat.engine.PreparedSession;
import io.lifeboat.postgres.PgConnectionSettings;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Starts a backup's or restore's first work while picocli builds its model and parses the command
 * line (about 0.4 s of CPU on a core that is otherwise idle): the repositories open (an S3 client's
 * creation and first TLS handshake take another 0.5-1 s), the manifest's JSON reader (restore) or
 * writer (backup) is built, and for a logical one the PostgreSQL session it will open first is opened and the
 * PostgreSQL programs it runs are asked for their versions. The {@link ClusterOptions} and the few
 * options that say which session that is are read from the arguments here by name (picocli's own
 * parse result comes only after its model, which is what this overlaps), the same configuration is
 * loaded from them, and the command takes what was prepared only where its own settings turn out
 * equal (see {@link PreparedRepositories} and {@link PreparedSession}). A misread argument costs
 * nothing but the background work.
 */
final class AheadOfCommand {
    /** ClusterOptions' names and the flag keys {@link ClusterOptions#load} gives them. */
    private static final Map<String, String> VALUED = Map.ofEntries(Map.entry("--cluster", "cluster"),
            Map.entry("-c", "config"), Map.entry("--config", "config"), Map.entry("--pg-host", "pg-host"),
            Map.entry("--pg-port", "pg-port"), Map.entry("--pg-user", "pg-user"),
            Map.entry("--pg-password-file", "pg-password-file"), Map.entry("--pg-database", "pg-database"),
            Map.entry("--repo", "repo"), Map.entry("--spool-directory", "spool-directory"),
            Map.entry("--bin-dir", "bin-dir"), Map.entry("-j", "jobs"), Map.entry("--jobs", "jobs"),
            Map.entry("--compression", "compression"), Map.entry("--identity-file", "identity-file"),
            Map.entry("--passphrase-file", "passphrase-file"));

    /** What was started ahead of the command; closing it closes whatever the command did not take. */
    record Prepared(PreparedRepositories repositories, PreparedSession session) implements AutoCloseable {
        static final Prepared NONE = new Prepared(PreparedRepositories.none(), PreparedSession.none());

        @Override
        public void close() {
            try {
                session.close();
            } finally {
                repositories.close();
            }
        }
    }

    private AheadOfCommand() {
    }

    static Prepared start(String[] args) {
        boolean backup = args.length > 0 && args[0].equals("backup");
        boolean restore = args.length > 0 && args[0].equals("restore");
        if (!backup && !restore || System.getenv("LIFEBOAT_NO_AHEAD") != null) {
            return Prepared.NONE;
        }
        Catalog.prepareManifestJson(restore);
        Map<String, String> flags = options(args);
        String config = flags.remove("config");
        String cluster = flags.remove("cluster");
        Supplier<ClusterConfig> load = once(() -> ConfigLoader.load(
                ConfigLoader.locate(config == null ? null : Path.of(config), System.getenv()), cluster, System.getenv(), flags));
        PreparedRepositories repositories = PreparedRepositories.start(load);
        Function<ClusterConfig, PgConnectionSettings> which = backup ? backupSession(args) : restoreSession(args);
        PreparedSession session = which == null ? PreparedSession.none()
                : PreparedSession.start(load, which, backup ? backupTools(args) : restoreTools(args));
        return new Prepared(repositories, session);
    }

    /**
     * The session a logical backup opens first (engine/logical/LogicalBackup): the configured
     * database, or the first one asked for; null for a physical backup.
     */
    static Function<ClusterConfig, PgConnectionSettings> backupSession(String[] args) {
        if (!"logical".equals(last(values(args, "--type", "-t")))) {
            return null;
        }
        List<String> databases = values(args, "--database", "-d");
        boolean all = present(args, "--all-databases");
        return c -> all || databases.isEmpty() ? c.postgres() : c.postgres().withDatabase(databases.get(0));
    }

    static List<String> backupTools(String[] args) {
        return present(args, "--no-globals") ? List.of("pg_dump") : List.of("pg_dump", "pg_dumpall");
    }

    /**
     * The session a logical restore opens first (engine/logical/RestoreTarget: the target server's
     * postgres database); null when the restore is physical (--type physical, a physical backup's
     * id, or a data directory without --type).
     */
    static Function<ClusterConfig, PgConnectionSettings> restoreSession(String[] args) {
        String type = last(values(args, "--type", "-t"));
        String backup = last(values(args, "--backup", "-b"));
        boolean logical;
        if (type != null) {
            logical = type.equals("logical");
        } else if (backup != null) {
            try {
                logical = BackupId.parse(backup).type() == BackupType.LOGICAL;
            } catch (RuntimeException e) {
                logical = false;
            }
        } else {
            logical = values(args, "--data-directory", "-D").isEmpty();
        }
        return logical ? c -> c.postgres().withDatabase("postgres") : null;
    }

    static List<String> restoreTools(String[] args) {
        boolean globals = present(args, "--globals") || present(args, "--all-databases") && !present(args, "--no-globals");
        return globals ? List.of("pg_restore", "psql") : List.of("pg_restore");
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

    /** The values given to one option, in order, in the forms picocli reads: --name=V, --name V, -x V, -xV. */
    static List<String> values(String[] args, String longName, String shortName) {
        List<String> out = new ArrayList<>();
        for (int i = 1; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--")) {
                break;
            }
            if (a.equals(longName) || a.equals(shortName)) {
                if (i + 1 < args.length) {
                    out.add(args[++i]);
                }
            } else if (a.startsWith(longName + "=")) {
                out.add(a.substring(longName.length() + 1));
            } else if (a.startsWith(shortName) && !a.startsWith("--")) {
                out.add(a.substring(shortName.length()));
            } else if (VALUED.containsKey(a)) {
                i++; // another option's value, which may look like anything
            }
        }
        return out;
    }

    private static boolean present(String[] args, String flag) {
        for (int i = 1; i < args.length && !args[i].equals("--"); i++) {
            if (args[i].equals(flag)) {
                return true;
            }
        }
        return false;
    }

    private static String last(List<String> values) {
        return values.isEmpty() ? null : values.get(values.size() - 1);
    }

    /** The configuration loaded once, by whichever background thread asks first. */
    private static Supplier<ClusterConfig> once(Supplier<ClusterConfig> load) {
        return new Supplier<>() {
            private ClusterConfig loaded;
            private RuntimeException failed;

            @Override
            public synchronized ClusterConfig get() {
                if (loaded == null && failed == null) {
                    try {
                        loaded = load.get();
                    } catch (RuntimeException e) {
                        failed = e;
                    }
                }
                if (failed != null) {
                    throw failed;
                }
                return loaded;
            }
        };
    }
}
