package io.lifeboat.cli;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

@Command(name = "lifeboat", mixinStandardHelpOptions = true, versionProvider = LifeboatCommand.Version.class,
        description = "PostgreSQL backup and recovery: logical, physical and continuous WAL archiving, "
                + "stored off the database server.",
        footer = {"", "Exit codes: 0 ok, 1 unexpected, 2 usage, 3 config, 4 same server, 5 database, 6 storage, "
                + "7 not found, 8 corrupt, 9 conflict, 10 resources, 11 tool, 12 interrupted, 13 encryption key (docs/exit-codes.md)."})
public final class LifeboatCommand implements Runnable {
    /**
     * The subcommands by name, in the order help lists them. They are added to the model by {@link
     * #commandLine}, not by the annotation: picocli reflects over every option of every command it is
     * given, which cost about 60 ms of CPU at every start (its own classes, compiled for Java 5, never
     * enter the class-data archive, so all of it runs on freshly loaded classes).
     */
    static final Map<String, Class<?>> COMMANDS = commands(BackupCommand.class, RestoreCommand.class, ListCommand.class,
            ShowCommand.class, DeleteCommand.class, ExpireCommand.class, VerifyCommand.class, WalPushCommand.class,
            WalFetchCommand.class, WalPrefetchCommand.class, CheckCommand.class, AgentCommand.class, StatusCommand.class,
            KeygenCommand.class, DemoCommand.class, S3ServerCommand.class, WarmupCommand.class, CommandLine.HelpCommand.class);

    final PrintStream out;
    final PrintStream err;
    /** With --json, the one document this run prints (see {@link Main#run}). */
    final JsonDocument document = new JsonDocument();
    /** The repositories opened while the command line was parsed (see {@link AheadOfCommand}). */
    io.lifeboat.engine.PreparedRepositories ahead = io.lifeboat.engine.PreparedRepositories.none();
    /** The PostgreSQL session opened meanwhile (see {@link AheadOfCommand}). */
    io.lifeboat.engine.PreparedSession aheadSession = io.lifeboat.engine.PreparedSession.none();

    @Option(names = "--json", scope = CommandLine.ScopeType.INHERIT, description = "Print results as JSON.")
    boolean json;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    LifeboatCommand(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    /**
     * The command line for {@code root}: when the first argument names a subcommand, only that one
     * is in the model (it parses, runs and prints its help alone); otherwise (no command, an option
     * of the root, help, a misspelt name that wants suggestions) all of them are.
     */
    static CommandLine commandLine(LifeboatCommand root, String[] args) {
        // picocli's default factory looks for Groovy's Closure class when it is first used: a class on
        // no jar of the class path, so the lookup opened every one of them (some 180 central
        // directories: about 0.1 s of CPU at every start, on the command's critical path). Lifeboat
        // has no Groovy closures in its annotations.
        if (System.getProperty("picocli.disable.closures") == null) {
            System.setProperty("picocli.disable.closures", "true");
        }
        CommandLine cl = new CommandLine(root);
        Class<?> only = args.length > 0 && !args[0].equals("help") ? COMMANDS.get(args[0]) : null;
        for (Class<?> c : only != null ? List.<Class<?>>of(only) : COMMANDS.values()) {
            cl.addSubcommand(c);
        }
        return cl;
    }

    private static Map<String, Class<?>> commands(Class<?>... classes) {
        Map<String, Class<?>> m = new LinkedHashMap<>();
        for (Class<?> c : classes) {
            m.put(c.getAnnotation(Command.class).name(), c);
        }
        return java.util.Collections.unmodifiableMap(m);
    }

    boolean jsonRequested() {
        return json;
    }

    Output output() {
        return new Output(json, out, err, document);
    }

    /** Reports a failure (message and hint on stderr; with --json, also in the document) and returns its exit code. */
    int report(Exception e) {
        return Main.report(e, this);
    }

    @Override
    public void run() {
        if (json) {
            spec.commandLine().usage(err);
            throw new LifeboatException(ErrorKind.USAGE, "no command given", "run `lifeboat --help` for the commands");
        }
        spec.commandLine().usage(out);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = LifeboatCommand.class.getPackage().getImplementationVersion();
            return new String[] {"lifeboat " + (v == null ? "development build" : v)};
        }
    }
}
