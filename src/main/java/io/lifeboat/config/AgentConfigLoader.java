package io.lifeboat.config;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Reads the agent's settings from lifeboat.yml: the top-level {@code agent:} section and each
 * cluster's {@code agent:} section. Validated here, once; every error names the key and its line.
 */
public final class AgentConfigLoader {
    public static final int DEFAULT_PORT = 9187;
    private static final Set<String> TOP = Set.of("http", "notify");
    private static final Set<String> HTTP = Set.of("listen", "token-file", "drills");
    private static final Set<String> NOTIFY = Set.of("webhook", "email");
    private static final Set<String> WEBHOOK = Set.of("url", "format", "timeout");
    private static final Set<String> EMAIL = Set.of("smtp-host", "smtp-port", "security", "from", "to", "username",
            "password-file");
    private static final Set<String> CLUSTER = Set.of("enabled", "stream", "schedules");
    private static final Set<String> STREAM = Set.of("enabled", "slot", "create-slot", "flush-interval", "synchronous",
            "application-name", "lag-alert", "retained-alert");

    private AgentConfigLoader() {
    }

    /** The agent settings of {@code file} (which must exist). */
    public static AgentConfig load(Path file) {
        YamlSection top = ConfigLoader.readTop(file);
        YamlSection agent = top.section("agent");
        AgentConfig.Http http = new AgentConfig.Http("127.0.0.1", DEFAULT_PORT, null);
        AgentConfig.Notify notify = AgentConfig.Notify.NONE;
        if (agent != null) {
            agent.allowOnly(TOP);
            http = http(agent.section("http"));
            notify = notify(agent.section("notify"));
        }
        Map<String, AgentConfig.ClusterAgent> clusters = new LinkedHashMap<>();
        YamlSection cs = top.section("clusters");
        if (cs != null) {
            for (String name : cs.keys()) {
                YamlSection a = cs.section(name).section("agent");
                if (a == null) {
                    continue;
                }
                a.allowOnly(CLUSTER);
                if (Boolean.FALSE.equals(a.bool("enabled"))) {
                    continue;
                }
                AgentConfig.Stream stream = stream(name, a.section("stream"));
                Map<AgentConfig.JobKind, CronSchedule> schedules = schedules(a.section("schedules"));
                if (stream == null && schedules.isEmpty()) {
                    throw a.error("stream", "is missing, and so are schedules: the agent would have nothing to do for "
                            + "cluster '" + name + "' (set enabled: false to leave it out)");
                }
                clusters.put(name, new AgentConfig.ClusterAgent(name, stream, schedules));
            }
        }
        return new AgentConfig(http, notify, clusters);
    }

    private static AgentConfig.Http http(YamlSection h) {
        if (h == null) {
            return new AgentConfig.Http("127.0.0.1", DEFAULT_PORT, null);
        }
        h.allowOnly(HTTP);
        String listen = h.string("listen");
        String token = h.string("token-file");
        if (listen != null && listen.equalsIgnoreCase("off")) {
            return new AgentConfig.Http(null, 0, null);
        }
        String host = "127.0.0.1";
        int port = DEFAULT_PORT;
        if (listen != null) {
            int colon = listen.lastIndexOf(':');
            if (colon < 0) {
                throw h.error("listen", "must be HOST:PORT (e.g. 127.0.0.1:9187) or off, not '" + listen + "'");
            }
            host = listen.substring(0, colon).replaceAll("^\\[|\\]$", "");
            try {
                port = Integer.parseInt(listen.substring(colon + 1));
            } catch (NumberFormatException e) {
                port = -1;
            }
            if (port < 0 || port > 65535 || host.isEmpty()) {
                throw h.error("listen", "must be HOST:PORT with a port from 0 to 65535, not '" + listen + "'");
            }
        }
        if (token == null && !isLoopback(host)) {
            throw h.error("listen", "is " + host + ", not a loopback address, and no token-file is set: anyone on the "
                    + "network could read the metrics; set token-file (a file holding the bearer token) or listen on "
                    + "127.0.0.1");
        }
        Boolean drills = h.bool("drills");
        return new AgentConfig.Http(host, port, token == null ? null : Path.of(token), drills != null && drills);
    }

    static boolean isLoopback(String host) {
        return host.equals("localhost") || host.startsWith("127.") || host.equals("::1");
    }

