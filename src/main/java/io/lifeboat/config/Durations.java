package io.lifeboat.config;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;

import java.time.Duration;
import java.util.Locale;

/** Durations as the configuration writes them: 14d, 36h, 90m, 2w, or ISO-8601 (P14D). */
public final class Durations {
    private Durations() {
    }

    /** Parses durations like 14d, 36h, 90m, 2w or ISO-8601 (P14D). */
    public static Duration parse(String text) {
        String t = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
        try {
            if (t.startsWith("p")) {
                return Duration.parse(t.toUpperCase(Locale.ROOT));
            }
            long n = Long.parseLong(t.substring(0, t.length() - 1));
            return switch (t.charAt(t.length() - 1)) {
                case 'd' -> Duration.ofDays(n);
                case 'h' -> Duration.ofHours(n);
                case 'm' -> Duration.ofMinutes(n);
                case 'w' -> Duration.ofDays(7 * n);
                default -> throw new NumberFormatException();
            };
        } catch (RuntimeException e) {
            throw new LifeboatException(ErrorKind.CONFIG, "'" + text + "' is not a duration",
                    "write durations like 14d, 36h, 90m or 2w");
        }
    }

    /** A duration written back in the configuration's own units (whole days, hours or minutes). */
    public static String text(Duration d) {
        if (d.toDays() > 0 && d.toHours() % 24 == 0) {
            return d.toDays() + "d";
        }
        if (d.toHours() > 0 && d.toMinutes() % 60 == 0) {
            return d.toHours() + "h";
        }
        return d.toMinutes() + "m";
    }
}
