package io.lifeboat.config;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.SecretMask;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A parsed repository location: {@code s3://bucket/prefix?endpoint=…&region=…&path-style=true},
 * {@code sftp://user@host:port/path} or {@code file:///mnt/nfs/backups}. Credentials are never part
 * of the URI (they would end up in logs and process lists).
 */
public record RepositoryUri(String scheme, String bucket, String host, int port, String user, String path,
                            Map<String, String> params) {
    private static final Set<String> S3_PARAMS = Set.of("endpoint", "region", "path-style", "connect-timeout",
            "read-timeout", "retry-time", "ca-file", "verify-tls");

    public static RepositoryUri parse(String text) {
        if (text == null || text.isBlank()) {
            throw bad(text, "it is empty");
        }
        URI uri;
        try {
            uri = new URI(text.trim());
        } catch (URISyntaxException e) {
            throw bad(text, e.getReason());
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        Map<String, String> params = query(text, uri.getRawQuery());
        if (uri.getUserInfo() != null && uri.getUserInfo().contains(":")) {
            throw bad(text, "it contains a password; credentials never go into a URI",
                    "put secrets in the repository's settings or the environment, not in the URI");
        }
        switch (scheme) {
            case "s3" -> {
                String bucket = uri.getHost() != null ? uri.getHost() : uri.getAuthority();
                if (bucket == null || bucket.isBlank()) {
                    throw bad(text, "it names no bucket");
                }
                for (String k : params.keySet()) {
                    if (!S3_PARAMS.contains(k)) {
                        throw bad(text, "unknown parameter '" + k + "'", "s3 URIs take endpoint, region, path-style, "
                                + "connect-timeout, read-timeout, retry-time, ca-file and verify-tls"
                                + (SecretMask.hasSecret("?" + k + "=x") ? "; credentials never go into a URI: set "
                                + "access-key-id and secret-access-key in the repository's settings, or "
                                + "LIFEBOAT_S3_ACCESS_KEY_ID and LIFEBOAT_S3_SECRET_ACCESS_KEY" : ""));
                    }
                }
                if (params.containsKey("endpoint")) {
                    endpoint(text, params.get("endpoint"));
                }
                return new RepositoryUri("s3", bucket, null, -1, null, trimSlashes(uri.getPath()), params);
            }
            case "file" -> {
                if (uri.getPath() == null || !uri.getPath().startsWith("/")) {
                    throw bad(text, "file repositories need an absolute path", "write it like file:///mnt/nfs/backups");
                }
                return new RepositoryUri("file", null, null, -1, null, uri.getPath(), params);
            }
            case "sftp" -> {
                if (uri.getHost() == null) {
                    throw bad(text, "it names no host");
                }
                return new RepositoryUri("sftp", null, uri.getHost(), uri.getPort() < 0 ? 22 : uri.getPort(),
                        uri.getUserInfo(), uri.getPath() == null ? "" : uri.getPath(), params);
            }
            default -> throw bad(text, "unknown scheme '" + scheme + "'");
        }
    }

    /** The endpoint parameter as a URL: scheme and host, no credentials. */
    private static URI endpoint(String text, String endpoint) {
        URI ep;
        try {
            ep = new URI(endpoint);
        } catch (URISyntaxException e) {
            throw bad(text, "endpoint '" + SecretMask.uri(endpoint) + "' is not a URL (" + e.getReason() + ")",
                    "write it like endpoint=https://s3.example.com:9000");
        }
        if (ep.getScheme() == null || ep.getHost() == null) {
            throw bad(text, "endpoint '" + SecretMask.uri(endpoint) + "' is not a URL",
                    "write it like endpoint=https://s3.example.com:9000");
        }
        if (ep.getUserInfo() != null) {
            throw bad(text, "the endpoint contains credentials; they never go into a URI",
                    "set access-key-id and secret-access-key in the repository's settings, or LIFEBOAT_S3_ACCESS_KEY_ID "
                            + "and LIFEBOAT_S3_SECRET_ACCESS_KEY");
        }
        return ep;
    }

    private static Map<String, String> query(String text, String raw) {
        Map<String, String> m = new LinkedHashMap<>();
        if (raw == null || raw.isEmpty()) {
            return m;
        }
        for (String pair : raw.split("&")) {
            int eq = pair.indexOf('=');
            if (eq <= 0) {
                throw bad(text, "parameter '" + pair + "' has no value");
            }
            m.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8).toLowerCase(Locale.ROOT),
                    URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
        }
        return m;
    }

    private static String trimSlashes(String p) {
        return p == null ? "" : p.replaceAll("^/+|/+$", "");
    }

    private static LifeboatException bad(String text, String why) {
        return bad(text, why, "repository URIs look like s3://bucket/prefix?endpoint=https://host:9000&region=us-east-1"
                + "&path-style=true, sftp://user@host/path or file:///mnt/nfs/backups");
    }

    private static LifeboatException bad(String text, String why, String hint) {
        return new LifeboatException(ErrorKind.CONFIG, "invalid repository URI '" + SecretMask.uri(text) + "': " + why, hint);
    }

    public Path filePath() {
        return Path.of(path);
    }

    /** The host a network repository talks to (S3 endpoint host or SFTP host); null for AWS default or file. */
    public String networkHost() {
        if (scheme.equals("sftp")) {
            return host;
        }
        if (scheme.equals("s3") && params.containsKey("endpoint")) {
            return endpoint(params.get("endpoint"), params.get("endpoint")).getHost();
        }
        return null;
    }
}
