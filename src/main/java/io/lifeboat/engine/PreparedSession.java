package io.lifeboat.engine;

import io.lifeboat.config.ClusterConfig;
import io.lifeboat.postgres.PgBinaries;
import io.lifeboat.postgres.PgConnectionSettings;
import io.lifeboat.postgres.PgSession;
import io.lifeboat.postgres.SessionSource;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * A PostgreSQL session opened ahead of the command that will use it, and the PostgreSQL programs
 * it will run asked for their versions: the first connection of a JVM loads and runs the driver's
 * code for the first time (some 0.2 s of CPU here, more than the connection itself), and each
 * version probe is a fork. A logical backup or restore does both while the command line's model is
 * built (see {@link PreparedRepositories}, whose configuration guess this shares). The session is
 * handed over only to a command that asks for exactly the settings it was opened with, once; any
 * other request, or a guess that failed to open, gets a session of its own ({@link PgSession#open},
 * which reports the failure as it would have). What is not claimed is closed by {@link #close}.
 */
public final class PreparedSession implements SessionSource, AutoCloseable {
    private static final PreparedSession NONE = new PreparedSession(CompletableFuture.completedFuture(null),
            CompletableFuture.completedFuture(null));
    /** The settings the session is opened with, once the configuration is loaded; null if it failed. */
    private final CompletableFuture<PgConnectionSettings> guess;
    /** The session, once open; null if it failed. */
    private final CompletableFuture<PgSession> opened;
    private boolean claimed;

    private PreparedSession(CompletableFuture<PgConnectionSettings> guess, CompletableFuture<PgSession> opened) {
        this.guess = guess;
        this.opened = opened;
    }

    /** Nothing prepared: every session is opened when asked for. */
    public static PreparedSession none() {
        return NONE;
    }

    /**
     * On background threads: loads the guessed configuration ({@code config}), asks each of
     * {@code tools} in its bin directory for its version (cached for the process by {@link
     * PgBinaries}) and opens a session with the settings {@code which} chooses. Failures are left
     * for the command to meet and report.
     */
    public static PreparedSession start(Supplier<ClusterConfig> config, Function<ClusterConfig, PgConnectionSettings> which,
                                        List<String> tools) {
        CompletableFuture<ClusterConfig> loaded = new CompletableFuture<>();
        CompletableFuture<PgConnectionSettings> guess = new CompletableFuture<>();
        CompletableFuture<PgSession> session = new CompletableFuture<>();
        daemon("session-ahead", () -> {
            try {
                ClusterConfig c = config.get();
                loaded.complete(c);
                PgConnectionSettings s = which.apply(c);
                guess.complete(s);
                PgSession opened = PgSession.open(s);
                try {
                    opened.serverVersion(); // a first query, so that its code is loaded too
                } catch (RuntimeException e) {
                    opened.close();
                    throw e;
                }
                io.lifeboat.Trace.mark("session opened ahead of the command");
                session.complete(opened);
            } catch (RuntimeException | LinkageError e) {
                // the command opens its own session and reports what is wrong
                loaded.complete(null);
                guess.complete(null);
                session.complete(null);
            }
        });
        daemon("tools-ahead", () -> {
            ClusterConfig c = loaded.join();
            if (c == null) {
                return;
            }
            PgBinaries b = new PgBinaries(c.binDir());
            for (String t : tools) {
                try {
                    b.all(t);
                } catch (RuntimeException e) {
                    // the command asks again, and reports what it finds
                }
            }
            io.lifeboat.Trace.mark("tool versions probed ahead of the command");
        });
        return new PreparedSession(guess, session);
    }

    private static void daemon(String name, Runnable r) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        t.start();
    }

    /** The session opened ahead when it has exactly these settings and was not handed over yet, else a new one. */
    @Override
    public PgSession open(PgConnectionSettings wanted) {
        PgSession ahead = claim(wanted);
        return ahead != null ? ahead : PgSession.open(wanted);
    }

    /** The session opened ahead for exactly these settings (waiting for it to open), or null. */
    synchronized PgSession claim(PgConnectionSettings wanted) {
        if (claimed || !wanted.equals(guess.join())) {
            return null;
        }
        PgSession s = opened.join();
        claimed = s != null;
        return s;
    }

    /** Closes the session nobody claimed, once it is open; does not wait for it. */
    @Override
    public synchronized void close() {
        if (!claimed) {
            claimed = true;
            opened.thenAccept(s -> {
                if (s != null) {
                    s.close();
                }
            });
        }
    }
}
