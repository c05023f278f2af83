package io.lifeboat;

/**
 * What kind of failure happened. Each kind has a stable process exit code, documented in
 * docs/exit-codes.md; scripts and monitoring depend on these numbers, so never renumber one.
 */
public enum ErrorKind {
    GENERAL(1, "unexpected error"),
    USAGE(2, "bad command line"),
    CONFIG(3, "bad configuration"),
    SAME_SERVER(4, "repository on the database server"),
    DATABASE(5, "PostgreSQL unreachable or refused"),
    STORAGE(6, "repository storage unreachable or refused"),
    NOT_FOUND(7, "object not found"),
    CORRUPT(8, "stored data failed verification"),
    CONFLICT(9, "conflicting state"),
    RESOURCE(10, "not enough local resources"),
    TOOL(11, "external tool missing or failed"),
    INTERRUPTED(12, "interrupted"),
    KEY(13, "encryption key missing, unreadable or wrong");

    private final int exitCode;
    private final String title;

    ErrorKind(int exitCode, String title) {
        this.exitCode = exitCode;
        this.title = title;
    }

    public int exitCode() {
        return exitCode;
    }

    public String title() {
        return title;
    }
}
