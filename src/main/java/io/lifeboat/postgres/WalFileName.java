package io.lifeboat.postgres;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A file PostgreSQL archives from pg_wal: a WAL segment, a partial segment (at promotion), a
 * backup history file or a timeline history file. Anything else is refused, so a mistyped
 * archive_command cannot upload arbitrary files.
 */
public record WalFileName(String name, Kind kind, TimelineId timeline) {
    public enum Kind { SEGMENT, PARTIAL, BACKUP_HISTORY, TIMELINE_HISTORY }

    private static final Pattern SEGMENT = Pattern.compile("([0-9A-F]{8})[0-9A-F]{16}");
    private static final Pattern PARTIAL = Pattern.compile("([0-9A-F]{8})[0-9A-F]{16}\\.partial");
    private static final Pattern BACKUP = Pattern.compile("([0-9A-F]{8})[0-9A-F]{16}\\.[0-9A-F]{8}\\.backup");
    private static final Pattern HISTORY = Pattern.compile("([0-9A-F]{8})\\.history");

    public static WalFileName parse(String name) {
        for (var e : java.util.Map.of(Kind.SEGMENT, SEGMENT, Kind.PARTIAL, PARTIAL, Kind.BACKUP_HISTORY, BACKUP,
                Kind.TIMELINE_HISTORY, HISTORY).entrySet()) {
            Matcher m = e.getValue().matcher(name == null ? "" : name);
            if (m.matches()) {
                return new WalFileName(name, e.getKey(), TimelineId.parse(m.group(1)));
            }
        }
        throw new LifeboatException(ErrorKind.USAGE, "'" + name + "' is not a WAL file name",
                "archive_command must pass %p (a file in pg_wal); restore_command must pass %f and %p");
    }

    /** The segment this file belongs to, for segments, partial segments and backup history files. */
    public WalSegmentName segment() {
        if (kind == Kind.TIMELINE_HISTORY) {
            throw new IllegalStateException(name + " belongs to no segment");
        }
        return WalSegmentName.parse(name.substring(0, 24));
    }

    /** The repository directory below wal/: the 16-hex timeline+log of a segment, none for history files. */
    public String directory() {
        return kind == Kind.TIMELINE_HISTORY ? "" : name.substring(0, 16);
    }

    @Override
    public String toString() {
        return name;
    }
}
