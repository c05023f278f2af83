package io.lifeboat.postgres;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;

import java.util.Locale;

/** Turns the stderr of a failed pg_dump / pg_restore / psql run into an error a person can act on. */
public final class PgToolFailure {
    private PgToolFailure() {
    }

    public static LifeboatException of(String tool, String target, ExternalProcess.Result r, PgConnectionSettings conn) {
        String err = r.stderr();
        String lower = err.toLowerCase(Locale.ROOT);
        String tail = ExternalProcess.lastLines(err, 4);
        if (lower.contains("no space left on device")) {
            return new LifeboatException(ErrorKind.RESOURCE, tool + " ran out of disk space while working on " + target
                    + ": " + tail, "free space in the spool directory or point spool-directory at a larger filesystem");
        }
        if (lower.contains("password authentication failed") || lower.contains("no password supplied")
                || lower.contains("authentication failed")) {
            return new LifeboatException(ErrorKind.DATABASE, tool + " could not log in as '" + conn.user() + "' at "
                    + conn.host() + ":" + conn.port() + ": " + tail,
                    "check the password (PGPASSWORD, LIFEBOAT_PGPASSWORD, postgres.password-file) and pg_hba.conf");
        }
        if (lower.contains("server version mismatch") || lower.contains("aborting because of server version mismatch")
                || lower.contains("unsupported version")) {
            return new LifeboatException(ErrorKind.TOOL, tool + " is too old for " + target + ": " + tail,
                    "install a newer PostgreSQL client or set postgres.bin-dir");
        }
        if (lower.contains("database \"") && lower.contains("does not exist")) {
            return new LifeboatException(ErrorKind.NOT_FOUND, tool + ": " + target + " does not exist: " + tail,
                    "check the database name");
        }
        if (lower.contains("could not connect") || lower.contains("connection refused") || lower.contains("connection to server")) {
            return new LifeboatException(ErrorKind.DATABASE, tool + " cannot connect to " + conn.host() + ":" + conn.port()
                    + ": " + tail, "check that the server runs and accepts connections");
        }
        if (lower.contains("permission denied")) {
            return new LifeboatException(ErrorKind.DATABASE, tool + " lacks privileges on " + target + ": " + tail,
                    "grant the backup role read access (e.g. the pg_read_all_data role) or use a superuser");
        }
        return new LifeboatException(ErrorKind.TOOL, tool + " failed on " + target + " (exit " + r.exitCode() + "): " + tail,
                "see the message above; run the same " + tool + " by hand to investigate");
    }
}
