package io.lifeboat.agent.http;

import java.util.Locale;
import java.util.Set;

/**
 * The guard against DNS rebinding for an endpoint without a token (which listens on loopback only):
 * a request is served only when its Host header names a loopback host or the address listened on.
 * A page on another site whose name was re-pointed at 127.0.0.1 sends its own name, and is refused.
 */
public final class LoopbackHost {
    private static final Set<String> NAMES = Set.of("localhost", "127.0.0.1", "[::1]", "::1");

    private LoopbackHost() {
    }

    /** @param host the Host header (null: none); @param listenHost the address the endpoint binds */
    public static boolean named(String host, String listenHost) {
        if (host == null) {
            return false;
        }
        String name = host.toLowerCase(Locale.ROOT);
        int colon = name.lastIndexOf(':');
        if (colon > 0 && name.indexOf(']') < colon) {
            name = name.substring(0, colon);
        }
        return NAMES.contains(name) || name.matches("127(\\.[0-9]{1,3}){3}") || name.equals(listenHost)
                || ("[" + listenHost + "]").equals(name);
    }

    /** The Host header as it may be quoted in a refusal (only host-name characters kept). */
    public static String quoted(String host) {
        return host == null ? "none" : host.replaceAll("[^A-Za-z0-9.:\\[\\]-]", "?");
    }
}
