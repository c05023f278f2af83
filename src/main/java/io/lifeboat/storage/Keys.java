package io.lifeboat.storage;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;

/** Validation of object keys, shared by all drivers so that one key means one thing everywhere. */
public final class Keys {
    private Keys() {
    }

    public static String check(String key) {
        if (key == null || key.isEmpty() || key.startsWith("/") || key.endsWith("/")
                || key.contains("//") || key.contains("\\") || key.contains("\0")) {
            throw new LifeboatException(ErrorKind.GENERAL, "invalid object key '" + key + "'",
                    "this is a bug in Lifeboat; please report it");
        }
        for (String part : key.split("/")) {
            if (part.equals(".") || part.equals("..")) {
                throw new LifeboatException(ErrorKind.GENERAL, "invalid object key '" + key + "'",
                        "this is a bug in Lifeboat; please report it");
            }
        }
        return key;
    }

    /** Joins path parts with '/', skipping empty ones. */
    public static String join(String... parts) {
        StringBuilder sb = new StringBuilder();
        for (String p : parts) {
            if (p == null || p.isEmpty()) {
                continue;
            }
            String trimmed = p.replaceAll("^/+|/+$", "");
            if (trimmed.isEmpty()) {
                continue;
            }
            if (sb.length() > 0) {
                sb.append('/');
            }
            sb.append(trimmed);
        }
        return sb.toString();
    }
}
