package io.lifeboat.agent.http.dashboard;

import com.sun.net.httpserver.HttpExchange;
import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.SecretMask;
import io.lifeboat.agent.ClusterState;
import io.lifeboat.agent.ProblemBoard;
import io.lifeboat.agent.http.AgentHttp;
import io.lifeboat.catalog.Json;
import io.lifeboat.config.AgentConfig;
import io.lifeboat.config.ClusterConfig;
import io.lifeboat.engine.RepositoryAccess;
import io.lifeboat.engine.plan.RestorePlan;
import io.lifeboat.engine.plan.RestorePlanner;
import io.lifeboat.postgres.RecoveryTarget;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The web dashboard of `lifeboat agent` (docs/dashboard.md): the fleet page, a page per cluster
 * with its recoverability timeline, the restore planner with its drill button, and the same data as
 * JSON under /api/. Served on the agent's endpoint with its token ({@link WebAccess}); read-only
 * unless agent.http.drills allows drills.
 */
public final class Dashboard implements AgentHttp.Site {
    /** How often the repositories are re-read (pages are served from the last look). */
    static final Duration REFRESH = Duration.ofSeconds(Long.getLong("lifeboat.dashboard.refresh-seconds", 30));
    private static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
            + "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    /** A served cluster: its settings, the agent's state of it, and its open repositories (once started). */
    public record Source(ClusterConfig config, AgentConfig.ClusterAgent agent, ClusterState state,
                         Supplier<RepositoryAccess> repository) {
    }

    private final Map<String, ClusterBoard> boards = new LinkedHashMap<>();
    private final Map<String, DrillRunner> drills = new LinkedHashMap<>();
    private final AgentConfig.Http http;
    private final Path configFile;
    private final Consumer<String> log;
    private WebAccess access;
    private Thread refresher;
    private volatile boolean stopping;

    /**
     * @param configFile     the lifeboat.yml the agent reads (the planner's command names it)
     * @param restoreCommand the restore_command of a cluster's drills (lifeboat wal-fetch ... %f %p)
     */
    public Dashboard(List<Source> clusters, ProblemBoard problems, AgentConfig.Http http, Path configFile,
                     Function<ClusterConfig, String> restoreCommand, Consumer<String> log) {
        this(clusters, problems, http, configFile, (DrillFactory) b -> new DrillRunner(b, restoreCommand.apply(b.config()),
                log), log);
    }

    /** How the drills of a cluster run (tests give one that needs no server). */
    interface DrillFactory {
        DrillRunner apply(ClusterBoard board);
    }

    Dashboard(List<Source> clusters, ProblemBoard problems, AgentConfig.Http http, Path configFile,
              DrillFactory drillRunner, Consumer<String> log) {
        this.http = http;
        this.configFile = configFile;
        this.log = log;
        for (Source s : clusters) {
            ClusterBoard b = new ClusterBoard(s.config(), s.agent(), s.state(), problems, s.repository());
            boards.put(s.config().name(), b);
            drills.put(s.config().name(), drillRunner.apply(b));
        }
    }

