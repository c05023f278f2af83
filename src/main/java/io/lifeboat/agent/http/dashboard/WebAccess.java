package io.lifeboat.agent.http.dashboard;

import com.sun.net.httpserver.Headers;
import io.lifeboat.agent.http.LoopbackHost;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Who may read the dashboard and who may start a drill. With a token (agent.http.token-file),
 * every request needs it: scripts send {@code Authorization: Bearer <token>}; a browser sends it
 * once to {@code POST /api/session} (from the login page) and then carries an HttpOnly,
 * SameSite=Strict session cookie for reading. Starting a drill always needs the token itself in the
 * Authorization header, which a cross-site form cannot send, so a page elsewhere cannot start one.
 * Without a token (loopback only), a drill needs the {@value #CSRF_HEADER} header for the same
 * reason, and every request must name a loopback host: a page whose name was rebound to 127.0.0.1
 * (DNS rebinding) is refused.
 */
public final class WebAccess {
    public static final String COOKIE = "lifeboat_session";
    public static final String CSRF_HEADER = "X-Lifeboat-Request";
    static final Duration SESSION_TTL = Duration.ofHours(12);

    /** Allowed, or refused with a status (401: who are you; 403: not this way) and why. */
    public record Decision(int status, String reason) {
        static final Decision OK = new Decision(200, null);

        public boolean allowed() {
            return status == 200;
        }
    }

    private final byte[] token;
    private final String listenHost;
    private final Map<String, Instant> sessions = new ConcurrentHashMap<>();
    private final SecureRandom random = new SecureRandom();

    /** @param token the bearer token, or null for none; @param listenHost the address the endpoint binds */
    public WebAccess(byte[] token, String listenHost) {
        this.token = token;
        this.listenHost = listenHost;
    }

    public boolean tokenRequired() {
        return token != null;
    }

    /** May this request read (GET) the dashboard and its API? */
    public Decision read(Headers h) {
        Decision host = host(h);
        if (!host.allowed()) {
            return host;
        }
        if (token == null || bearer(h) || session(h)) {
            return Decision.OK;
        }
        return new Decision(401, "a bearer token is required");
    }

    /** May this request change something (POST: start a drill)? Never on a cookie alone. */
    public Decision write(Headers h) {
        Decision host = host(h);
        if (!host.allowed()) {
            return host;
        }
        if (token != null) {
            return bearer(h) ? Decision.OK : new Decision(401, "starting a drill needs the bearer token in the "
                    + "Authorization header (a session cookie is not enough)");
        }
        return h.getFirst(CSRF_HEADER) != null ? Decision.OK : new Decision(403, "a drill is started from the dashboard's "
                + "page or with the " + CSRF_HEADER + " header");
    }

    /** Checks the bearer token of a login and opens a session: the cookie's value. */
    public String login(Headers h) {
        if (!host(h).allowed() || token != null && !bearer(h)) {
            return null;
        }
        byte[] b = new byte[32];
        random.nextBytes(b);
        String id = HexFormat.of().formatHex(b);
        Instant now = Instant.now();
        sessions.entrySet().removeIf(e -> e.getValue().isBefore(now));
        sessions.put(id, now.plus(SESSION_TTL));
        return id;
    }

    private boolean bearer(Headers h) {
        String a = h.getFirst("Authorization");
        if (token == null || a == null || !a.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return false;
        }
        return MessageDigest.isEqual(token, a.substring(7).trim().getBytes(StandardCharsets.UTF_8));
    }

    private boolean session(Headers h) {
        String id = cookie(h, COOKIE);
        if (id == null) {
            return false;
        }
        Instant until = sessions.get(id);
        return until != null && until.isAfter(Instant.now());
    }

    static String cookie(Headers h, String name) {
        for (String line : h.getOrDefault("Cookie", java.util.List.of())) {
            for (String part : line.split(";")) {
                String p = part.trim();
                if (p.startsWith(name + "=")) {
                    return p.substring(name.length() + 1);
                }
            }
        }
        return null;
    }

    /** Without a token, only requests naming a loopback host (or the configured one) are served. */
    private Decision host(Headers h) {
        if (token != null) {
            return Decision.OK;
        }
        String host = h.getFirst("Host");
        if (host == null) {
            return new Decision(403, "a Host header is required");
        }
        if (LoopbackHost.named(host, listenHost)) {
            return Decision.OK;
        }
        return new Decision(403, "the dashboard answers only to a loopback host name without a token (Host: "
                + LoopbackHost.quoted(host) + ")");
    }
}
