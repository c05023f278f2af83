package io.lifeboat.cli;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.postgres.ExternalProcess;
import sun.misc.Signal;

import java.io.PrintStream;

/**
 * SIGINT and SIGTERM during a long command (backup, restore, verify): instead of the JVM's silent
 * exit 130/143, which runs no failure path, the child processes are stopped and the command's
 * thread is interrupted, so that it fails the way any failure does (the unfinished backup's objects
 * are removed, a half-restored data directory is emptied, the spool is deleted), and Main reports
 * it as "interrupted" (exit 12). If the clean-up has not finished after a grace period, or a second
 * signal comes, the process exits 12 at once (the shutdown hooks still remove spools and stop
 * children); anything left behind is then an unfinished backup, listed as such.
 *
 * <p>Only for commands run by {@link Main#main}: never wal-push or wal-fetch, whose exit codes
 * PostgreSQL reads (it sends SIGTERM at shutdown and must see the signal, not a "not found").
 */
final class Interrupts {
    private static final long GRACE_MILLIS = Long.getLong("lifeboat.interrupt-grace-millis", 30_000);
    private static final long HOOKS_MILLIS = 10_000;
    private static volatile boolean enabled;
    private static volatile PrintStream err = System.err;
    private static volatile String received;

    private Interrupts() {
    }

    /** Called by Main.main: this process is a command line, not a test or an embedding. */
    static void enable(PrintStream stderr) {
        err = stderr;
        enabled = true;
    }

    /** The calling thread runs a long command: a signal interrupts it (once enabled). */
    static void handleInThisThread() {
        if (!enabled) {
            return;
        }
        Thread command = Thread.currentThread();
        for (String name : new String[] {"INT", "TERM"}) {
            try {
                Signal.handle(new Signal(name), s -> onSignal("SIG" + s.getName(), command));
            } catch (IllegalArgumentException e) {
                // the signal is reserved here (e.g. -Xrs): the JVM's own handling stays
            }
        }
    }

    /** The signal that stopped this run, or null. */
    static String received() {
        return received;
    }

    /** The error Main reports for an interrupted run, whatever the failure it caused on the way. */
    static LifeboatException error(String signal) {
        return new LifeboatException(ErrorKind.INTERRUPTED, "interrupted by " + signal + "; stopped what this run "
                + "started (child processes, spool, the objects of an unfinished backup)",
                "run the command again; an unfinished backup that could not be removed is listed as such by "
                        + "`lifeboat list` and removed by `lifeboat delete ID` or retention");
    }

    private static synchronized void onSignal(String signal, Thread command) {
        if (received != null) {
            err.println("lifeboat: " + signal + " again: exiting without waiting for the clean-up");
            exit();
            return;
        }
        received = signal;
        err.println("lifeboat: " + signal + " received: stopping and cleaning up (send it again to exit at once)");
        ExternalProcess.stopAll();
        command.interrupt();
        Thread watchdog = new Thread(() -> {
            try {
                command.join(GRACE_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
            if (command.isAlive()) {
                err.println("lifeboat: the clean-up did not finish within " + GRACE_MILLIS / 1000 + " s; exiting 12 "
                        + "(what was stored stays as an unfinished backup: `lifeboat list` shows it, `lifeboat delete "
                        + "ID` removes it)");
                exit();
            }
        }, "lifeboat-interrupt-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
    }

    /** Exit 12 now: shutdown hooks run (spools, children), bounded so that a stuck hook cannot keep us alive. */
    private static void exit() {
        Thread halt = new Thread(() -> {
            try {
                Thread.sleep(HOOKS_MILLIS);
            } catch (InterruptedException ignored) {
                // halt anyway
            }
            Runtime.getRuntime().halt(ErrorKind.INTERRUPTED.exitCode());
        }, "lifeboat-halt");
        halt.setDaemon(true);
        halt.start();
        Thread exit = new Thread(() -> System.exit(ErrorKind.INTERRUPTED.exitCode()), "lifeboat-exit");
        exit.setDaemon(true);
        exit.start();
    }
}
