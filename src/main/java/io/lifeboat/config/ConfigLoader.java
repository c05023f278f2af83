package io.lifeboat.config;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.codec.Compression;
import io.lifeboat.postgres.PgConnectionSettings;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.nodes.Node;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Builds the settings of one cluster from lifeboat.yml, then the environment (LIFEBOAT_*), then
 * command-line flags, each overriding the one before. Everything is validated here, once; the
 * engine trusts what it gets.
 */
public final class ConfigLoader {
    /** Settings that the environment and flags may override; env name is LIFEBOAT_ + upper snake case. */
    public static final List<String> OVERRIDABLE = List.of("pg-host", "pg-port", "pg-user", "pg-database",
            "pg-password-file", "bin-dir", "data-directory", "repo", "allow-same-server", "jobs", "spool-directory",
            "compression", "compression-level", "s3-access-key-id", "s3-secret-access-key", "identity-file",
            "passphrase-file");

    private static final Set<String> TOP = Set.of("clusters", "agent");
    private static final Set<String> CLUSTER = Set.of("postgres", "repositories", "jobs", "spool-directory", "retention",
            "encryption", "min-repositories", "source", "full-every", "agent");
    private static final Set<String> ENCRYPTION = Set.of("recipients", "recipients-file", "identity-file",
            "passphrase-file", "scrypt-work-factor");
    private static final Set<String> RETENTION = Set.of("physical-count", "physical-window", "logical-count",
            "logical-window", "unfinished-grace", "after-backup");
    private static final Set<String> POSTGRES = Set.of("host", "port", "user", "database", "password-file", "bin-dir",
            "data-directory");
    private static final Set<String> REPOSITORY = Set.of("name", "uri", "compression", "compression-level",
            "allow-same-server", "access-key-id", "secret-access-key", "part-size-mib", "concurrency", "identity-file",
            "known-hosts", "host-key-fingerprint", "connect-timeout", "read-timeout", "retry-time", "ca-file", "verify-tls");

    public static String envName(String key) {
        return "LIFEBOAT_" + key.toUpperCase(Locale.ROOT).replace('-', '_');
    }

