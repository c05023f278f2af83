package io.lifeboat.postgres;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * One pg_restore binary and what Lifeboat asks of it: a directory archive's database-level entries,
 * the tablespaces its objects are created in, and the restore itself.
 */
public final class PgRestore {
    /** TOC lines of the database's own entries: "3355; 1262 16388 DATABASE - app owner", "3357; 0 0 ACL - DATABASE app owner". */
    private static final Pattern DATABASE_ENTRY = Pattern.compile(
            "^\\d+; \\d+ \\d+ (DATABASE|DATABASE PROPERTIES) - .*|^\\d+; \\d+ \\d+ (COMMENT|ACL|SECURITY LABEL) - DATABASE .*");

    private final PgBinaries.Tool tool;

    public PgRestore(PgBinaries.Tool tool) {
        this.tool = tool;
    }

    public Path path() {
        return tool.path();
    }

    /**
     * TOC entries pg_restore holds back to the end of a run (its ACL and post-ACL passes): privileges
     * could stop a non-superuser's data load, event triggers would fire during it, and materialized
     * views are refreshed once their data and privileges are in.
     */
    private static final Pattern HELD_BACK = Pattern.compile(
            "^\\d+; \\d+ \\d+ (ACL|DEFAULT ACL|ACL LANGUAGE|EVENT TRIGGER|MATERIALIZED VIEW DATA) .*");

    /**
     * @param jobs          pg_restore -j
     * @param clean         --clean --if-exists (replace objects in a non-empty database)
     * @param noOwner       --no-owner --no-privileges
     * @param noTablespaces --no-tablespaces (everything into the database's default tablespace)
     * @param list          --use-list: only the entries of this list file; null for all
     */
    public record Options(int jobs, boolean clean, boolean noOwner, boolean noTablespaces, Path list) {
        public Options(int jobs, boolean clean, boolean noOwner, boolean noTablespaces) {
            this(jobs, clean, noOwner, noTablespaces, null);
        }

        public Options withList(Path file, int jobs) {
            return new Options(jobs, clean, noOwner, noTablespaces, file);
        }
    }

    /**
     * An archive's entries in two lists for two pg_restore runs that together restore what one would:
     * {@code schema}, the pre-data section (types, functions, tables: everything created before any
     * data, read from toc.dat alone) without the entries pg_restore holds back to the end; and
     * {@code rest}, every other entry (data, indexes, constraints, privileges), in the archive's order.
     *
     * @param schemaEntries how many entries the first list holds
     */
    public record Split(Path schema, Path rest, int schemaEntries) {
    }

    /** Writes the lists of {@link Split} for {@code dumpDir} into {@code work} (only its toc.dat is read). */
    public Split split(Path dumpDir, Path work) {
        List<String> all = entries(run(List.of(path().toString(), "--list", dumpDir.toString()), "list"));
        List<String> schema = schemaEntries(entries(run(List.of(path().toString(), "--list", "--section=pre-data",
                dumpDir.toString()), "list the pre-data section")));
        List<String> rest = restEntries(all, schema);
        try {
            Path first = work.resolve("schema.list");
            Path second = work.resolve("rest.list");
            Files.write(first, schema);
            Files.write(second, rest);
            return new Split(first, second, schema.size());
        } catch (IOException e) {
            throw new LifeboatException(ErrorKind.RESOURCE, "cannot write " + work + ": " + e.getMessage(), null, e);
        }
    }

    /** The pre-data section's entries that run first: all but those pg_restore holds back to the end. */
    static List<String> schemaEntries(List<String> preData) {
        return preData.stream().filter(l -> !HELD_BACK.matcher(l).matches()).toList();
    }

    /** Every entry of the archive the first run did not restore, in the archive's order. */
    static List<String> restEntries(List<String> all, List<String> schema) {
        Set<String> first = new java.util.HashSet<>(schema);
        return all.stream().filter(l -> !first.contains(l)).toList();
    }

    private static List<String> entries(ExternalProcess.Result listing) {
        return listing.stdout().lines().filter(l -> !l.isBlank() && !l.startsWith(";")).toList();
    }

