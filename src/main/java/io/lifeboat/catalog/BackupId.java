package io.lifeboat.catalog;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.regex.Pattern;

/** A backup's name: its UTC start time and type, e.g. 20261124T220512Z-P. Sorts by time. */
public record BackupId(Instant time, BackupType type) implements Comparable<BackupId> {
    private static final DateTimeFormatter FORMAT = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);
    private static final Pattern SHAPE = Pattern.compile("\\d{8}T\\d{6}Z-[LP]");

    public BackupId {
        time = time.truncatedTo(ChronoUnit.SECONDS);
    }

    public static BackupId of(Instant time, BackupType type) {
        return new BackupId(time, type);
    }

    @JsonCreator
    public static BackupId parse(String s) {
        if (s == null || !SHAPE.matcher(s).matches()) {
            throw new LifeboatException(ErrorKind.USAGE, "'" + s + "' is not a backup id",
                    "backup ids look like 20261124T220512Z-P; `lifeboat list` shows them");
        }
        try {
            Instant t = FORMAT.parse(s.substring(0, 16), Instant::from);
            return new BackupId(t, BackupType.ofLetter(s.charAt(17)));
        } catch (DateTimeParseException e) {
            throw new LifeboatException(ErrorKind.USAGE, "'" + s + "' is not a backup id (bad date)",
                    "backup ids look like 20261124T220512Z-P; `lifeboat list` shows them");
        }
    }

    public static boolean looksLikeId(String s) {
        return s != null && SHAPE.matcher(s).matches();
    }

    @JsonValue
    @Override
    public String toString() {
        return FORMAT.format(time) + "-" + type.letter();
    }

    @Override
    public int compareTo(BackupId o) {
        int c = time.compareTo(o.time);
        return c != 0 ? c : type.compareTo(o.type);
    }
}
