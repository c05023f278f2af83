package io.lifeboat.postgres;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoField;
import java.util.Locale;
import java.util.Map;

/**
 * Where point-in-time recovery stops: a time, an LSN, a transaction id, a named restore point, or
 * "immediate" (as soon as the backup is consistent). Parsers refuse anything ambiguous, such as a
 * time without a time zone.
 */
public record RecoveryTarget(Kind kind, String value) {
    public enum Kind { TIME, LSN, XID, NAME, IMMEDIATE }

    private static final DateTimeFormatter PG_STYLE = new DateTimeFormatterBuilder()
            .appendPattern("yyyy-MM-dd[ ]['T']HH:mm:ss")
            .optionalStart().appendFraction(ChronoField.NANO_OF_SECOND, 0, 9, true).optionalEnd()
            .optionalStart().appendLiteral(' ').optionalEnd()
            .appendOffset("+HH:mm", "Z")
            .toFormatter(Locale.ROOT);
    private static final DateTimeFormatter PG_OUT = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSSSSxxx")
            .withZone(ZoneOffset.UTC);

    public static RecoveryTarget time(String text) {
        String t = text == null ? "" : text.trim();
        try {
            return new RecoveryTarget(Kind.TIME, PG_OUT.format(OffsetDateTime.parse(t.replace("+00", "+00:00")
                    .replaceAll("([+-]\\d\\d)$", "$1:00"), PG_STYLE).toInstant()));
        } catch (DateTimeParseException e) {
            throw new LifeboatException(ErrorKind.USAGE, "'" + text + "' is not a time with a time zone",
                    "write it like 2026-11-24T22:05:12Z or '2026-11-24 23:05:12.5+01:00' (a zone is required: "
                            + "a time without one means different moments on different machines)");
        }
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
        return OffsetDateTime.parse(value, PG_STYLE).toInstant();
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
