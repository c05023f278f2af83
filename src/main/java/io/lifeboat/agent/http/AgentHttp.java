package io.lifeboat.agent.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.SecretMask;
import io.lifeboat.agent.ClusterState;
import io.lifeboat.agent.ProblemBoard;
import io.lifeboat.config.AgentConfig;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermission;
import java.security.MessageDigest;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;

/**
 * The agent's HTTP endpoint (the JDK's HTTP server): {@code /metrics} in Prometheus text format and
 * {@code /healthz} (200 "ok", or 503 with the open problems), and a {@link Site} (the dashboard) under
 * "/". Binds 127.0.0.1 by default; with a token file, every request must carry
 * {@code Authorization: Bearer <token>} (the dashboard also takes its session cookie for reading).
 */
public final class AgentHttp {
    /** More served on this endpoint under "/" (the dashboard), with the same token (null for none). */
    public interface Site {
        void start(byte[] token);

        void handle(HttpExchange ex) throws IOException;

        void stop();
    }

    private final AgentConfig.Http cfg;
    private final ProblemBoard problems;
    private final Consumer<String> log;
    private final Site site;
    private HttpServer server;
    private ExecutorService pool;
    private byte[] token;

    public AgentHttp(AgentConfig.Http cfg, ProblemBoard problems, Consumer<String> log) {
        this(cfg, problems, log, null);
    }

    public AgentHttp(AgentConfig.Http cfg, ProblemBoard problems, Consumer<String> log, Site site) {
        this.cfg = cfg;
        this.problems = problems;
        this.log = log;
        this.site = site;
    }

    public void start(List<ClusterState> clusters) {
        if (cfg.tokenFile() != null) {
            try {
                String t = Files.readString(cfg.tokenFile()).trim();
                if (t.isEmpty()) {
                    throw new LifeboatException(ErrorKind.CONFIG, "the agent's token file " + cfg.tokenFile() + " is empty",
                            "write a long random token into it (e.g. openssl rand -hex 32)");
                }
                token = t.getBytes(StandardCharsets.UTF_8);
                if (readableByOthers(cfg.tokenFile())) {
                    log.accept("agent: WARNING: the token file " + cfg.tokenFile() + " can be read by other users of "
                            + "this host, who could then read the dashboard" + (cfg.drills() ? " and start drills" : "")
                            + "; chmod 600 it");
                }
            } catch (IOException e) {
                throw new LifeboatException(ErrorKind.CONFIG, "cannot read the agent's token file " + cfg.tokenFile() + ": "
                        + e.getMessage(), "check agent.http.token-file", e);
            }
        }
        AgentMetrics metrics = new AgentMetrics(clusters, problems);
        try {
            server = HttpServer.create(new InetSocketAddress(cfg.host(), cfg.port()), 16);
        } catch (IOException e) {
            throw new LifeboatException(ErrorKind.CONFIG, "the agent cannot listen on " + cfg.host() + ":" + cfg.port()
                    + ": " + e.getMessage(), "choose a free address in agent.http.listen (or 'off')", e);
        }
        pool = Executors.newFixedThreadPool(site == null ? 2 : 4, r -> {
            Thread t = new Thread(r, "lifeboat-http");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(pool);
        server.createContext("/metrics", ex -> handle(ex, () -> new Reply(200,
                "text/plain; version=0.0.4; charset=utf-8", metrics.scrape())));
        server.createContext("/healthz", ex -> handle(ex, this::health));
        if (site != null) {
            site.start(token);
            server.createContext("/", site::handle);
        }
        server.start();
        log.accept("agent: metrics and health on http://" + cfg.host() + ":" + port() + "/metrics and /healthz"
                + (token == null ? "" : " (bearer token required)"));
        if (site != null) {
            log.accept("agent: dashboard on http://" + (cfg.host().contains(":") ? "[" + cfg.host() + "]" : cfg.host())
                    + ":" + port() + "/");
        }
    }

    private record Reply(int status, String type, String body) {
    }

    private Reply health() {
        List<ProblemBoard.Problem> open = problems.open();
        if (open.isEmpty()) {
            return new Reply(200, "text/plain; charset=utf-8", "ok\n");
        }
        StringBuilder sb = new StringBuilder("unhealthy\n");
        for (ProblemBoard.Problem p : open) {
            sb.append(p.cluster()).append('/').append(p.key()).append(" since ").append(p.since()).append(": ")
                    .append(SecretMask.uri(p.message())).append('\n');
        }
        return new Reply(503, "text/plain; charset=utf-8", sb.toString());
    }

    private void handle(HttpExchange ex, java.util.function.Supplier<Reply> reply) throws IOException {
        try (ex) {
            Reply r;
            if (!"GET".equals(ex.getRequestMethod()) && !"HEAD".equals(ex.getRequestMethod())) {
                r = new Reply(405, "text/plain", "GET only\n");
            } else if (token == null && !LoopbackHost.named(ex.getRequestHeaders().getFirst("Host"), cfg.host())) {
                // DNS rebinding: a page elsewhere whose name now points at 127.0.0.1 sends its own name
                r = new Reply(403, "text/plain", "without a token this endpoint answers only to a loopback host name (Host: "
                        + LoopbackHost.quoted(ex.getRequestHeaders().getFirst("Host")) + ")\n");
            } else if (!authorized(ex)) {
                ex.getResponseHeaders().add("WWW-Authenticate", "Bearer realm=\"lifeboat\"");
                r = new Reply(401, "text/plain", "a bearer token is required\n");
            } else {
                r = reply.get();
            }
            byte[] body = r.body().getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", r.type());
            ex.sendResponseHeaders(r.status(), "HEAD".equals(ex.getRequestMethod()) ? -1 : body.length);
            if (!"HEAD".equals(ex.getRequestMethod())) {
                try (OutputStream out = ex.getResponseBody()) {
                    out.write(body);
                }
            }
        }
    }

    private boolean authorized(HttpExchange ex) {
        if (token == null) {
            return true;
        }
        String h = ex.getRequestHeaders().getFirst("Authorization");
        if (h == null || !h.startsWith("Bearer ")) {
            return false;
        }
        return MessageDigest.isEqual(token, h.substring("Bearer ".length()).trim().getBytes(StandardCharsets.UTF_8));
    }

    private static boolean readableByOthers(java.nio.file.Path f) {
        try {
            Set<PosixFilePermission> p = Files.getPosixFilePermissions(f);
            return p.contains(PosixFilePermission.GROUP_READ) || p.contains(PosixFilePermission.OTHERS_READ);
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    /** The port bound (the configured one, or the one chosen for port 0). */
    public int port() {
        return server.getAddress().getPort();
    }

    public void stop() {
        if (site != null) {
            site.stop();
        }
        if (server != null) {
            server.stop(0);
        }
        if (pool != null) {
            pool.shutdownNow();
        }
    }
}
