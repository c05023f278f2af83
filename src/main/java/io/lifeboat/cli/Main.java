package io.lifeboat.cli;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;

/** Entry point: runs the command line and maps every failure to a stable exit code and a clear message. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        Interrupts.enable(System.err);
        int code;
        try {
            code = run(args, System.out, System.err);
        } catch (Throwable t) {
            // An Error (out of memory, a missing class) would end the JVM with 1, PostgreSQL's "not in the archive".
            code = WalFetchCommand.invoked(args) ? WalFetchCommand.ABORT_RECOVERY : ErrorKind.GENERAL.exitCode();
            System.err.println("error: " + t);
        }
        System.exit(code);
    }

    public static int run(String[] args, PrintStream out, PrintStream err) {
        io.lifeboat.Trace.mark("main");
        try (AheadOfCommand.Prepared ahead = AheadOfCommand.start(args)) {
            return run(args, out, err, ahead);
        }
    }

    private static int run(String[] args, PrintStream out, PrintStream err, AheadOfCommand.Prepared ahead) {
        LifeboatCommand root = new LifeboatCommand(out, err);
        root.ahead = ahead.repositories();
        root.aheadSession = ahead.session();
        CommandLine cl = LifeboatCommand.commandLine(root, args);
        io.lifeboat.Trace.mark("command line model built");
        cl.setOut(new java.io.PrintWriter(out, true));
        cl.setErr(new java.io.PrintWriter(err, true));
        // A command line that does not parse has not set the option yet: look for it.
        boolean jsonAsked = java.util.Arrays.asList(args).contains("--json");
        cl.setParameterExceptionHandler((ex, a) -> {
            String hint = "run `lifeboat " + commandPath(ex.getCommandLine()) + "--help` for usage";
            err.println("error: " + ex.getMessage());
            CommandLine.UnmatchedArgumentException.printSuggestions(ex, err);
            err.println("hint: " + hint);
            root.document.error(new LifeboatException(ErrorKind.USAGE, ex.getMessage(), hint));
            return ErrorKind.USAGE.exitCode();
        });
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> report(ex, root));
        int code = cl.execute(args);
        // With --json, exactly one document, whatever happened (help asked for is text, and only that).
        if ((root.jsonRequested() || jsonAsked) && !helpShown(cl.getParseResult())) {
            root.document.print(out, code);
        }
        io.lifeboat.Trace.mark("command done");
        // restore_command's contract: a usage or configuration error must stop recovery like any other failure.
        return WalFetchCommand.invoked(args) ? WalFetchCommand.exitCode(code) : code;
    }

    private static boolean helpShown(CommandLine.ParseResult pr) {
        for (CommandLine.ParseResult p = pr; p != null; p = p.subcommand()) {
            if (p.isUsageHelpRequested() || p.isVersionHelpRequested()
                    || p.commandSpec().userObject() instanceof CommandLine.HelpCommand) {
                return true;
            }
        }
        return false;
    }

    private static String commandPath(CommandLine cl) {
        String path = cl.getCommandSpec().qualifiedName(" ");
        path = path.startsWith("lifeboat") ? path.substring("lifeboat".length()).trim() : path;
        return path.isEmpty() ? "" : path + " ";
    }

    /** The message and hint on stderr, the error into the run's JSON document; returns the exit code. */
    static int report(Exception ex, LifeboatCommand root) {
        // a signal's failure path may fail in many ways (pg_dump killed, a read cut): it is still an interruption
        LifeboatException le = Interrupts.received() != null ? Interrupts.error(Interrupts.received()) : asLifeboat(ex);
        root.document.error(le);
        PrintStream err = root.err;
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
