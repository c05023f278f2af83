package io.lifeboat.agent.http.dashboard;

import io.lifeboat.engine.Spool;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/** How the pages write times, durations and sizes: exact, with the zone (UTC), readable at 3 a.m. */
final class Format {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'")
            .withZone(ZoneOffset.UTC);

    private Format() {
    }

    static String time(Instant t) {
        return t == null ? "—" : TIME.format(t);
    }

    /** A duration in seconds as "0.8 s", "4 min 12 s", "2 h 05 min", "3 d 4 h". */
    static String seconds(double s) {
        if (Double.isNaN(s) || s < 0) {
            return "—";
        }
        if (s < 10) {
            return String.format(java.util.Locale.ROOT, "%.1f s", s);
        }
        long n = Math.round(s);
        if (n < 60) {
            return n + " s";
        }
        if (n < 3600) {
            return n / 60 + " min " + n % 60 + " s";
        }
        if (n < 86400) {
            return n / 3600 + " h " + String.format("%02d", n % 3600 / 60) + " min";
        }
        return n / 86400 + " d " + n % 86400 / 3600 + " h";
    }

    static String age(Instant t, Instant now) {
        return t == null ? "—" : seconds(Math.max(0, Duration.between(t, now).toMillis() / 1000.0));
    }

    static String bytes(long b) {
        return Spool.human(b);
    }
}
