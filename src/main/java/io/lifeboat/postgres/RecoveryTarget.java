package io.lifeboat.postgres;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where point-in-time recovery stops: a time, an LSN, a transaction id, a named restore point, or
 * "immediate" (as soon as the backup is consistent). Parsers refuse anything ambiguous, such as a
 * time without a time zone.
 */
public record RecoveryTarget(Kind kind, String value) {
    public enum Kind { TIME, LSN, XID, NAME, IMMEDIATE }

    private static final DateTimeFormatter PG_OUT = DateTimeFormatter.ofPattern("uuuu-MM-dd HH:mm:ss.SSSSSSxxx")
            .withZone(ZoneOffset.UTC);
    /**
     * What PostgreSQL's timestamptz input takes for a moment, less what is ambiguous: a date, 'T' or
     * spaces, a time (seconds and fraction optional), then a zone (required).
     */
    private static final Pattern TIME = Pattern.compile("(\\d{4})-(\\d{1,2})-(\\d{1,2})(?:[Tt]| +)(\\d{1,2}):(\\d{2})"
            + "(?::(\\d{2})(?:\\.(\\d*))?)? *(\\S+)");
    /** Numeric offsets: +HH, +HHMM, +HH:MM, +HHMMSS, +HH:MM:SS. */
    private static final Pattern OFFSET = Pattern.compile("([+-])(\\d{1,2})(?::?(\\d{2})(?::?(\\d{2}))?)?");

    public static RecoveryTarget time(String text) {
        return new RecoveryTarget(Kind.TIME, PG_OUT.format(parseTime(text)));
    }