    /**
     * The database's definition as {@code pg_restore --create} would run it: its entries are chosen
     * from the archive's table of contents and printed as a script, which is then split into
     * statements. An archive without a DATABASE entry gets a plain definition.
     *
     * @param work a private directory for the entry list
     */
    public DatabaseDefinition definition(Path dumpDir, String name, Path work) {
        ExternalProcess.Result toc = run(List.of(path().toString(), "--list", "--create", dumpDir.toString()), "list");
        List<String> entries = toc.stdout().lines().filter(l -> DATABASE_ENTRY.matcher(l).matches()).toList();
        if (entries.stream().noneMatch(l -> l.matches("^\\d+; \\d+ \\d+ DATABASE - .*"))) {
            return DatabaseDefinition.plain(name);
        }
        try {
            Path list = work.resolve("database-entries.list");
            Files.write(list, entries);
            ExternalProcess.Result script = run(List.of(path().toString(), "--create", "--use-list=" + list, "--file=-",
                    dumpDir.toString()), "print the database's definition");
            Files.deleteIfExists(list);
            return DatabaseDefinition.parse(name, script.stdout());
        } catch (IOException e) {
            throw new LifeboatException(ErrorKind.RESOURCE, "cannot write " + work + ": " + e.getMessage(), null, e);
        }
    }

    /**
     * The tablespaces the archive's objects select ({@code SET default_tablespace}), read from its
     * schema script as it streams by; pg_default and the database's default ('') are left out.
     */
    public Set<String> tablespaces(Path dumpDir) {
        Process p = new ExternalProcess(List.of(path().toString(), "--schema-only", "--file=-", dumpDir.toString()), Map.of())
                .start();
        Set<String> used = new TreeSet<>();
        StringBuilder err = new StringBuilder();
        Thread errReader = drain(p, err);
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            p.getOutputStream().close();
            String line;
            while ((line = r.readLine()) != null) {
                if (line.startsWith("SET default_tablespace = ")) {
                    SqlScript.Token t = SqlScript.parse(line).get(0).tokens().get(3);
                    if (t.isIdentifier() && !t.identifier().equals("pg_default")) {
                        used.add(t.identifier());
                    }
                }
            }
            int code = p.waitFor();
            errReader.join();
            if (code != 0) {
                throw new LifeboatException(ErrorKind.TOOL, "pg_restore cannot read the archive " + dumpDir + " (exit " + code
                        + "): " + ExternalProcess.lastLines(err.toString(), 4), "check that " + path() + " can read "
                        + "archives of this pg_dump version");
            }
            return used;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            p.destroy();
            Thread.currentThread().interrupt();
            throw new LifeboatException(ErrorKind.INTERRUPTED, "interrupted while reading " + dumpDir);
        }
    }

    /**
     * Restores the archive into an existing database. Every line pg_restore writes to stderr goes
     * to {@code log} and to {@code reader}, which classifies the run.
     *
     * @return pg_restore's exit status
     */
    public int restore(PgConnectionSettings db, Path dumpDir, Options o, PgRestoreOutcome.Reader reader,
                       Consumer<String> log) {
        // --verbose: the log says what was restored, and each error is preceded by the TOC entry it belongs to.
        List<String> cmd = new ArrayList<>(List.of(path().toString(), "--format=directory", "--jobs=" + o.jobs(), "--verbose",
                "--dbname=" + db.database()));
        if (o.clean()) {
            cmd.addAll(List.of("--clean", "--if-exists"));
        }
        if (o.noOwner()) {
            cmd.addAll(List.of("--no-owner", "--no-privileges"));
        }
        if (o.noTablespaces()) {
            cmd.add("--no-tablespaces");
        }
        if (o.list() != null) {
            cmd.add("--use-list=" + o.list());
        }
        cmd.add(dumpDir.toString());
        return new ExternalProcess(cmd, db.libpqEnvironment()).onStderrLine(line -> {
            log.accept(line);
            reader.accept(line);
        }).run().exitCode();
    }

    private ExternalProcess.Result run(List<String> cmd, String what) {
        ExternalProcess.Result r = new ExternalProcess(cmd, Map.of()).run();
        if (!r.ok()) {
            throw new LifeboatException(ErrorKind.TOOL, "pg_restore could not " + what + " of " + cmd.get(cmd.size() - 1)
                    + " (exit " + r.exitCode() + "): " + ExternalProcess.lastLines(r.stderr(), 4),
                    "check that " + path() + " can read archives of this pg_dump version");
        }
        return r;
    }

    private static Thread drain(Process p, StringBuilder into) {
        Thread t = new Thread(() -> {
            try {
                into.append(new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException ignored) {
                // reported through the exit code
            }
        }, "pg_restore-stderr");
        t.setDaemon(true);
        t.start();
        return t;
    }
}
