package io.lifeboat.it;

import io.lifeboat.postgres.ContentChecksum;
import io.lifeboat.postgres.ExternalProcess;
import io.lifeboat.postgres.PgBinaries;
import io.lifeboat.postgres.PgConnectionSettings;
import io.lifeboat.postgres.PgSession;
import io.lifeboat.postgres.ScratchCluster;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Data we did not write: PostgreSQL's own regression suite (the full installcheck schedule of the
 * installed server's version, 217 tests, about 40 s here) fills a database with every kind of
 * object; on top come extensions, a foreign server, an event trigger, a publication, large objects,
 * a LATIN1 database owned by another role with a connection limit and a default tablespace, an ICU
 * de-DE database, a table in template1 and a tablespace. Lifeboat's --all-databases backup and
 * restore are compared with the plain tools on the same data (pg_dump -Fd -j2 of each database and
 * pg_dumpall --globals-only; psql for the globals, pg_restore -j2 --create, and for template1 and
 * postgres pg_restore into them as pg_dumpall's script does), onto a fresh PostgreSQL 15 and onto
 * PostgreSQL 17: database properties, every table's content checksum, the number of failed
 * statements and, on 15, a schema-only pg_dumpall must be the same. The timings go to
 * target/regression-database.txt.
 */
class RegressionDatabaseIT {
    static final Path PG15 = Path.of("/usr/lib/postgresql/15/bin");
    static final List<String> MAINTENANCE = List.of("template1", "postgres");
    final Map<String, Double> seconds = new LinkedHashMap<>();
    final List<String> report = new ArrayList<>();

    @Test
    void regressionDatabaseComesBackAsThePlainToolsBringItBack() throws Exception {
        Path suite = regressionSuite();
        Path work = Files.createTempDirectory("lifeboat-regress-");
        Path repo = Files.createDirectories(work.resolve("repo"));
        try (ScratchCluster source = cluster(PG15)) {
            long t0 = System.nanoTime();
            String regress = runRegressionSuite(suite, source, work);
            time("pg_regress (full installcheck schedule)", t0);
            report.add("pg_regress: " + regress);
            addExtras(source, suite);
            Map<String, Map<String, String>> sourceProperties;
            try (PgSession s = source.session("postgres")) {
                sourceProperties = DatabaseProperties.all(s);
                report.add("source: " + s.queryValue("SELECT pg_size_pretty(pg_database_size('regression'))").orElse("?")
                        + " regression database, databases " + sourceProperties.keySet());
            }
            try (PgSession s = source.session("regression")) {
                long relations = Long.parseLong(s.queryValue("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = "
                        + "c.relnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE "
                        + "'pg_toast%'").orElseThrow());
                report.add("regression database: " + relations + " relations");
                assertThat(relations).as("the regression suite ran").isGreaterThan(500);
            }
            Map<String, Map<String, ContentChecksum.Entry>> sourceContent = content(source, sourceProperties.keySet());

            t0 = System.nanoTime();
            Cli.Result b = Cli.run(lifeboat(source, repo, "backup", "--type", "logical", "--all-databases"));
            time("lifeboat backup --all-databases -j2", t0);
            assertThat(b.exit()).as(b.toString()).isZero();

            Path plain = work.resolve("plain");
            t0 = System.nanoTime();
            plainDump(source, plain, sourceProperties.keySet());
            time("pg_dumpall --globals-only + pg_dump -Fd -j2 per database", t0);

            for (Path bin : List.of(PG15, OtherPostgresVersion.binDir())) {
                try (ScratchCluster ref = cluster(bin); ScratchCluster lb = cluster(bin)) {
                    int major;
                    try (PgSession s = ref.session("postgres")) {
                        major = s.serverVersion().major();
                    }
                    createTablespace(ref);
                    createTablespace(lb);
                    t0 = System.nanoTime();
                    Map<String, Long> refErrors = plainRestore(ref, plain, sourceProperties.keySet());
                    time("PostgreSQL " + major + ": psql globals + pg_restore -j2 --create per database", t0);
                    t0 = System.nanoTime();
                    Cli.Result r = Cli.run(lifeboat(lb, repo, "restore", "--all-databases"));
                    time("PostgreSQL " + major + ": lifeboat restore --all-databases -j2", t0);
                    Map<String, Long> lbErrors = errorsOf(r);
                    report.add("PostgreSQL " + major + ": failed statements, plain tools " + refErrors + ", lifeboat " + lbErrors
                            + " (exit " + r.exit() + ")");
                    assertThat(lbErrors).as(r.toString()).isEqualTo(refErrors);
                    assertThat(r.exit()).as(r.toString()).isEqualTo(refErrors.isEmpty() ? 0 : 11);

                    Map<String, Map<String, String>> refProperties;
                    Map<String, Map<String, String>> lbProperties;
                    try (PgSession s = ref.session("postgres"); PgSession l = lb.session("postgres")) {
                        refProperties = DatabaseProperties.all(s);
                        lbProperties = DatabaseProperties.all(l);
                    }
                    // Lifeboat keeps every database's properties; pg_dumpall's way restores into template1 and postgres
                    // without their DATABASE PROPERTIES/COMMENT/ACL entries (it would need --clean to recreate them).
                    assertThat(lbProperties).as("database properties on " + major).isEqualTo(sourceProperties);
                    List<String> lost = new ArrayList<>();
                    for (String db : refProperties.keySet()) {
                        if (MAINTENANCE.contains(db)) {
                            refProperties.get(db).forEach((k, v) -> {
                                if (!java.util.Objects.equals(v, lbProperties.get(db).get(k))) {
                                    lost.add(db + " " + k + " (" + lbProperties.get(db).get(k) + ")");
                                }
                            });
                        } else {
                            assertThat(lbProperties.get(db)).as(db + " on " + major).isEqualTo(refProperties.get(db));
                        }
                    }
                    report.add("PostgreSQL " + major + ": database properties (pg_database, ACL, comment, pg_db_role_setting) of "
                            + lbProperties.keySet() + " equal to the source's and, but for template1 and postgres, to the plain "
                            + "tools'; the plain tools lost " + (lost.isEmpty() ? "nothing" : lost));
                    Map<String, Map<String, ContentChecksum.Entry>> refContent = content(ref, refProperties.keySet());
                    Map<String, Map<String, ContentChecksum.Entry>> lbContent = content(lb, lbProperties.keySet());
                    int tables = 0;
                    for (String db : refContent.keySet()) {
                        assertThat(ContentChecksum.differences(refContent.get(db), lbContent.get(db))).as(db + " on " + major)
                                .isEmpty();
                        tables += refContent.get(db).size();
                    }
                    report.add("PostgreSQL " + major + ": content checksums of " + tables + " tables, sequences and large-object "
                            + "sets equal to the plain tools'");
                    if (major == 15) {
                        // Against the source, what the plain tools change Lifeboat changes alike: pg_dump recreates
                        // inheritance children with their columns in another order, so their rows read differently.
                        List<String> changed = new ArrayList<>();
                        for (String db : sourceContent.keySet()) {
                            List<String> byLifeboat = ContentChecksum.differences(sourceContent.get(db), lbContent.get(db));
                            assertThat(byLifeboat).as(db).isEqualTo(ContentChecksum.differences(sourceContent.get(db),
                                    refContent.get(db)));
                            byLifeboat.forEach(t -> changed.add(db + ": " + t.replace("table ", "")));
                        }
                        report.add("PostgreSQL 15: against the source, plain tools and lifeboat alike read differently in "
                                + changed.size() + " tables (inheritance children, columns reordered by pg_dump): " + changed);
                        String refSchema = schema(ref);
                        String lbSchema = schema(lb);
                        List<String> diff = diff(refSchema, lbSchema);
                        assertThat(diff).as("pg_dumpall --schema-only, plain tools vs lifeboat").isEmpty();
                        List<String> fromSource = diff(schema(source), lbSchema);
                        report.add("PostgreSQL 15: pg_dumpall --schema-only identical (" + refSchema.lines().count()
                                + " lines); against the source " + fromSource.size() + " lines differ, for both: "
                                + fromSource.subList(0, Math.min(fromSource.size(), 20)));
                        assertThat(fromSource).as("source vs plain tools, the same as source vs lifeboat")
                                .isEqualTo(diff(schema(source), refSchema));
                    }
                }
            }
        } finally {
            ScratchCluster.deleteTree(work);
            List<String> lines = new ArrayList<>(report);
            seconds.forEach((k, v) -> lines.add(String.format(java.util.Locale.ROOT, "%6.1f s  %s", v, k)));
            Files.createDirectories(Path.of("target"));
            Files.write(Path.of("target", "regression-database.txt"), lines);
            lines.forEach(System.out::println);
        }
    }

    /** The suite's directory, prepared by scripts/install-regression-suite (which install-prerequisites runs). */
    static Path regressionSuite() {
        ExternalProcess.Result r = new ExternalProcess(List.of("scripts/install-regression-suite"), Map.of()).run();
        assertThat(r.exitCode()).as("scripts/install-regression-suite: " + r.stderr()).isZero();
        return Path.of(r.stdout().strip());
    }

    void time(String what, long start) {
        seconds.put(what, (System.nanoTime() - start) / 1e9);
    }

    static ScratchCluster cluster(Path bin) {
        return ScratchCluster.create(null, ScratchCluster.Options.defaults().withBinDir(bin)
                .withConf("fsync = off", "max_prepared_transactions = 10")).start();
    }

    static String[] lifeboat(ScratchCluster pg, Path repo, String command, String... more) {
        List<String> a = new ArrayList<>(List.of(command, "--pg-host", "127.0.0.1", "--pg-port", Integer.toString(pg.port()),
                "--pg-user", "postgres", "--repo", "file://" + repo, "--cluster", "regress", "--allow-same-server",
                "--jobs", "2"));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    /** pg_regress installcheck with the suite's parallel schedule; returns its verdict line. */
    static String runRegressionSuite(Path suite, ScratchCluster pg, Path work) throws IOException {
        Path out = Files.createDirectories(work.resolve("regress-output"));
        ScratchCluster.giveToServerUser(work);
        Path src = suite.resolve("src");
        List<String> cmd = ExternalProcess.asUser(ScratchCluster.OS_USER, List.of(suite.resolve("pg_regress").toString(),
                "--inputdir=" + src, "--outputdir=" + out, "--bindir=" + PG15, "--dlpath=" + suite.resolve("lib"),
                "--max-concurrent-tests=20", "--schedule=" + src.resolve("parallel_schedule"), "--host=127.0.0.1",
                "--port=" + pg.port(), "--user=postgres"));
        ExternalProcess.Result r = new ExternalProcess(cmd, Map.of()).directory(out).run();
        String verdict = r.stdout().lines().filter(l -> l.contains("tests passed") || l.contains("tests failed")
                || l.contains("failed (ignoring")).findFirst().orElse("no verdict: " + ExternalProcess.lastLines(r.stdout()
                + r.stderr(), 5)).strip();
        assertThat(verdict).as("pg_regress ran its schedule").containsPattern("\\d+ (of \\d+ )?tests");
        return verdict;
    }

    static void createTablespace(ScratchCluster pg) throws IOException {
        Path dir = Files.createDirectories(pg.baseDir().resolve("ts1"));
        ScratchCluster.giveToServerUser(dir);
        try (PgSession s = pg.session("postgres")) {
            s.execute("CREATE TABLESPACE ts1 LOCATION " + PgSession.quoteLiteral(dir.toString()));
        }
    }

    static void addExtras(ScratchCluster pg, Path suite) throws IOException {
        createTablespace(pg);
        try (PgSession s = pg.session("postgres")) {
            s.execute("CREATE ROLE lb_owner LOGIN");
            s.execute("CREATE ROLE lb_reader LOGIN");
            s.execute("CREATE DATABASE latin1db OWNER lb_owner TEMPLATE template0 ENCODING 'LATIN1' LOCALE 'C' "
                    + "CONNECTION LIMIT 5 TABLESPACE ts1");
            s.execute("REVOKE ALL ON DATABASE latin1db FROM PUBLIC");
            s.execute("GRANT CONNECT ON DATABASE latin1db TO lb_reader");
            s.execute("COMMENT ON DATABASE latin1db IS 'LATIN1, owned by lb_owner'");
            s.execute("ALTER DATABASE latin1db SET work_mem = '8MB'");
            s.execute("ALTER ROLE lb_reader IN DATABASE latin1db SET statement_timeout = '3s'");
            s.execute("CREATE DATABASE icu_de TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'de-DE' LOCALE 'C.UTF-8'");
            s.execute("COMMENT ON DATABASE postgres IS 'the maintenance database'");
        }
        try (PgSession s = pg.session("latin1db")) {
            s.execute("CREATE TABLE umlaute (k int PRIMARY KEY, t text) ; INSERT INTO umlaute VALUES (1, 'äöüß'), (2, 'çé')");
            s.execute("ALTER TABLE umlaute OWNER TO lb_owner");
        }
        try (PgSession s = pg.session("icu_de")) {
            s.execute("CREATE TABLE words (w text); INSERT INTO words VALUES ('a'), ('ä'), ('B'), ('z'), ('Z')");
        }
        try (PgSession s = pg.session("template1")) {
            s.execute("CREATE TABLE in_template (k int); INSERT INTO in_template VALUES (1)");
        }
        try (PgSession s = pg.session("regression")) {
            s.execute("CREATE EXTENSION IF NOT EXISTS hstore");
            s.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm");
            s.execute("CREATE EXTENSION IF NOT EXISTS citext");
            s.execute("CREATE EXTENSION IF NOT EXISTS postgres_fdw");
            s.execute("CREATE SERVER lb_remote FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'localhost', dbname 'postgres')");
            s.execute("CREATE USER MAPPING FOR postgres SERVER lb_remote OPTIONS (user 'postgres')");
            s.execute("CREATE FOREIGN TABLE lb_foreign (x int) SERVER lb_remote OPTIONS (table_name 'nothing')");
            s.execute("CREATE FUNCTION lb_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$BEGIN RAISE NOTICE 'ddl'; END$$");
            s.execute("CREATE EVENT TRIGGER lb_ddl ON ddl_command_end EXECUTE FUNCTION lb_ddl()");
            s.execute("CREATE TABLE lb_published (k int PRIMARY KEY, h hstore, c citext) TABLESPACE ts1");
            s.execute("INSERT INTO lb_published SELECT i, hstore('k', i::text), 'Mixed' || i FROM generate_series(1, 1000) i");
            s.execute("CREATE PUBLICATION lb_pub FOR TABLE lb_published");
            s.execute("SELECT lo_from_bytea(0, convert_to(repeat('large object ' || i, 100), 'UTF8')) FROM generate_series(1, 20) i");
        }
    }

    static Map<String, Map<String, ContentChecksum.Entry>> content(ScratchCluster pg, java.util.Collection<String> dbs) {
        Map<String, Map<String, ContentChecksum.Entry>> out = new LinkedHashMap<>();
        for (String db : dbs) {
            try (PgSession s = pg.session(db)) {
                out.put(db, ContentChecksum.of(s));
            }
        }
        return out;
    }

    static PgBinaries.Tool tool(String name) {
        return PgBinaries.only(List.of(PG15)).forMajor(name, 15, "the plain tools");
    }

    static void plainDump(ScratchCluster pg, Path dir, java.util.Collection<String> dbs) throws IOException {
        Files.createDirectories(dir);
        PgConnectionSettings c = pg.connection("postgres");
        new ExternalProcess(List.of(tool("pg_dumpall").path().toString(), "--globals-only", "--file=" + dir.resolve("globals.sql")),
                c.libpqEnvironment()).runChecked("pg_dumpall --globals-only");
        for (String db : dbs) {
            new ExternalProcess(List.of(tool("pg_dump").path().toString(), "-Fd", "-j2", "--file=" + dir.resolve(db)),
                    pg.connection(db).libpqEnvironment()).runChecked("pg_dump " + db);
        }
    }

    static final Pattern IGNORED = Pattern.compile("errors ignored on restore: (\\d+)");

    /** As pg_dumpall's script: globals, then template1 and postgres restored into, the others created. */
    static Map<String, Long> plainRestore(ScratchCluster pg, Path dir, java.util.Collection<String> dbs) {
        new ExternalProcess(List.of(tool("psql").path().toString(), "-X", "-q", "-f", dir.resolve("globals.sql").toString()),
                pg.connection("postgres").libpqEnvironment()).run();
        Map<String, Long> errors = new LinkedHashMap<>();
        for (String db : dbs) {
            boolean exists = db.equals("template1") || db.equals("postgres");
            List<String> cmd = new ArrayList<>(List.of(tool("pg_restore").path().toString(), "-j2"));
            cmd.addAll(exists ? List.of("--dbname=" + db) : List.of("--create", "--dbname=postgres"));
            cmd.add(dir.resolve(db).toString());
            ExternalProcess.Result r = new ExternalProcess(cmd, pg.connection("postgres").libpqEnvironment()).run();
            Matcher m = IGNORED.matcher(r.stderr());
            if (m.find()) {
                errors.put(db, Long.parseLong(m.group(1)));
            } else {
                assertThat(r.exitCode()).as(db + ": " + r.stderr()).isZero();
            }
        }
        return errors;
    }

    static final Pattern PER_DATABASE = Pattern.compile("([^ (,]+): (\\d+) errors");
    static final Pattern ONE_DATABASE = Pattern.compile("database '([^']+)' finished with (\\d+) failed statement");

    /** Failed statements per database, from Lifeboat's message ("db: N errors", or the one database's count). */
    static Map<String, Long> errorsOf(Cli.Result r) {
        Map<String, Long> out = new LinkedHashMap<>();
        if (r.exit() == 0) {
            return out;
        }
        String error = r.err().lines().filter(l -> l.startsWith("error: ")).findFirst().orElse("");
        Matcher m = PER_DATABASE.matcher(error.contains(" did not restore cleanly (") ? error.substring(0, error.indexOf(')'))
                : error);
        while (m.find()) {
            out.put(m.group(1), Long.parseLong(m.group(2)));
        }
        Matcher one = ONE_DATABASE.matcher(error);
        if (out.isEmpty() && one.find()) {
            out.put(one.group(1), Long.parseLong(one.group(2)));
        }
        return out;
    }

    /** pg_dumpall --schema-only, without what differs by construction (psql's \restrict keys, tablespace paths). */
    static String schema(ScratchCluster pg) {
        ExternalProcess.Result r = new ExternalProcess(List.of(tool("pg_dumpall").path().toString(), "--schema-only",
                "--no-role-passwords"), pg.connection("postgres").libpqEnvironment()).runChecked("pg_dumpall --schema-only");
        return r.stdout().lines().filter(l -> !l.startsWith("\\restrict") && !l.startsWith("\\unrestrict"))
                .map(l -> l.replace(pg.baseDir().toString(), "<base>"))
                .collect(java.util.stream.Collectors.joining("\n"));
    }

    /** Lines of one side that the other lacks (as a multiset), each prefixed with - or +. */
    static List<String> diff(String a, String b) {
        Map<String, Integer> count = new LinkedHashMap<>();
        a.lines().forEach(l -> count.merge(l, 1, Integer::sum));
        b.lines().forEach(l -> count.merge(l, -1, Integer::sum));
        List<String> out = new ArrayList<>();
        count.forEach((l, n) -> {
            for (int i = 0; i < Math.abs(n); i++) {
                out.add((n > 0 ? "- " : "+ ") + l);
            }
        });
        return out;
    }
}
