package io.lifeboat.postgres;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;

/**
 * Runs an external program (pg_dump, psql, initdb, ...) with secrets passed only through the
 * environment. Captures stdout and the tail of stderr for error messages.
 *
 * <p>A child must not outlive us, not even a kill -9 that runs no shutdown hook: where util-linux's
 * setpriv is installed, every program starts under {@code setpriv --pdeathsig TERM}, so the kernel
 * sends it SIGTERM when we die (pg_dump and pg_restore then stop their parallel workers and cancel
 * their queries). The kernel ties that signal to the thread that forked the child, not to the
 * process: children are therefore all started by one thread that lives as long as the JVM.
 */
public final class ExternalProcess {
    private static final int STDERR_KEEP = 16 * 1024;
    private static final Path SETPRIV = Path.of("/usr/bin/setpriv");
    private static final boolean PDEATHSIG = Files.isExecutable(SETPRIV);
    /** Never shut down: when this thread ends, the children it started get their parent-death signal. */
    private static final ExecutorService LAUNCHER = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "lifeboat-process-launcher");
        t.setDaemon(true);
        return t;
    });
    private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();

    private final List<String> command;
    private final Map<String, String> environment;
    private Path directory;
    private Consumer<String> stderrLines;

    public ExternalProcess(List<String> command, Map<String, String> environment) {
        this.command = List.copyOf(command);
        this.environment = environment == null ? Map.of() : Map.copyOf(environment);
    }

    public ExternalProcess directory(Path dir) {
        this.directory = dir;
        return this;
    }

    /** Receives each stderr line as it arrives (e.g. for progress or logging). */
    public ExternalProcess onStderrLine(Consumer<String> c) {
        this.stderrLines = c;
        return this;
    }

    public record Result(int exitCode, String stdout, String stderr) {
        public boolean ok() {
            return exitCode == 0;
        }
    }

    public static boolean runningAsRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    /** Prefixes the command so that it runs as the given OS user when we are root; unchanged otherwise. */
    public static List<String> asUser(String osUser, List<String> command) {
        if (!runningAsRoot() || osUser == null || osUser.equals("root")) {
            return command;
        }
        List<String> c = new ArrayList<>(List.of("runuser", "-u", osUser, "--"));
        c.addAll(command);
        return c;
    }

    /** Whether {@code osUser} can read {@code file} (asked as that user: modes, groups and ACLs all count). */
    public static boolean readableBy(String osUser, Path file) {
        if (!runningAsRoot() || osUser == null || osUser.equals("root")) {
            return Files.isReadable(file);
        }
        return new ExternalProcess(asUser(osUser, List.of("test", "-r", file.toString())), Map.of()).run().ok();
    }

    /** The command as started: under setpriv, so that it dies with us, where setpriv exists. */
    List<String> launchCommand() {
        if (!PDEATHSIG || !runnable(command.get(0))) {
            return command; // a program that is not there fails to start, as without setpriv
        }
        List<String> c = new ArrayList<>(List.of(SETPRIV.toString(), "--pdeathsig", "TERM", "--"));
        c.addAll(command);
        return c;
    }

    private static boolean runnable(String program) {
        if (program.contains("/")) {
            return Files.isExecutable(Path.of(program));
        }
        for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, program))) {
                return true;
            }
        }
        return false;
    }

    /**
     * Stops (SIGTERM) every child still running that this process started: what an interrupted
     * command does first, so pg_dump stops writing and the failure path can clean up after it.
     */
    public static void stopAll() {
        for (Process p : List.copyOf(LIVE)) {
            p.destroy();
        }
    }

    public Process start() {
        ProcessBuilder pb = new ProcessBuilder(launchCommand());
        // pg_dump, pg_restore, pg_ctl and the servers they start have no use for the backup passphrase
        pb.environment().remove(io.lifeboat.codec.Passphrase.ENV);
        pb.environment().putAll(environment);
        if (directory != null) {
            pb.directory(directory.toFile());
        }
        Process p = launch(pb);
        LIVE.add(p);
        // If we are stopped (Ctrl-C, SIGTERM), our children must not live on writing half a dump.
        Thread killer = new Thread(p::destroy, "stop-" + command.get(0));
        try {
            Runtime.getRuntime().addShutdownHook(killer);
        } catch (IllegalStateException shuttingDown) {
            return p; // started by a shutdown hook (a restore stopping its server), which waits for it
        }
        p.onExit().thenRun(() -> {
            LIVE.remove(p);
            try {
                Runtime.getRuntime().removeShutdownHook(killer);
            } catch (IllegalStateException ignored) {
                // shutting down already
            }
        });
        return p;
    }

    private Process launch(ProcessBuilder pb) {
        Future<Process> f = LAUNCHER.submit(pb::start);
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return f.get();
                } catch (InterruptedException e) {
                    // the child may be starting right now: wait for it, so that it is tracked and stopped
                    interrupted = true;
                }
            }
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            throw new LifeboatException(ErrorKind.TOOL, "cannot start " + command.get(0) + ": " + c.getMessage(),
                    "check that the program is installed and executable", c);
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Runs to completion; never throws on a non-zero exit (callers decide what it means). */
    public Result run() {
        return run(true);
    }

    /**
     * As {@link #run()}, but an interrupt of the calling thread does not stop the child: for what
     * must finish even when a signal stopped the command (pg_ctl stop of a scratch server). The
     * interrupt status is kept for the caller.
     */
    public Result runToEnd() {
        return run(false);
    }

    private Result run(boolean interruptible) {
        boolean interrupted = !interruptible && Thread.interrupted();
        try {
            return runOnce();
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private Result runOnce() {
        Process p = start();
        try {
            p.getOutputStream().close();
        } catch (IOException ignored) {
            // the child does not read stdin
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        StringBuilder err = new StringBuilder();
        Thread errReader = new Thread(() -> readLines(p.getErrorStream(), err), "stderr-" + command.get(0));
        errReader.setDaemon(true);
        errReader.start();
        try {
            p.getInputStream().transferTo(out);
            int code = p.waitFor();
            errReader.join();
            return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            p.destroy();
            Thread.currentThread().interrupt();
            throw new LifeboatException(ErrorKind.INTERRUPTED, command.get(0) + " was interrupted");
        }
    }

    private void readLines(InputStream in, StringBuilder keep) {
        try (var reader = new java.io.BufferedReader(new java.io.InputStreamReader(in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                if (stderrLines != null) {
                    stderrLines.accept(line);
                }
                synchronized (keep) {
                    keep.append(line).append('\n');
                    if (keep.length() > STDERR_KEEP) {
                        keep.delete(0, keep.length() - STDERR_KEEP);
                    }
                }
            }
        } catch (IOException ignored) {
            // the process went away; what we have is what we report
        }
    }

    /** Runs and throws a TOOL error (with stderr's last lines) unless the exit code is 0. */
    public Result runChecked(String what) {
        Result r = run();
        if (!r.ok()) {
            throw new LifeboatException(ErrorKind.TOOL, what + " failed (exit " + r.exitCode() + "): "
                    + lastLines(r.stderr(), 5), null);
        }
        return r;
    }

    public static String lastLines(String text, int n) {
        String[] lines = text.strip().split("\n");
        int from = Math.max(0, lines.length - n);
        return String.join(" | ", java.util.Arrays.copyOfRange(lines, from, lines.length)).strip();
    }
}