    private static AgentConfig.Notify notify(YamlSection n) {
        if (n == null) {
            return AgentConfig.Notify.NONE;
        }
        n.allowOnly(NOTIFY);
        AgentConfig.Webhook webhook = null;
        YamlSection w = n.section("webhook");
        if (w != null) {
            w.allowOnly(WEBHOOK);
            String url = w.string("url");
            if (url == null) {
                throw w.error("url", "is missing: the webhook needs the URL to POST alerts to");
            }
            URI uri;
            try {
                uri = URI.create(url);
            } catch (IllegalArgumentException e) {
                throw w.error("url", "is not a URL: " + e.getMessage());
            }
            if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme()) || uri.getHost() == null) {
                throw w.error("url", "must be an http:// or https:// URL, not '" + url + "'");
            }
            String format = w.string("format") == null ? "json" : w.string("format").toLowerCase(Locale.ROOT);
            if (!format.equals("json") && !format.equals("slack")) {
                throw w.error("format", "must be json (Lifeboat's alert document) or slack (Slack/Mattermost: "
                        + "{\"text\": ...}), not '" + format + "'");
            }
            Duration timeout = interval(w, "timeout", Duration.ofSeconds(10), Duration.ofSeconds(1), Duration.ofMinutes(5));
            webhook = new AgentConfig.Webhook(uri, format.equals("slack"), timeout);
        }
        AgentConfig.Email email = null;
        YamlSection e = n.section("email");
        if (e != null) {
            e.allowOnly(EMAIL);
            String host = e.string("smtp-host");
            if (host == null) {
                throw e.error("smtp-host", "is missing: e-mail alerts need the SMTP server");
            }
            String security = e.string("security") == null ? "starttls" : e.string("security").toLowerCase(Locale.ROOT);
            if (!List.of("none", "starttls", "tls").contains(security)) {
                throw e.error("security", "must be starttls (default), tls or none, not '" + security + "'");
            }
            Integer port = e.integer("smtp-port", 1, 65535);
            String from = e.string("from");
            if (from == null || !from.contains("@")) {
                throw e.error("from", "must be the sender's address, not '" + from + "'");
            }
            List<String> to = e.strings("to");
            if (to.isEmpty() || to.stream().anyMatch(a -> !a.contains("@"))) {
                throw e.error("to", "must list the recipients' addresses");
            }
            String pw = e.string("password-file");
            email = new AgentConfig.Email(host, port != null ? port : security.equals("tls") ? 465 : 587, security, from,
                    List.copyOf(to), e.string("username"), pw == null ? null : Path.of(pw));
        }
        return new AgentConfig.Notify(webhook, email);
    }

    private static AgentConfig.Stream stream(String cluster, YamlSection s) {
        if (s == null || Boolean.FALSE.equals(s.bool("enabled"))) {
            return null;
        }
        s.allowOnly(STREAM);
        String slot = s.string("slot");
        if (slot == null) {
            slot = "lifeboat_" + cluster.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
            slot = slot.substring(0, Math.min(63, slot.length()));
        } else if (!slot.matches("[a-z0-9_]{1,63}")) {
            throw s.error("slot", "must be 1 to 63 lower-case letters, digits or underscores (PostgreSQL's rule for "
                    + "slot names), not '" + slot + "'");
        }
        String app = s.string("application-name");
        if (app == null) {
            app = "lifeboat";
        } else if (!app.matches("[A-Za-z0-9_.-]{1,63}")) {
            throw s.error("application-name", "must be 1 to 63 letters, digits, '_', '.' or '-', not '" + app + "'");
        }
        Duration flush = interval(s, "flush-interval", Duration.ofSeconds(10), Duration.ofSeconds(1), Duration.ofHours(1));
        Duration lag = interval(s, "lag-alert", Duration.ofMinutes(2), Duration.ofSeconds(1), Duration.ofDays(7));
        if (lag.compareTo(flush) <= 0) {
            throw s.error("lag-alert", "(" + lag.toSeconds() + " s) must be longer than flush-interval ("
                    + flush.toSeconds() + " s): the stream is always up to that far behind");
        }
        long retained = size(s, "retained-alert", 2L << 30);
        boolean create = !Boolean.FALSE.equals(s.bool("create-slot"));
        return new AgentConfig.Stream(slot, create, flush, Boolean.TRUE.equals(s.bool("synchronous")), app, lag, retained);
    }

    private static Map<AgentConfig.JobKind, CronSchedule> schedules(YamlSection s) {
        Map<AgentConfig.JobKind, CronSchedule> out = new EnumMap<>(AgentConfig.JobKind.class);
        if (s == null) {
            return out;
        }
        List<String> keys = new ArrayList<>();
        for (AgentConfig.JobKind k : AgentConfig.JobKind.values()) {
            keys.add(k.key());
        }
        s.allowOnly(Set.copyOf(keys));
        for (AgentConfig.JobKind k : AgentConfig.JobKind.values()) {
            String v = s.string(k.key());
            if (v != null) {
                try {
                    out.put(k, CronSchedule.parse(v));
                } catch (LifeboatException e) {
                    throw s.error(k.key(), "is not a cron expression ('" + v + "'): " + e.getMessage().replaceFirst(
                            "^'.*' is not a cron expression: ", "") + "; write five fields: minute hour day-of-month "
                            + "month day-of-week, e.g. '0 3 * * *'");
                }
            }
        }
        return out;
    }

    /** Durations like 10s, 5m, 2h, 1d. */
    static Duration interval(YamlSection s, String key, Duration dflt, Duration min, Duration max) {
        String v = s.string(key);
        if (v == null) {
            return dflt;
        }
        Duration d = parseInterval(v);
        if (d == null) {
            throw s.error(key, "must be a duration like 10s, 5m, 2h or 1d, not '" + v + "'");
        }
        if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
            throw s.error(key, "must be between " + min.toSeconds() + " s and " + max.toSeconds() + " s, not " + v);
        }
        return d;
    }

    /** 10s, 5m, 2h, 1d, 1w; null when it is not one. */
    public static Duration parseInterval(String v) {
        String t = v.trim().toLowerCase(Locale.ROOT);
        if (!t.matches("\\d{1,9}(ms|s|m|h|d|w)")) {
            return null;
        }
        String unit = t.replaceAll("^\\d+", "");
        long n = Long.parseLong(t.substring(0, t.length() - unit.length()));
        return switch (unit) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            case "d" -> Duration.ofDays(n);
            default -> Duration.ofDays(7 * n);
        };
    }

    private static long size(YamlSection s, String key, long dflt) {
        String v = s.string(key);
        if (v == null) {
            return dflt;
        }
        var m = java.util.regex.Pattern.compile("(\\d{1,12})\\s*(B|KiB|MiB|GiB|TiB|kB|MB|GB|TB)?").matcher(v.trim());
        if (!m.matches()) {
            throw s.error(key, "must be a size like 512MiB or 2GiB, not '" + v + "'");
        }
        long n = Long.parseLong(m.group(1));
        String u = m.group(2) == null ? "B" : m.group(2);
        long mult = switch (u) {
            case "KiB" -> 1L << 10;
            case "MiB" -> 1L << 20;
            case "GiB" -> 1L << 30;
            case "TiB" -> 1L << 40;
            case "kB" -> 1000L;
            case "MB" -> 1000_000L;
            case "GB" -> 1000_000_000L;
            case "TB" -> 1000_000_000_000L;
            default -> 1L;
        };
        if (n <= 0) {
            throw s.error(key, "must be more than 0");
        }
        return n * mult;
    }

    /** The clusters to serve: the named ones (each must enable the agent), or every one that does. */
    public static List<AgentConfig.ClusterAgent> select(AgentConfig cfg, List<String> names, Path file,
                                                        java.util.Collection<String> defined) {
        if (names == null || names.isEmpty()) {
            if (cfg.clusters().isEmpty()) {
                throw new LifeboatException(ErrorKind.CONFIG, "no cluster in " + file + " has an 'agent:' section",
                        "add 'agent:' with 'stream:' and/or 'schedules:' to the clusters the agent should serve "
                                + "(docs/agent.md)");
            }
            return List.copyOf(cfg.clusters().values());
        }
        List<AgentConfig.ClusterAgent> out = new ArrayList<>();
        for (String n : names) {
            if (!defined.contains(n)) {
                throw new LifeboatException(ErrorKind.USAGE, "cluster '" + n + "' is not defined in " + file,
                        "defined clusters: " + String.join(", ", defined));
            }
            AgentConfig.ClusterAgent a = cfg.clusters().get(n);
            if (a == null) {
                throw new LifeboatException(ErrorKind.CONFIG, "cluster '" + n + "' in " + file + " has no 'agent:' section "
                        + "(or it says enabled: false)", "add 'agent:' with 'stream:' and/or 'schedules:' to it (docs/agent.md)");
            }
            out.add(a);
        }
        return out;
    }
}
