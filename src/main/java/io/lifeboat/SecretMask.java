package io.lifeboat;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The one place a location that may hold a secret is made fit to show: every message, description,
 * JSON field and log line that names a repository URI or endpoint passes it through {@link #uri}.
 * Lifeboat refuses URIs with credentials, but the refusal itself must not echo them.
 */
public final class SecretMask {
    public static final String MASK = "***";
    /** Query parameters whose values are secrets (or close enough: an access key id is masked too). */
    private static final Pattern SECRET_PARAM = Pattern.compile(".*(secret|password|passwd|pwd|token|key|credential|"
            + "signature|auth|session).*");

    private SecretMask() {
    }

    /**
     * The text with the password of every user-info part ({@code user:pw@host}, also inside a query
     * parameter such as {@code endpoint=http://key:secret@host}) and the value of every secret-looking
     * query parameter ({@code secret-access-key=…}, {@code X-Amz-Signature=…}) replaced by ***.
     * Works on text that is not a valid URI too, since that is what error messages quote.
     */
    public static String uri(String text) {
        if (text == null) {
            return null;
        }
        int q = text.indexOf('?');
        String head = maskUserInfo(q < 0 ? text : text.substring(0, q));
        if (q < 0) {
            return head;
        }
        StringBuilder out = new StringBuilder(head).append('?');
        String[] params = text.substring(q + 1).split("&", -1);
        for (int i = 0; i < params.length; i++) {
            out.append(i == 0 ? "" : "&").append(param(params[i]));
        }
        return out.toString();
    }

    /** Whether the text holds anything {@link #uri} would mask. */
    public static boolean hasSecret(String text) {
        return text != null && !uri(text).equals(text);
    }

    private static String param(String p) {
        int eq = p.indexOf('=');
        String name = eq < 0 ? p : p.substring(0, eq);
        if (eq < 0) {
            return maskUserInfo(p);
        }
        if (SECRET_PARAM.matcher(decode(name).toLowerCase(Locale.ROOT)).matches()) {
            return name + "=" + MASK;
        }
        String value = p.substring(eq + 1);
        String decoded = decode(value);
        String masked = maskUserInfo(decoded);
        return masked.equals(decoded) ? name + "=" + maskUserInfo(value) : name + "=" + masked;
    }

    /** {@code scheme://user:pw@host/...} (or {@code user:pw@host:/path}) → {@code scheme://user:***@host/...}. */
    private static String maskUserInfo(String s) {
        int scheme = s.indexOf("://");
        int start = scheme < 0 ? 0 : scheme + 3;
        int end = s.length();
        for (char c : new char[] {'/', '?', '#'}) {
            int i = s.indexOf(c, start);
            if (i >= 0 && i < end) {
                end = i;
            }
        }
        int at = s.lastIndexOf('@', end - 1);
        if (at < start) {
            return s;
        }
        int colon = s.indexOf(':', start);
        if (colon < 0 || colon > at) {
            // a user name alone, unless it is an encoded "user:password"
            String user = decode(s.substring(start, at));
            return user.contains(":") ? s.substring(0, start) + user.substring(0, user.indexOf(':')) + ":" + MASK
                    + s.substring(at) : s;
        }
        return s.substring(0, colon + 1) + MASK + s.substring(at);
    }

    private static String decode(String s) {
        try {
            return URLDecoder.decode(s, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return s; // malformed escapes: judge the text as it is
        }
    }
}