    /**
     * Parses a moment strictly: every field in range (no 30 February), a time zone required (a time
     * without one means different moments on different machines), nothing left over. Leap second
     * :60 and 24:00:00 are taken as PostgreSQL takes them (the next minute, the next day); the
     * fraction is rounded to microseconds, PostgreSQL's precision.
     */
    static Instant parseTime(String text) {
        String t = text == null ? "" : text.trim();
        Matcher m = TIME.matcher(t);
        if (!m.matches()) {
            throw badTime(text, null);
        }
        try {
            int hour = Integer.parseInt(m.group(4));
            int minute = Integer.parseInt(m.group(5));
            int second = m.group(6) == null ? 0 : Integer.parseInt(m.group(6));
            long nanos = m.group(7) == null || m.group(7).isEmpty() ? 0 : new BigDecimal("0." + m.group(7)).movePointRight(6)
                    .setScale(0, RoundingMode.HALF_EVEN).longValueExact() * 1000;
            if (Integer.parseInt(m.group(1)) < 1) {
                throw badTime(text, "year 0 does not exist");
            }
            boolean endOfDay = hour == 24 && minute == 0 && second == 0 && nanos == 0;
            boolean leapSecond = second == 60;
            LocalDateTime local = LocalDate.of(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)),
                    Integer.parseInt(m.group(3))).atTime(endOfDay ? 0 : hour, minute, leapSecond ? 59 : second);
            local = local.plusNanos(nanos).plusDays(endOfDay ? 1 : 0).plusSeconds(leapSecond ? 1 : 0);
            ZoneId zone = zone(m.group(8), text);
            if (zone.getRules().getValidOffsets(local).size() != 1) {
                throw badTime(text, local + " is skipped or repeated by a daylight-saving change in " + zone
                        + "; give a numeric offset such as +01:00");
            }
            return local.atZone(zone).toInstant();
        } catch (DateTimeException | ArithmeticException e) {
            throw badTime(text, e.getMessage());
        }
    }

    private static ZoneId zone(String z, String text) {
        String upper = z.toUpperCase(Locale.ROOT);
        if (upper.equals("Z") || upper.equals("UTC") || upper.equals("GMT") || upper.equals("UT") || upper.equals("ZULU")) {
            return ZoneOffset.UTC;
        }
        Matcher o = OFFSET.matcher(z);
        if (o.matches()) {
            int sign = o.group(1).equals("-") ? -1 : 1;
            int h = Integer.parseInt(o.group(2));
            int min = o.group(3) == null ? 0 : Integer.parseInt(o.group(3));
            int sec = o.group(4) == null ? 0 : Integer.parseInt(o.group(4));
            if (h > 15 || min > 59 || sec > 59) { // PostgreSQL's limit for a zone displacement
                throw badTime(text, "the offset " + z + " is out of range");
            }
            return ZoneOffset.ofTotalSeconds(sign * (h * 3600 + min * 60 + sec));
        }
        if (z.contains("/")) { // a region of the tz database, e.g. Europe/Berlin
            try {
                return ZoneId.of(z);
            } catch (DateTimeException e) {
                throw badTime(text, "unknown time zone " + z);
            }
        }
        throw badTime(text, "'" + z + "' is not a time zone Lifeboat reads the same way PostgreSQL does (abbreviations "
                + "such as CET or EST depend on the server's timezone_abbreviations)");
    }

    private static LifeboatException badTime(String text, String why) {
        return new LifeboatException(ErrorKind.USAGE, "'" + text + "' is not a time with a time zone"
                + (why == null ? "" : ": " + why),
                "write it like 2026-11-24T22:05:12Z, '2026-11-24 23:05:12.5+01:00' or '2026-11-24 23:05:12 Europe/Berlin' "
                        + "(a zone is required: a time without one means different moments on different machines)");
    }

    public static RecoveryTarget lsn(String text) {
        return new RecoveryTarget(Kind.LSN, Lsn.parse(text).toString());
    }

    public static RecoveryTarget xid(String text) {
        try {
            long x = Long.parseLong(text == null ? "" : text.trim());
            if (x < 3) {
                throw new NumberFormatException();
            }
            return new RecoveryTarget(Kind.XID, Long.toString(x));
        } catch (NumberFormatException e) {
            throw new LifeboatException(ErrorKind.USAGE, "'" + text + "' is not a transaction id",
                    "give the xid as a number (txid_current() shows it), 3 or more");
        }
    }

    public static RecoveryTarget name(String text) {
        if (text == null || text.isBlank() || text.length() > 63) {
            throw new LifeboatException(ErrorKind.USAGE, "'" + text + "' is not a restore point name",
                    "give the name passed to pg_create_restore_point() (1 to 63 characters)");
        }
        return new RecoveryTarget(Kind.NAME, text);
    }

    public static RecoveryTarget immediate(String text) {
        if (!"immediate".equals(text)) {
            throw new LifeboatException(ErrorKind.USAGE, "--target takes only 'immediate', not '" + text + "'",
                    "use --target-time, --target-lsn, --target-xid or --target-name for other targets");
        }
        return new RecoveryTarget(Kind.IMMEDIATE, "immediate");
    }

    public Instant instant() {
        return parseTime(value);
    }

    /** The recovery_target* setting (name without the "recovery_target" prefix, as RecoverySettings takes it). */
    public Map<String, String> setting() {
        return switch (kind) {
            case TIME -> Map.of("time", value);
            case LSN -> Map.of("lsn", value);
            case XID -> Map.of("xid", value);
            case NAME -> Map.of("name", value);
            case IMMEDIATE -> Map.of("", "immediate");
        };
    }

    public static String action(String text) {
        if (text == null) {
            return null;
        }
        if (!text.equals("promote") && !text.equals("pause") && !text.equals("shutdown")) {
            throw new LifeboatException(ErrorKind.USAGE, "--target-action must be promote, pause or shutdown, not '" + text + "'",
                    "promote (default) opens the database; pause leaves it read-only at the target for inspection");
        }
        return text;
    }

    public static String timeline(String text) {
        if (text == null) {
            return null;
        }
        if (text.equals("latest") || text.equals("current")) {
            return text;
        }
        return Long.toString(TimelineId.parse(text).value());
    }
}