    /** Where the configuration file is: the flag, LIFEBOAT_CONFIG, ./lifeboat.yml, /etc/lifeboat/lifeboat.yml. */
    public static Path locate(Path flag, Map<String, String> env) {
        if (flag != null) {
            return existingFile(flag, "", "check the --config path");
        }
        String fromEnv = env.get("LIFEBOAT_CONFIG");
        if (fromEnv != null && !fromEnv.isBlank()) {
            return existingFile(Path.of(fromEnv), " (LIFEBOAT_CONFIG)", "fix or unset LIFEBOAT_CONFIG");
        }
        for (Path p : List.of(Path.of("lifeboat.yml"), Path.of("/etc/lifeboat/lifeboat.yml"))) {
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        return null;
    }

    private static Path existingFile(Path p, String from, String hint) {
        if (Files.isDirectory(p)) {
            throw new LifeboatException(ErrorKind.CONFIG, "configuration file " + p + from + " is a directory, not a file",
                    hint + ": name the lifeboat.yml inside it, e.g. " + p.resolve("lifeboat.yml"));
        }
        if (!Files.isRegularFile(p)) {
            throw new LifeboatException(ErrorKind.CONFIG, "configuration file " + p + from + " does not exist", hint);
        }
        return p;
    }

    /**
     * Loads the settings of one cluster.
     *
     * @param file      the configuration file, or null to use only environment and flags
     * @param cluster   the cluster name, or null for the only one (or LIFEBOAT_CLUSTER)
     * @param env       the environment
     * @param flags     overrides from the command line, keyed as in {@link #OVERRIDABLE}
     */
    public static ClusterConfig load(Path file, String cluster, Map<String, String> env, Map<String, String> flags) {
        Map<String, YamlSection> clusters = file == null ? Map.of() : readClusters(file);
        String name = cluster != null ? cluster : env.get("LIFEBOAT_CLUSTER");
        if (name == null) {
            if (clusters.size() == 1) {
                name = clusters.keySet().iterator().next();
            } else if (clusters.isEmpty()) {
                name = "default";
            } else {
                throw new LifeboatException(ErrorKind.USAGE, file + " defines several clusters ("
                        + String.join(", ", clusters.keySet()) + ") and none was chosen",
                        "pass --cluster NAME or set LIFEBOAT_CLUSTER");
            }
        }
        YamlSection section = clusters.get(name);
        if (section == null && !clusters.isEmpty()) {
            throw new LifeboatException(ErrorKind.USAGE, "cluster '" + name + "' is not defined in " + file,
                    "defined clusters: " + String.join(", ", clusters.keySet()));
        }
        Map<String, String> over = new LinkedHashMap<>();
        for (String key : OVERRIDABLE) {
            String v = env.get(envName(key));
            if (v != null && !v.isBlank()) {
                over.put(key, v);
            }
        }
        over.putAll(flags);
        return build(name, section, over, env, file);
    }

    /** The names of the clusters {@code file} defines, in file order. */
    public static List<String> clusterNames(Path file) {
        return List.copyOf(readClusters(file).keySet());
    }

    private static Map<String, YamlSection> readClusters(Path file) {
        YamlSection top = readTop(file);
        YamlSection cs = top.section("clusters");
        if (cs == null) {
            throw top.error("clusters", "is missing: the file must define at least one cluster");
        }
        Map<String, YamlSection> out = new LinkedHashMap<>();
        for (String k : cs.keys()) {
            out.put(k, cs.section(k));
        }
        if (out.isEmpty()) {
            throw top.error("clusters", "defines no cluster");
        }
        return out;
    }

    /** The whole file, its top-level keys checked. */
    static YamlSection readTop(Path file) {
        Node root;
        try (Reader r = Files.newBufferedReader(file)) {
            LoaderOptions opts = new LoaderOptions();
            opts.setAllowDuplicateKeys(false);
            root = new Yaml(opts).compose(r);
        } catch (MarkedYAMLException e) {
            int line = e.getProblemMark() == null ? 0 : e.getProblemMark().getLine() + 1;
            throw new LifeboatException(ErrorKind.CONFIG, file + " line " + line + ": not valid YAML: " + e.getProblem(),
                    "fix the YAML syntax (indentation with spaces, 'key: value')", e);
        } catch (IOException e) {
            throw new LifeboatException(ErrorKind.CONFIG, "cannot read configuration file " + file + ": " + e.getMessage(),
                    "check the path and permissions", e);
        }
        if (root == null) {
            throw new LifeboatException(ErrorKind.CONFIG, file + " is empty", "see docs/configuration.md for an example");
        }
        YamlSection top = new YamlSection(file.toString(), "", root);
        top.allowOnly(TOP);
        return top;
    }

    private static ClusterConfig build(String name, YamlSection c, Map<String, String> over, Map<String, String> env,
                                       Path file) {
        YamlSection pg = null;
        List<YamlSection> repos = List.of();
        if (c != null) {
            c.allowOnly(CLUSTER);
            pg = c.section("postgres");
            if (pg != null) {
                pg.allowOnly(POSTGRES);
            }
            repos = c.sections("repositories");
        }
        try {
            ClusterName.check(name);
        } catch (LifeboatException e) {
            throw c == null ? e : new LifeboatException(ErrorKind.CONFIG, "cluster at line " + c.line() + " of " + file + ": " + e.getMessage(), e.hint());
        }
        String host = pick(over, "pg-host", pg, "host");
        Integer port = over.containsKey("pg-port") ? parseInt("pg-port", over.get("pg-port"), 1, 65535)
                : pg == null ? null : pg.integer("port", 1, 65535);
        String user = pick(over, "pg-user", pg, "user");
        String database = pick(over, "pg-database", pg, "database");
        String passwordFile = pick(over, "pg-password-file", pg, "password-file");
        String password = env.getOrDefault("LIFEBOAT_PGPASSWORD", env.get("PGPASSWORD"));
        PgConnectionSettings conn = new PgConnectionSettings(host, port == null ? 5432 : port, user, database, password,
                passwordFile == null ? null : Path.of(passwordFile));

        List<RepositoryConfig> repositories = new ArrayList<>();
        if (over.containsKey("repo")) {
            RepositoryUri uri;
            try {
                uri = RepositoryUri.parse(over.get("repo"));
            } catch (LifeboatException e) {
                throw new LifeboatException(e.kind(), origin("repo", over, env) + ": " + e.getMessage(), e.hint());
            }
            repositories.add(repository("repo1", uri, over.get("repo"), null, over, env));
        } else {
            int i = 1;
            for (YamlSection r : repos) {
                r.allowOnly(REPOSITORY);
                String text = r.string("uri");
                if (text == null) {
                    throw r.error("uri", "is missing: every repository needs a uri");
                }
                String rname = r.string("name") == null ? "repo" + i : r.string("name");
                RepositoryUri uri;
                try {
                    uri = RepositoryUri.parse(text);
                } catch (LifeboatException e) {
                    throw r.error("uri", e.getMessage() + (e.hint() == null ? "" : " (" + e.hint() + ")"));
                }
                RepositoryConfig repo = repository(rname, uri, text, r, over, env);
                repositories.add(repositories.isEmpty() ? repo : sameCodecs(repositories.get(0), repo, r));
                i++;
            }
        }
        if (repositories.stream().map(RepositoryConfig::name).distinct().count() != repositories.size()) {
            throw new LifeboatException(ErrorKind.CONFIG, "cluster '" + name + "' has two repositories with one name",
                    "give each repository a distinct name");
        }
        Integer jobs = over.containsKey("jobs") ? parseInt("jobs", over.get("jobs"), 1, 256)
                : c == null ? null : c.integer("jobs", 1, 256);
        String spool = pick(over, "spool-directory", c, "spool-directory");
        String binDir = pick(over, "bin-dir", pg, "bin-dir");
        String dataDir = pick(over, "data-directory", pg, "data-directory");
        YamlSection ret = c == null ? null : c.section("retention");
        RetentionPolicy retention = null;
        boolean afterBackup = false;
        if (ret != null) {
            ret.allowOnly(RETENTION);
            try {
                retention = new RetentionPolicy(
                        orZero(ret.integer("physical-count", 1, 10000)), duration(ret, "physical-window"),
                        orZero(ret.integer("logical-count", 1, 10000)), duration(ret, "logical-window"),
                        duration(ret, "unfinished-grace"));
            } catch (LifeboatException e) {
                throw new LifeboatException(ErrorKind.CONFIG, file + " line " + ret.line() + ": '" + ret.path() + "': "
                        + e.getMessage(), e.hint());
            }
            afterBackup = Boolean.TRUE.equals(ret.bool("after-backup"));
        }
        EncryptionConfig encryption = encryption(c == null ? null : c.section("encryption"), over, env, file);
        Integer minRepos = c == null ? null : c.integer("min-repositories", 1, 64);
        if (minRepos != null && minRepos > repositories.size()) {
            throw c.error("min-repositories", "is " + minRepos + " but the cluster has " + repositories.size()
                    + " repositories");
        }
        String source = c == null ? null : c.string("source");
        if (source != null && !source.equals("local") && !source.equals("remote")) {
            throw c.error("source", "must be local (read the data directory on the database host) or remote (the "
                    + "replication protocol, the default), not '" + source + "'");
        }
        FullEvery fullEvery = null;
        if (c != null && c.string("full-every") != null) {
            try {
                fullEvery = FullEvery.parse(c.string("full-every"));
            } catch (LifeboatException e) {
                throw c.error("full-every", e.getMessage() + " (" + e.hint() + ")");
            }
        }
        return new ClusterConfig(name, conn, List.copyOf(repositories),
                jobs == null ? Runtime.getRuntime().availableProcessors() : jobs,
                spool == null ? Path.of(System.getProperty("java.io.tmpdir"), "lifeboat-spool") : Path.of(spool),
                binDir == null ? null : Path.of(binDir), dataDir == null ? null : Path.of(dataDir), retention, afterBackup,
                encryption, minRepos == null ? repositories.size() : minRepos, "local".equals(source), fullEvery);
    }

    /**
     * The encryption section. identity-file may also come from LIFEBOAT_IDENTITY_FILE / --identity-file;
     * the passphrase from (first wins) --passphrase-file, LIFEBOAT_PASSPHRASE, LIFEBOAT_PASSPHRASE_FILE,
     * encryption.passphrase-file. Recipients and a passphrase exclude each other.
     */
    private static EncryptionConfig encryption(YamlSection e, Map<String, String> over, Map<String, String> env, Path file) {
        List<String> recipients = new ArrayList<>();
        String identity = over.get("identity-file");
        io.lifeboat.codec.Passphrase passphrase = null;
        String passphraseFrom = null;
        String envPassphrase = env.get(io.lifeboat.codec.Passphrase.ENV);
        boolean passphraseFlag = over.containsKey("passphrase-file") && !over.get("passphrase-file").equals(env.get(envName("passphrase-file")));
        if (passphraseFlag) {
            passphrase = io.lifeboat.codec.Passphrase.ofFile(Path.of(over.get("passphrase-file")));
            passphraseFrom = "--passphrase-file";
        } else if (envPassphrase != null && !envPassphrase.isEmpty()) {
            passphrase = io.lifeboat.codec.Passphrase.ofEnvironment(envPassphrase);
            passphraseFrom = io.lifeboat.codec.Passphrase.ENV;
        } else if (over.containsKey("passphrase-file")) {
            passphrase = io.lifeboat.codec.Passphrase.ofFile(Path.of(over.get("passphrase-file")));
            passphraseFrom = envName("passphrase-file");
        }
        Integer workFactor = null;
        if (e != null) {
            e.allowOnly(ENCRYPTION);
            recipients.addAll(e.strings("recipients"));
            String rf = e.string("recipients-file");
            if (rf != null) {
                try {
                    for (String line : java.nio.file.Files.readAllLines(Path.of(rf))) {
                        if (!line.isBlank() && !line.trim().startsWith("#")) {
                            recipients.add(line.trim());
                        }
                    }
                } catch (java.io.IOException ex) {
                    throw e.error("recipients-file", "cannot be read: " + ex.getMessage());
                }
            }
            for (String r : recipients) {
                try {
                    io.lifeboat.codec.AgeEncryption.writerFor(r);
                } catch (LifeboatException ex) {
                    throw e.error("recipients", ex.getMessage() + " (" + ex.hint() + ")");
                }
            }
            if (identity == null) {
                identity = e.string("identity-file");
            }
            String pf = e.string("passphrase-file");
            if (passphrase == null && pf != null) {
                passphrase = io.lifeboat.codec.Passphrase.ofFile(Path.of(pf));
                passphraseFrom = "encryption.passphrase-file";
            }
            if (passphrase != null && !recipients.isEmpty()) {
                String key = e.has("recipients") ? "recipients" : "recipients-file";
                throw e.error(key, "and " + (passphraseFrom.startsWith("encryption.") ? "'" + e.path() + ".passphrase-file'"
                        : passphraseFrom) + " are both set: encrypt either to recipients (key pairs) or with a passphrase, "
                        + "not both (docs/encryption.md)");
            }
            workFactor = e.integer("scrypt-work-factor", io.lifeboat.codec.AgeScrypt.MIN_WORK_FACTOR,
                    io.lifeboat.codec.AgeScrypt.MAX_WORK_FACTOR);
            if (workFactor != null && passphrase == null) {
                throw e.error("scrypt-work-factor", "is for passphrase encryption, and no passphrase is configured "
                        + "(passphrase-file or LIFEBOAT_PASSPHRASE)");
            }
            if (recipients.isEmpty() && identity == null && passphrase == null) {
                throw new LifeboatException(ErrorKind.CONFIG, file + " line " + e.line() + ": 'encryption' has neither "
                        + "recipients, identity-file nor passphrase-file", "list the age public keys under recipients "
                        + "(backups) and set identity-file where backups are restored, or set passphrase-file "
                        + "(docs/encryption.md)");
            }
        }
        if (recipients.isEmpty() && identity == null && passphrase == null) {
            return null;
        }
        return new EncryptionConfig(List.copyOf(recipients), identity == null ? null : Path.of(identity), passphrase,
                workFactor == null ? io.lifeboat.codec.AgeScrypt.DEFAULT_WORK_FACTOR : workFactor);
    }

    private static int orZero(Integer i) {
        return i == null ? 0 : i;
    }

    private static java.time.Duration duration(YamlSection s, String key) {
        String v = s.string(key);
        if (v == null) {
            return null;
        }
        try {
            return Durations.parse(v);
        } catch (LifeboatException e) {
            throw s.error(key, "must be a duration like 14d, 36h or 90m, not '" + v + "'");
        }
    }

    /**
     * Where an override came from, for messages: the flag, or the environment variable when it holds
     * that value and no flag was given.
     */
    private static String origin(String key, Map<String, String> over, Map<String, String> env) {
        return over.get(key).equals(env.get(envName(key))) ? envName(key) : "--" + key;
    }

    /**
     * Every repository of a cluster stores the same bytes (one compression pass, one manifest whose
     * checksums hold in each copy), so compression is the first repository's: another one may repeat
     * it or leave it out, not set a different one.
     */
    private static RepositoryConfig sameCodecs(RepositoryConfig primary, RepositoryConfig repo, YamlSection r) {
        for (String key : List.of("compression", "compression-level")) {
            boolean differs = key.equals("compression") ? repo.compression() != primary.compression()
                    : repo.compressionLevel() != primary.compressionLevel();
            if (r.has(key) && differs) {
                throw r.error(key, "is " + (key.equals("compression") ? repo.compression().id()
                        : Integer.toString(repo.compressionLevel())) + " but the first repository ('" + primary.name()
                        + "') uses " + (key.equals("compression") ? primary.compression().id()
                        : Integer.toString(primary.compressionLevel())) + ": every repository of a cluster stores the "
                        + "same bytes, so " + key + " is set once, on the first repository (remove it here, or make it equal)");
            }
        }
        return new RepositoryConfig(repo.name(), repo.uri(), repo.uriText(), primary.compression(),
                primary.compressionLevel(), repo.allowSameServer(), repo.accessKeyId(), repo.secretAccessKey(),
                repo.partSizeMiB(), repo.concurrency(), repo.sftp(), repo.network());
    }

    private static RepositoryConfig repository(String name, RepositoryUri uri, String uriText, YamlSection r,
                                               Map<String, String> over, Map<String, String> env) {
        Compression compression = Compression.ZSTD;
        String comp = over.containsKey("compression") ? over.get("compression") : r == null ? null : r.string("compression");
        if (comp != null) {
            try {
                compression = Compression.parse(comp);
            } catch (LifeboatException e) {
                if (over.containsKey("compression")) {
                    throw new LifeboatException(ErrorKind.CONFIG, origin("compression", over, env) + ": "
                            + e.getMessage(), e.hint());
                }
                throw r.error("compression", "must be zstd, lz4, gzip or none, not '" + comp + "'");
            }
        }
        Integer level = over.containsKey("compression-level") ? parseInt("compression-level", over.get("compression-level"), 0, 22)
                : r == null ? null : r.integer("compression-level", 0, 22);
        Boolean allow = over.containsKey("allow-same-server") ? parseBool("allow-same-server", over.get("allow-same-server"))
                : r == null ? null : r.bool("allow-same-server");
        String keyId = over.getOrDefault("s3-access-key-id", r == null ? null : r.string("access-key-id"));
        String secret = over.getOrDefault("s3-secret-access-key", r == null ? null : r.string("secret-access-key"));
        if ((keyId == null) != (secret == null)) {
            throw new LifeboatException(ErrorKind.CONFIG, "repository '" + name + "' has an access key id without a secret "
                    + "access key, or the other way round", "set both access-key-id and secret-access-key, or neither "
                    + "(then the AWS default credential chain is used)");
        }
        Integer part = r == null ? null : r.integer("part-size-mib", 5, 5120);
        Integer conc = r == null ? null : r.integer("concurrency", 1, 64);
        RepositoryConfig.SftpOptions sftp = null;
        if (uri.scheme().equals("sftp")) {
            sftp = sftpOptions(r, env);
        } else if (r != null) {
            for (String k : List.of("identity-file", "known-hosts", "host-key-fingerprint")) {
                if (r.has(k)) {
                    throw r.error(k, "is for sftp:// repositories only");
                }
            }
        }
        return new RepositoryConfig(name, uri, uriText, compression, level == null ? compression.defaultLevel() : level,
                allow != null && allow, keyId, secret, part == null ? 16 : part, conc == null ? (sftp == null ? 8 : 4) : conc,
                sftp, networkOptions(name, uri, r));
    }

    /**
     * Timeouts, retries and TLS trust: the repository entry's setting, else the URI parameter of the
     * same name (s3). ca-file and verify-tls are for https S3 endpoints only.
     */
    private static RepositoryConfig.NetworkOptions networkOptions(String name, RepositoryUri uri, YamlSection r) {
        java.time.Duration connect = timeout(name, uri, r, "connect-timeout", java.time.Duration.ofMillis(100),
                java.time.Duration.ofMinutes(10));
        java.time.Duration read = timeout(name, uri, r, "read-timeout", java.time.Duration.ofMillis(100),
                java.time.Duration.ofHours(1));
        java.time.Duration retry = timeout(name, uri, r, "retry-time", java.time.Duration.ZERO, java.time.Duration.ofDays(1));
        if (uri.scheme().equals("file") && (connect != null || read != null)) {
            throw settingError(name, r, connect != null ? "connect-timeout" : "read-timeout",
                    "is for network repositories (s3://, sftp://); a file:// repository has only retry-time");
        }
        String ca = setting(uri, r, "ca-file");
        String verify = setting(uri, r, "verify-tls");
        if (ca == null && verify == null) {
            return new RepositoryConfig.NetworkOptions(connect, read, retry, null, true);
        }
        String key = ca != null ? "ca-file" : "verify-tls";
        String endpoint = uri.params().get("endpoint");
        boolean https = uri.scheme().equals("s3") && (endpoint == null || endpoint.toLowerCase(Locale.ROOT).startsWith("https:"));
        if (!https) {
            throw settingError(name, r, key, "is for s3:// repositories with an https endpoint only");
        }
        boolean verifyTls = true;
        if (verify != null) {
            try {
                verifyTls = parseBool("verify-tls", verify);
            } catch (LifeboatException e) {
                throw settingError(name, r, "verify-tls", "must be true or false, not '" + verify + "'");
            }
        }
        if (ca != null && !verifyTls) {
            throw settingError(name, r, "verify-tls", "is false, so the ca-file would not be used: set one or the other");
        }
        if (ca != null && !Files.isReadable(Path.of(ca))) {
            throw settingError(name, r, "ca-file", "names " + ca + ", which does not exist or cannot be read");
        }
        return new RepositoryConfig.NetworkOptions(connect, read, retry, ca == null ? null : Path.of(ca), verifyTls);
    }

    /** A repository setting from its entry in the file, else from the URI's parameters. */
    private static String setting(RepositoryUri uri, YamlSection r, String key) {
        String v = r == null ? null : r.string(key);
        return v != null ? v : uri.params().get(key);
    }

    private static LifeboatException settingError(String name, YamlSection r, String key, String what) {
        if (r != null && r.has(key)) {
            return r.error(key, what);
        }
        return new LifeboatException(ErrorKind.CONFIG, "repository '" + name + "': '" + key + "' " + what,
                "see docs/configuration.md");
    }

    private static java.time.Duration timeout(String name, RepositoryUri uri, YamlSection r, String key,
                                              java.time.Duration min, java.time.Duration max) {
        String v = setting(uri, r, key);
        if (v == null) {
            return null;
        }
        java.time.Duration d = parseTimeout(v);
        if (d == null || d.compareTo(min) < 0 || d.compareTo(max) > 0) {
            throw settingError(name, r, key, "must be a duration from " + human(min) + " to " + human(max)
                    + " like 500ms, 30s or 5m, not '" + v + "'");
        }
        return d;
    }

    /** "500ms", "30s", "5m", "1h"; null when it is none of those. */
    static java.time.Duration parseTimeout(String text) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d{1,9})\\s*(ms|s|m|h)").matcher(text.trim());
        if (!m.matches()) {
            return null;
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ms" -> java.time.Duration.ofMillis(n);
            case "s" -> java.time.Duration.ofSeconds(n);
            case "m" -> java.time.Duration.ofMinutes(n);
            default -> java.time.Duration.ofHours(n);
        };
    }

    private static String human(java.time.Duration d) {
        return d.toMillis() < 1000 ? d.toMillis() + "ms" : d.toHours() >= 24 ? d.toDays() + " days"
                : d.toMinutes() >= 60 ? d.toHours() + "h" : d.toSeconds() >= 60 ? d.toMinutes() + "m" : d.toSeconds() + "s";
    }

    private static RepositoryConfig.SftpOptions sftpOptions(YamlSection r, Map<String, String> env) {
        String identity = env.getOrDefault("LIFEBOAT_SFTP_IDENTITY_FILE", r == null ? null : r.string("identity-file"));
        String known = env.getOrDefault("LIFEBOAT_SFTP_KNOWN_HOSTS", r == null ? null : r.string("known-hosts"));
        String fp = r == null ? null : r.string("host-key-fingerprint");
        if (fp != null && !fp.matches("SHA256:[A-Za-z0-9+/]{43}=?")) {
            throw r.error("host-key-fingerprint", "must look like SHA256:… (43 base64 characters), as `ssh-keygen -lf "
                    + "/etc/ssh/ssh_host_ed25519_key.pub` prints it, not '" + fp + "'");
        }
        Path knownHosts = known != null ? Path.of(known) : Path.of(System.getProperty("user.home"), ".ssh", "known_hosts");
        String password = env.get("LIFEBOAT_SFTP_PASSWORD");
        return new RepositoryConfig.SftpOptions(identity == null ? null : Path.of(identity), knownHosts,
                fp == null ? null : fp.replaceAll("=$", ""), password == null || password.isEmpty() ? null : password);
    }

    private static String pick(Map<String, String> over, String overKey, YamlSection s, String key) {
        if (over.containsKey(overKey)) {
            return over.get(overKey);
        }
        return s == null ? null : s.string(key);
    }

    private static Integer parseInt(String key, String v, int min, int max) {
        try {
            int i = Integer.parseInt(v.trim());
            if (i >= min && i <= max) {
                return i;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new LifeboatException(ErrorKind.CONFIG, "'" + key + "' must be a whole number from " + min + " to " + max
                + ", not '" + v + "'", "fix the flag or " + envName(key));
    }

    private static Boolean parseBool(String key, String v) {
        return switch (v.trim().toLowerCase(Locale.ROOT)) {
            case "true", "yes", "on", "1" -> true;
            case "false", "no", "off", "0" -> false;
            default -> throw new LifeboatException(ErrorKind.CONFIG, "'" + key + "' must be true or false, not '" + v + "'",
                    "fix the flag or " + envName(key));
        };
    }
}
