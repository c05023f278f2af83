package io.lifeboat.postgres;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a pg_restore run came to, read from its exit status and its own summary rather than from
 * phrases somewhere in its output: exit 0 is success; a non-zero exit with "errors ignored on
 * restore: N" means it went through the whole archive and N statements failed; a non-zero exit
 * without that line means it stopped, and its last error says why. The first errors are kept (with
 * the TOC entry they belong to) for the message; the complete output is in the log file.
 */
public final class PgRestoreOutcome {
    public static final int FIRST_ERRORS = 5;
    private static final Pattern IGNORED = Pattern.compile("errors ignored on restore: (\\d+)");
    private static final String ERROR = "pg_restore: error: ";
    private static final String ENTRY = "pg_restore: from TOC entry ";

    private final String target;
    private final int exitCode;
    private final long ignored;
    private final List<String> firstErrors;
    private final String lastError;
    private final long otherErrors;
    private final Path log;

    private PgRestoreOutcome(String target, int exitCode, long ignored, List<String> firstErrors, String lastError,
                             long otherErrors, Path log) {
        this.target = target;
        this.exitCode = exitCode;
        this.ignored = ignored;
        this.firstErrors = List.copyOf(firstErrors);
        this.lastError = lastError;
        this.otherErrors = otherErrors;
        this.log = log;
    }

    /**
     * Reads pg_restore's stderr line by line, as it comes, and the failures of statements Lifeboat
     * runs for the same database (its definition), in the order they happen. A restore may be
     * several pg_restore runs over parts of one archive (see {@link #runEnded}): their failed
     * statements add up, and one run that stopped makes the whole a stopped one.
     */
    public static final class Reader implements Consumer<String> {
        private final List<String> first = new ArrayList<>();
        private String entry;
        private String lastError;
        private long ignored = -1;
        private long otherErrors;
        private boolean summarised;
        private boolean stopped;
        private int exitCode;

        /** A statement of the database's definition failed (counted with pg_restore's own). */
        public synchronized void statementFailed(String error) {
            otherErrors++;
            if (first.size() < FIRST_ERRORS) {
                first.add(error);
            }
        }

        @Override
        public synchronized void accept(String line) {
            if (line.startsWith(ENTRY)) {
                entry = line.substring(ENTRY.length()).strip();
                return;
            }
            if (line.startsWith(ERROR)) {
                lastError = line.substring(ERROR.length()).strip();
                if (first.size() < FIRST_ERRORS) {
                    first.add(entry != null ? "TOC entry " + entry + ": " + lastError : lastError);
                }
                entry = null;
                return;
            }
            Matcher m = IGNORED.matcher(line);
            if (line.startsWith("pg_restore: warning: ") && m.find()) {
                ignored = Math.max(ignored, 0) + Long.parseLong(m.group(1));
                summarised = true;
            }
        }

        /** A pg_restore run ended with this status; lines after it belong to the next run. */
        public synchronized void runEnded(int exit) {
            if (exit != 0 && exitCode == 0) {
                exitCode = exit;
            }
            // a failure without pg_restore's summary: it stopped before the end of its part
            stopped |= exit != 0 && !summarised;
            summarised = false;
        }

        /** Some run stopped before the end of its part of the archive. */
        public synchronized boolean stopped() {
            return stopped;
        }

        /** The outcome of the runs that ended (the first failed run's status is the exit code). */
        public synchronized PgRestoreOutcome finish(String target, Path log) {
            return new PgRestoreOutcome(target, exitCode, stopped ? -1 : ignored, first, lastError, otherErrors, log);
        }

        /** The outcome of one run, which ended with {@code exitCode}. */
        public synchronized PgRestoreOutcome finish(String target, int exitCode, Path log) {
            runEnded(exitCode);
            return finish(target, log);
        }
    }

    public boolean ok() {
        return exitCode == 0 && otherErrors == 0;
    }

    /** pg_restore went through the whole archive (possibly with errors). */
    public boolean completed() {
        return exitCode == 0 || ignored >= 0;
    }

    /** Statements that failed: pg_restore's own count plus those Lifeboat ran for the database's definition. */
    public long errors() {
        return Math.max(ignored, 0) + otherErrors;
    }

    public List<String> firstErrors() {
        return firstErrors;
    }

    public Path log() {
        return log;
    }

    public String target() {
        return target;
    }

    /** One line for a summary: "ok" or "N errors". */
    public String summary() {
        return ok() ? "ok" : completed() ? errors() + " errors" : "stopped: " + lastError;
    }

    /** The error a failed run means; {@code conn} names the server for connection failures. */
    public LifeboatException failure(PgConnectionSettings conn) {
        String where = log == null ? "" : "; complete output in " + log;
        if (!completed()) {
            // Stopped early: its last error is the reason (a lost connection, a full disk, an unreadable archive).
            LifeboatException e = PgToolFailure.of("pg_restore", target,
                    new ExternalProcess.Result(exitCode, "", "pg_restore: error: " + lastError), conn);
            return new LifeboatException(e.kind(), e.getMessage() + where, e.hint());
        }
        List<String> numbered = new ArrayList<>();
        for (int i = 0; i < firstErrors.size(); i++) {
            numbered.add("(" + (i + 1) + ") " + firstErrors.get(i));
        }
        String list = String.join("; ", numbered);
        String hint = firstErrors.stream().anyMatch(s -> s.contains("role \"") && s.contains("does not exist"))
                ? "the target server lacks roles the dump refers to: restore with --globals, or with --no-owner"
                : "the rest of the archive is restored; see the log for every error";
        return new LifeboatException(ErrorKind.TOOL, "restore into " + target + " finished with " + errors()
                + " failed statement" + (errors() == 1 ? "" : "s") + " (pg_restore exit " + exitCode
                + (ignored >= 0 ? ", errors ignored on restore: " + ignored : "") + "); first: " + list + where, hint);
    }
}
