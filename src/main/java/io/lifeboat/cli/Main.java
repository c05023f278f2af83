package io.lifeboat.cli;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;

/** Entry point: runs the command line and maps every failure to a stable exit code and a clear message. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        Interrupts.enable(System.err);
        int code = run(args, System.out, System.err);
        System.exit(code);
    }

    public static int run(String[] args, PrintStream out, PrintStream err) {
        io.lifeboat.Trace.mark("main");
        LifeboatCommand root = new LifeboatCommand(out, err);
        CommandLine cl = new CommandLine(root);
        cl.setOut(new java.io.PrintWriter(out, true));
        cl.setErr(new java.io.PrintWriter(err, true));
        cl.setParameterExceptionHandler((ex, a) -> {
            err.println("error: " + ex.getMessage());
            CommandLine.UnmatchedArgumentException.printSuggestions(ex, err);
            err.println("hint: run `lifeboat " + commandPath(ex.getCommandLine()) + "--help` for usage");
            return ErrorKind.USAGE.exitCode();
        });
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> report(ex, root.jsonRequested(), out, err));
        int code = cl.execute(args);
        io.lifeboat.Trace.mark("command done");
        return code;
    }

    private static String commandPath(CommandLine cl) {
        String path = cl.getCommandSpec().qualifiedName(" ");
        path = path.startsWith("lifeboat") ? path.substring("lifeboat".length()).trim() : path;
        return path.isEmpty() ? "" : path + " ";
    }

    static int report(Exception ex, boolean json, PrintStream out, PrintStream err) {
        // a signal's failure path may fail in many ways (pg_dump killed, a read cut): it is still an interruption
        LifeboatException le = Interrupts.received() != null ? Interrupts.error(Interrupts.received()) : asLifeboat(ex);
        if (json) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("kind", le.kind().name().toLowerCase(java.util.Locale.ROOT));
            e.put("exitCode", le.exitCode());
            e.put("message", le.getMessage());
            if (le.hint() != null) {
                e.put("hint", le.hint());
            }
            new Output(true, out, err).result(Map.of("error", e));
        }
        err.println("error: " + le.getMessage());
        if (le.hint() != null) {
            err.println("hint: " + le.hint());
        }
        if (le.kind() == ErrorKind.GENERAL && System.getenv("LIFEBOAT_DEBUG") != null) {
            ex.printStackTrace(err);
        }
        return le.exitCode();
    }

    static LifeboatException asLifeboat(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof LifeboatException le) {
                return le;
            }
        }
        if (t instanceof UncheckedIOException || t instanceof IOException) {
            Throwable io = t instanceof UncheckedIOException u ? u.getCause() : t;
            return new LifeboatException(ErrorKind.STORAGE, "I/O error: " + io, "check the repository and local disks", t);
        }
        return new LifeboatException(ErrorKind.GENERAL, "unexpected error: " + t,
                "set LIFEBOAT_DEBUG=1 for a stack trace and report it", t);
    }
}
