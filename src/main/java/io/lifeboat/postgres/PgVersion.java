package io.lifeboat.postgres;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A PostgreSQL version as server_version_num (e.g. 150018) with its major number. */
public record PgVersion(int number) implements Comparable<PgVersion> {
    private static final Pattern TOOL_OUTPUT = Pattern.compile("\\(PostgreSQL\\)\\s+(\\d+)(?:\\.(\\d+))?");

    public PgVersion {
        if (number < 90000) {
            throw new LifeboatException(ErrorKind.GENERAL, "unsupported PostgreSQL version number " + number,
                    "Lifeboat supports PostgreSQL 10 and later");
        }
    }

    public int major() {
        return number / 10000;
    }

    /** Parses the first line of `pg_dump --version` and friends: "pg_dump (PostgreSQL) 15.18 (Debian ...)". */
    public static PgVersion parseToolOutput(String line) {
        Matcher m = TOOL_OUTPUT.matcher(line == null ? "" : line);
        if (!m.find()) {
            throw new LifeboatException(ErrorKind.TOOL, "cannot read a PostgreSQL version from '" + line + "'",
                    "check that the binary is a PostgreSQL client tool");
        }
        int major = Integer.parseInt(m.group(1));
        int minor = m.group(2) == null ? 0 : Integer.parseInt(m.group(2));
        return new PgVersion(major * 10000 + minor);
    }

    @Override
    public int compareTo(PgVersion o) {
        return Integer.compare(number, o.number);
    }

    @Override
    public String toString() {
        return major() + "." + (number % 10000);
    }
}
