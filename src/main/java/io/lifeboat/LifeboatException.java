package io.lifeboat;

/**
 * The one exception type Lifeboat raises on purpose. The message says what failed and on which
 * object; the hint says what the user can do about it. Never put a secret in either.
 */
public class LifeboatException extends RuntimeException {
    private final ErrorKind kind;
    private final String hint;

    public LifeboatException(ErrorKind kind, String message, String hint, Throwable cause) {
        super(message, cause);
        this.kind = kind;
        this.hint = hint;
    }

    public LifeboatException(ErrorKind kind, String message, String hint) {
        this(kind, message, hint, null);
    }

    public LifeboatException(ErrorKind kind, String message) {
        this(kind, message, null, null);
    }

    public ErrorKind kind() {
        return kind;
    }

    /** What the user can do about it, or null. */
    public String hint() {
        return hint;
    }

    public int exitCode() {
        return kind.exitCode();
    }
}