    @Override
    public void start(byte[] token) {
        access = new WebAccess(token, http.host());
        refresher = new Thread(() -> {
            while (!stopping) {
                for (ClusterBoard b : boards.values()) {
                    if (!stopping && b.due(Instant.now(), REFRESH)) {
                        b.refresh();
                    }
                }
                try {
                    Thread.sleep(Math.min(1000, REFRESH.toMillis())); // a finished job is shown within a second
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "lifeboat-dashboard-refresh");
        refresher.setDaemon(true);
        refresher.start();
    }

    @Override
    public void stop() {
        stopping = true;
        if (refresher != null) {
            refresher.interrupt();
        }
        drills.values().forEach(d -> d.stop(Duration.ofSeconds(20)));
    }

    private record Reply(int status, String type, byte[] body, Map<String, String> headers) {
        static Reply html(int status, String body) {
            return new Reply(status, "text/html; charset=utf-8", body.getBytes(StandardCharsets.UTF_8), Map.of());
        }

        static Reply json(int status, Object value) {
            try {
                return new Reply(status, "application/json", Json.MAPPER.writeValueAsBytes(value), Map.of());
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        static Reply text(int status, String body) {
            return new Reply(status, "text/plain; charset=utf-8", (body + "\n").getBytes(StandardCharsets.UTF_8), Map.of());
        }

        Reply with(String header, String value) {
            Map<String, String> h = new LinkedHashMap<>(headers);
            h.put(header, value);
            return new Reply(status, type, body, h);
        }
    }

    /** An error of the API: {"error": ..., "hint": ...}. */
    record ApiError(String error, String hint) {
    }

    @Override
    public void handle(HttpExchange ex) throws IOException {
        try (ex) {
            Reply r;
            try {
                r = route(ex);
            } catch (LifeboatException e) {
                int status = switch (e.kind()) {
                    case USAGE, CONFIG -> 400;
                    case NOT_FOUND -> 404;
                    case CONFLICT -> 409;
                    default -> 500;
                };
                r = Reply.json(status, new ApiError(SecretMask.uri(e.getMessage()), SecretMask.uri(e.hint())));
            } catch (RuntimeException e) {
                log.accept("warning: dashboard: " + ex.getRequestURI().getPath() + ": " + e);
                r = Reply.text(500, "internal error: " + SecretMask.uri(String.valueOf(e.getMessage())));
            }
            var h = ex.getResponseHeaders();
            h.set("Content-Type", r.type());
            h.set("Content-Security-Policy", CSP);
            h.set("X-Content-Type-Options", "nosniff");
            h.set("X-Frame-Options", "DENY");
            h.set("Referrer-Policy", "no-referrer");
            h.set("Cache-Control", "no-store");
            r.headers().forEach(h::set);
            boolean head = "HEAD".equals(ex.getRequestMethod());
            ex.sendResponseHeaders(r.status(), head || r.body().length == 0 ? -1 : r.body().length);
            if (!head && r.body().length > 0) {
                try (OutputStream out = ex.getResponseBody()) {
                    out.write(r.body());
                }
            }
        }
    }

    private Reply route(HttpExchange ex) throws IOException {
        String method = ex.getRequestMethod();
        String path = ex.getRequestURI().getPath();
        Map<String, String> q = query(ex.getRequestURI().getRawQuery());
        boolean get = method.equals("GET") || method.equals("HEAD");
        if (get && path.startsWith("/static/")) {
            return resource(path.substring("/static/".length()));
        }
        if (get && path.equals("/login")) {
            return Reply.html(200, Pages.login());
        }
        if (method.equals("POST") && path.equals("/api/session")) {
            String id = access.login(ex.getRequestHeaders());
            if (id == null) {
                return Reply.json(401, new ApiError("the token is not right", "it is the content of agent.http.token-file"));
            }
            return Reply.json(200, Map.of("ok", true)).with("Set-Cookie", WebAccess.COOKIE + "=" + id
                    + "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" + WebAccess.SESSION_TTL.toSeconds());
        }
        boolean api = path.startsWith("/api/");
        if (method.equals("POST")) {
            WebAccess.Decision d = access.write(ex.getRequestHeaders());
            if (!d.allowed()) {
                return refused(d, true);
            }
            List<String> parts = parts(path);
            if (parts.size() == 4 && parts.get(0).equals("api") && parts.get(1).equals("clusters")
                    && parts.get(3).equals("drills")) {
                return startDrill(board(parts.get(2)), query(new String(ex.getRequestBody().readAllBytes(),
                        StandardCharsets.UTF_8)));
            }
            return Reply.text(404, "no such resource");
        }
        if (!get) {
            return Reply.text(405, "GET or POST only").with("Allow", "GET, HEAD, POST");
        }
        WebAccess.Decision d = access.read(ex.getRequestHeaders());
        if (!d.allowed()) {
            if (!api && d.status() == 401) {
                return Reply.text(303, "sign in first").with("Location", "/login?next=" + Html.url(path));
            }
            return refused(d, api);
        }
        Instant now = Instant.now();
        List<String> parts = parts(path);
        if (parts.isEmpty()) {
            return Reply.html(200, Pages.fleet(fleet(now)));
        }
        if (parts.get(0).equals("clusters") && parts.size() == 2) {
            return Reply.html(200, Pages.cluster(DashboardModel.cluster(board(parts.get(1)), http.drills(), now), now));
        }
        if (parts.get(0).equals("clusters") && parts.size() == 3 && parts.get(2).equals("plan")) {
            return planPage(board(parts.get(1)), q);
        }
        if (api && parts.size() == 2 && parts.get(1).equals("clusters")) {
            return Reply.json(200, fleet(now));
        }
        if (api && parts.size() >= 3 && parts.get(1).equals("clusters")) {
            ClusterBoard b = board(parts.get(2));
            if (parts.size() == 3) {
                return Reply.json(200, DashboardModel.cluster(b, http.drills(), now));
            }
            if (parts.size() == 4 && parts.get(3).equals("plan")) {
                return Reply.json(200, plan(b, form(q)));
            }
            if (parts.size() == 5 && parts.get(3).equals("drills") && parts.get(4).equals("current")) {
                DrillRunner.Run run = drills.get(b.name()).current();
                return run == null ? Reply.json(404, new ApiError("no drill started from the dashboard yet", null))
                        : Reply.json(200, run);
            }
        }
        return api ? Reply.json(404, new ApiError("no such resource: " + path, "see docs/dashboard.md"))
                : Reply.html(404, Pages.error(404, "no such page: " + path));
    }

    private static Reply refused(WebAccess.Decision d, boolean api) {
        Reply r = api ? Reply.json(d.status(), new ApiError(d.reason(), null)) : Reply.text(d.status(), d.reason());
        return d.status() == 401 ? r.with("WWW-Authenticate", "Bearer realm=\"lifeboat\"") : r;
    }

    private DashboardModel.Fleet fleet(Instant now) {
        List<DashboardModel.FleetRow> rows = new ArrayList<>();
        for (ClusterBoard b : boards.values()) {
            rows.add(DashboardModel.row(b, now));
        }
        return new DashboardModel.Fleet(now, rows);
    }

    private ClusterBoard board(String name) {
        ClusterBoard b = boards.get(name);
        if (b == null) {
            throw new LifeboatException(ErrorKind.NOT_FOUND, "this agent serves no cluster '" + name + "'",
                    "the clusters: " + String.join(", ", boards.keySet()));
        }
        return b;
    }

    private Reply planPage(ClusterBoard b, Map<String, String> q) {
        Pages.PlanForm form = form(q);
        RestorePlan plan = null;
        String error = null;
        if (form.value() != null || "immediate".equals(form.kind()) && q.containsKey("kind")) {
            try {
                plan = plan(b, form);
            } catch (LifeboatException e) {
                error = SecretMask.uri(e.getMessage() + (e.hint() == null ? "" : " — " + e.hint()));
            }
        }
        return Reply.html(error == null ? 200 : 400, Pages.plan(b.name(), form, plan, error, http.drills(),
                access.tokenRequired(), drills.get(b.name()).current()));
    }

    private static Pages.PlanForm form(Map<String, String> q) {
        String kind = q.getOrDefault("kind", "time");
        String value = blank(q.get("value"));
        return new Pages.PlanForm(kind, value, blank(q.get("dir")), blank(q.get("port")));
    }

    private static String blank(String s) {
        return s == null || s.isBlank() ? null : s.trim();
    }

    static RecoveryTarget target(String kind, String value) {
        if (!"immediate".equals(kind) && value == null) {
            throw new LifeboatException(ErrorKind.USAGE, "give the moment to plan for", "a time with a zone, an LSN, "
                    + "an xid or a restore point name");
        }
        return switch (kind == null ? "time" : kind) {
            case "time" -> RecoveryTarget.time(value);
            case "lsn" -> RecoveryTarget.lsn(value);
            case "xid" -> RecoveryTarget.xid(value);
            case "name" -> RecoveryTarget.name(value);
            case "immediate" -> RecoveryTarget.immediate("immediate");
            default -> throw new LifeboatException(ErrorKind.USAGE, "'" + kind + "' is not a kind of target",
                    "time, lsn, xid, name or immediate");
        };
    }

    private RestorePlan plan(ClusterBoard b, Pages.PlanForm form) {
        RecoveryTarget target = target(form.kind(), form.value());
        Path dir = null;
        if (form.dataDirectory() != null) {
            dir = Path.of(form.dataDirectory());
            if (!dir.isAbsolute()) {
                throw new LifeboatException(ErrorKind.USAGE, "the data directory must be an absolute path, not '"
                        + form.dataDirectory() + "'", "e.g. /var/lib/postgresql/restored");
            }
        }
        Integer port = null;
        if (form.port() != null) {
            try {
                port = Integer.parseInt(form.port());
            } catch (NumberFormatException e) {
                port = -1;
            }
            if (port < 1 || port > 65535) {
                throw new LifeboatException(ErrorKind.USAGE, "'" + form.port() + "' is not a port", "1 to 65535, or "
                        + "leave it empty to leave the restored server stopped");
            }
        }
        ClusterBoard.Snapshot s = b.snapshot();
        if (s.repo() == null) {
            throw new LifeboatException(ErrorKind.STORAGE, "the repository of cluster '" + b.name() + "' cannot be read: "
                    + s.error(), "check the repository");
        }
        return RestorePlanner.plan(b.name(), target, s.repo().complete(), s.repo().archive(), s.repo().histories(),
                s.repo().members(), s.repo().drills(), new RestorePlanner.Options(System.getProperty("lifeboat.launcher",
                        "lifeboat"), configFile, dir, port, b.config().dataDirectory()));
    }

    private Reply startDrill(ClusterBoard b, Map<String, String> form) {
        if (!http.drills()) {
            return Reply.json(403, new ApiError("drills from the dashboard are off (read-only)",
                    "set agent.http.drills: true in lifeboat.yml to allow them"));
        }
        RecoveryTarget target = target(form.getOrDefault("kind", "time"), blank(form.get("value")));
        Double expected = null;
        try {
            expected = plan(b, new Pages.PlanForm(form.getOrDefault("kind", "time"), blank(form.get("value")), null, null))
                    .estimate().seconds();
        } catch (LifeboatException e) {
            // the drill says what is wrong
        }
        return Reply.json(202, drills.get(b.name()).start(target, expected));
    }

    private static final Map<String, String> STATIC = Map.of("dashboard.css", "text/css; charset=utf-8",
            "dashboard.js", "text/javascript; charset=utf-8");

    private static Reply resource(String name) throws IOException {
        String type = STATIC.get(name);
        if (type == null) {
            return Reply.text(404, "no such file");
        }
        try (InputStream in = Dashboard.class.getResourceAsStream(name)) {
            if (in == null) {
                return Reply.text(404, "no such file");
            }
            return new Reply(200, type, in.readAllBytes(), Map.of());
        }
    }

    private static List<String> parts(String path) {
        List<String> out = new ArrayList<>();
        for (String p : path.split("/")) {
            if (!p.isEmpty()) {
                out.add(p);
            }
        }
        return out;
    }

    static Map<String, String> query(String raw) {
        Map<String, String> out = new LinkedHashMap<>();
        if (raw == null || raw.isEmpty()) {
            return out;
        }
        for (String pair : raw.split("&")) {
            int eq = pair.indexOf('=');
            try {
                String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
                String v = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
                out.putIfAbsent(k, v);
            } catch (IllegalArgumentException e) {
                // a malformed escape: the parameter is left out
            }
        }
        return out;
    }
}
