package io.lifeboat.agent.http.dashboard;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.SecretMask;
import io.lifeboat.catalog.BackupManifest;
import io.lifeboat.engine.RepositoryAccess;
import io.lifeboat.engine.plan.BackupChoice;
import io.lifeboat.engine.verify.DrillRecord;
import io.lifeboat.engine.verify.RestoreDrill;
import io.lifeboat.postgres.RecoveryTarget;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * Drills started from the dashboard: one at a time per cluster, each a scratch restore to the
 * planner's moment (as `verify --restore-test` does, into a new temporary directory, on a free
 * port, removed afterwards): it never touches a production data directory. Its progress (the
 * restore's own log lines) and result are kept for the page to poll; the result is recorded in the
 * repository like every drill. Only here does the web process read the identity file (the
 * repository's pipeline decrypts the backup).
 */
final class DrillRunner {
    /** @param state running, succeeded, failed (the drill found a problem) or error (it could not run) */
    record Run(String id, String cluster, String backup, String target, Instant started, Instant finished, String state,
               List<String> progress, Double expectedSeconds, DrillRecord result, String error) {
    }

    /** What a drill does: {@link RestoreDrill} for real. */
    @FunctionalInterface
    interface Drill {
        DrillRecord run(BackupManifest m, RecoveryTarget target, Consumer<String> progress);
    }

    private final ClusterBoard board;
    private final Drill drill;
    private final Consumer<String> log;
    private Run current;
    private Thread thread;

    /** @param restoreCommand the restore_command of the drill's recovery (lifeboat wal-fetch ... %f %p) */
    DrillRunner(ClusterBoard board, String restoreCommand, Consumer<String> log) {
        this(board, (m, target, progress) -> {
            RepositoryAccess repo = board.repository();
            return new RestoreDrill(board.config(), repo.catalog(), repo.pipeline(), progress, restoreCommand)
                    .run(m, null, target);
        }, log);
    }

    DrillRunner(ClusterBoard board, Drill drill, Consumer<String> log) {
        this.board = board;
        this.drill = drill;
        this.log = log;
    }

    /** The drill running now or the last one, or null. */
    synchronized Run current() {
        return current;
    }

    /**
     * Starts a drill to {@code target} from the backup `restore` would take. Throws CONFLICT while
     * one runs for this cluster.
     */
    synchronized Run start(RecoveryTarget target, Double expectedSeconds) {
        if (current != null && current.state().equals("running")) {
            throw new LifeboatException(ErrorKind.CONFLICT, "a drill of cluster '" + board.name() + "' is already running "
                    + "(started " + current.started() + ", " + current.target() + ")", "wait for it to finish");
        }
        var snap = board.snapshot();
        if (snap.repo() == null) {
            throw new LifeboatException(ErrorKind.STORAGE, "the repository of cluster '" + board.name() + "' cannot be read: "
                    + snap.error(), "check the repository");
        }
        BackupManifest m = BackupChoice.forTarget(snap.repo().complete(), "the repository of cluster '" + board.name() + "'",
                target).backup();
        String what = RestoreDrill.describe(target);
        Run run = new Run(UUID.randomUUID().toString(), board.name(), m.id().toString(), what, Instant.now(), null, "running",
                List.of("drill of " + m.id() + " to " + what + " started"), expectedSeconds, null, null);
        current = run;
        thread = new Thread(() -> execute(run, m, target), "lifeboat-dashboard-drill-" + board.name());
        thread.setDaemon(true);
        thread.start();
        log.accept("cluster '" + board.name() + "': drill of " + m.id() + " to " + what + " started from the dashboard");
        return run;
    }

    private void execute(Run run, BackupManifest m, RecoveryTarget target) {
        String state;
        DrillRecord result = null;
        String error = null;
        try {
            result = drill.run(m, target, this::progress);
            state = result.ok() ? "succeeded" : "failed";
        } catch (LifeboatException e) {
            state = "error";
            error = SecretMask.uri(e.getMessage() + (e.hint() == null ? "" : " (" + e.hint() + ")"));
        } catch (RuntimeException e) {
            state = "error";
            error = SecretMask.uri(String.valueOf(e));
        }
        synchronized (this) {
            current = new Run(run.id(), run.cluster(), run.backup(), run.target(), run.started(), Instant.now(), state,
                    current.progress(), run.expectedSeconds(), result, error);
        }
        log.accept("cluster '" + board.name() + "': drill from the dashboard " + state + (error == null ? "" : ": " + error));
        board.refresh(); // the page shows the new drill record
    }

    private synchronized void progress(String line) {
        List<String> p = new ArrayList<>(current.progress());
        p.add(Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS) + " " + SecretMask.uri(line));
        if (p.size() > 200) {
            p = p.subList(p.size() - 200, p.size());
        }
        current = new Run(current.id(), current.cluster(), current.backup(), current.target(), current.started(), null,
                current.state(), List.copyOf(p), current.expectedSeconds(), null, null);
    }

    /** On the agent's stop: a running drill is interrupted and given {@code grace} to stop its scratch server. */
    void stop(Duration grace) {
        Thread t;
        synchronized (this) {
            t = thread;
        }
        if (t != null && t.isAlive()) {
            t.interrupt();
            try {
                t.join(grace.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
