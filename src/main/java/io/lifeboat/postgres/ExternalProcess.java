package io.lifeboat.postgres;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Runs an external program (pg_dump, psql, initdb, ...) with secrets passed only through the
 * environment. Captures stdout and the tail of stderr for error messages.
 */
public final class ExternalProcess {
    private static final int STDERR_KEEP = 16 * 1024;

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
            return java.nio.file.Files.isReadable(file);
        }
        return new ExternalProcess(asUser(osUser, List.of("test", "-r", file.toString())), Map.of()).run().ok();
    }

    public Process start() {
        ProcessBuilder pb = new ProcessBuilder(command);
        // pg_dump, pg_restore, pg_ctl and the servers they start have no use for the backup passphrase
        pb.environment().remove(io.lifeboat.codec.Passphrase.ENV);
        pb.environment().putAll(environment);
        if (directory != null) {
            pb.directory(directory.toFile());
        }
        try {
            Process p = pb.start();
            // If we are stopped (Ctrl-C, SIGTERM), our children must not live on writing half a dump.
            Thread killer = new Thread(p::destroy, "stop-" + command.get(0));
            try {
                Runtime.getRuntime().addShutdownHook(killer);
            } catch (IllegalStateException shuttingDown) {
                return p; // started by a shutdown hook (a restore stopping its server), which waits for it
            }
            p.onExit().thenRun(() -> {
                try {
                    Runtime.getRuntime().removeShutdownHook(killer);
                } catch (IllegalStateException ignored) {
                    // shutting down already
                }
            });
            return p;
        } catch (IOException e) {
            throw new LifeboatException(ErrorKind.TOOL, "cannot start " + command.get(0) + ": " + e.getMessage(),
                    "check that the program is installed and executable", e);
        }
    }

    /** Runs to completion; never throws on a non-zero exit (callers decide what it means). */
    public Result run() {
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
