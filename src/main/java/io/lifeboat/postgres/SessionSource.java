package io.lifeboat.postgres;

/** Where a command's sessions come from: opened when asked for, or one opened ahead (engine/PreparedSession). */
@FunctionalInterface
public interface SessionSource {
    SessionSource DIRECT = PgSession::open;

    /** A session with exactly these settings, as {@link PgSession#open} gives it (or fails). */
    PgSession open(PgConnectionSettings settings);
}
