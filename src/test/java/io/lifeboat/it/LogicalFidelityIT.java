package io.lifeboat.it;

import io.lifeboat.catalog.Json;
import io.lifeboat.postgres.ContentChecksum;
import io.lifeboat.postgres.PgSession;
import io.lifeboat.postgres.ScratchCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A logical restore brings back the databases themselves, not only their objects: a LATIN1
 * database owned by another role, with a connection limit, a default tablespace, an ACL, a comment
 * and settings; an ICU de-DE database whose ORDER BY must not change; a table in template1. They
 * go onto a fresh server (through its maintenance database, although the configured database is
 * one of those to restore), under a new name, onto another major version, and into a drill.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LogicalFidelityIT {
    static final String WORDS = "SELECT string_agg(w, ' ' ORDER BY w) FROM words";
    ScratchCluster source;
    Path repo;
    String backupId;
    Map<String, Map<String, String>> properties = new LinkedHashMap<>();
    Map<String, Map<String, ContentChecksum.Entry>> content = new LinkedHashMap<>();
    String sorted;

    @BeforeAll
    void start() throws Exception {
        source = ScratchCluster.create(null, ScratchCluster.Options.defaults()).start();
        repo = Files.createTempDirectory("lifeboat-it-fidelity-");
        try (PgSession s = source.session("postgres")) {
            s.execute("CREATE ROLE app_owner LOGIN");
            s.execute("CREATE ROLE alice LOGIN");
            s.execute("CREATE TABLESPACE ts1 LOCATION " + PgSession.quoteLiteral(tablespaceDir(source, "ts1").toString()));
            s.execute("CREATE TABLESPACE ts2 LOCATION " + PgSession.quoteLiteral(tablespaceDir(source, "ts2").toString()));
            s.execute("CREATE DATABASE app OWNER app_owner TEMPLATE template0 ENCODING 'LATIN1' LOCALE 'C' "
                    + "CONNECTION LIMIT 7 TABLESPACE ts1");
            s.execute("REVOKE ALL ON DATABASE app FROM PUBLIC");
            s.execute("GRANT CONNECT ON DATABASE app TO alice");
            s.execute("GRANT CREATE ON DATABASE app TO alice WITH GRANT OPTION");
            s.execute("COMMENT ON DATABASE app IS 'the DATABASE app''s own comment'");
            s.execute("ALTER DATABASE app SET work_mem = '7MB'");
            s.execute("ALTER DATABASE app SET search_path = public, \"$user\"");
            s.execute("ALTER ROLE alice IN DATABASE app SET statement_timeout = '5s'");
            s.execute("CREATE DATABASE icu TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'de-DE' LOCALE 'C.UTF-8'");
        }
        try (PgSession s = source.session("app")) {
            s.execute("CREATE TABLE latin (k int PRIMARY KEY, t text); INSERT INTO latin VALUES (1, 'ä ö ü ß'), (2, 'é')");
            s.execute("CREATE TABLE elsewhere (k int) TABLESPACE pg_default; INSERT INTO elsewhere VALUES (1)");
            s.execute("ALTER TABLE latin OWNER TO app_owner");
            s.execute("CREATE EXTENSION hstore");
            s.execute("CREATE EXTENSION file_fdw"); // untrusted: only a superuser may create it
        }
        try (PgSession s = source.session("icu")) {
            s.execute("CREATE TABLE words (w text) TABLESPACE ts2; INSERT INTO words VALUES ('a'), ('ä'), ('B'), ('z'), ('Z')");
            sorted = s.queryValue(WORDS).orElseThrow();
        }
        assertThat(sorted).isEqualTo("a ä B z Z");
        try (PgSession s = source.session("template1")) {
            s.execute("CREATE TABLE template_marker (k int); INSERT INTO template_marker VALUES (42)");
        }
        try (PgSession s = source.session("postgres")) {
            for (String db : List.of("app", "icu", "template1", "postgres")) {
                properties.put(db, DatabaseProperties.of(s, db));
            }
        }
        for (String db : List.of("app", "icu", "template1")) {
            try (PgSession s = source.session(db)) {
                content.put(db, ContentChecksum.of(s));
            }
        }
        assertThat(properties.get("app")).containsEntry("owner", "app_owner").containsEntry("encoding", "LATIN1")
                .containsEntry("connection limit", "7").containsEntry("tablespace", "ts1");
        assertThat(properties.get("icu")).containsEntry("locale provider", "i").containsEntry("icu locale", "de-DE");
        Cli.Result b = Cli.run(args(source, "backup", "--json", "--type", "logical", "--all-databases"));
        assertThat(b.exit()).as(b.toString()).isZero();
        backupId = (String) Json.MAPPER.readValue(b.out(), Map.class).get("id");
        assertThat(b.out()).contains("template1");
    }

    @AfterAll
    void stop() {
        if (source != null) {
            source.close();
        }
        ScratchCluster.deleteTree(repo);
    }

    static Path tablespaceDir(ScratchCluster pg, String name) throws IOException {
        Path dir = Files.createDirectories(pg.baseDir().resolve("tablespaces").resolve(name));
        ScratchCluster.giveToServerUser(pg.baseDir().resolve("tablespaces"));
        return dir;
    }

    /** As a configuration would say it: the database to back up is 'app', which a fresh server does not have. */
    String[] args(ScratchCluster pg, String command, String... more) {
        List<String> a = new ArrayList<>(List.of(command, "--pg-host", "127.0.0.1", "--pg-port", Integer.toString(pg.port()),
                "--pg-user", "postgres", "--pg-database", "app", "--repo", "file://" + repo, "--cluster", "fidelity",
                "--allow-same-server", "--jobs", "2"));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    void createTablespaces(ScratchCluster target) throws IOException {
        try (PgSession s = target.session("postgres")) {
            for (String t : List.of("ts1", "ts2")) {
                s.execute("CREATE TABLESPACE " + t + " LOCATION " + PgSession.quoteLiteral(tablespaceDir(target, t).toString()));
            }
        }
    }

    /** Every database property, the data, the ICU order and template1's table, as on the source. */
    void assertSameAsSource(ScratchCluster target, boolean sameTablespaces) {
        try (PgSession s = target.session("postgres")) {
            for (String db : List.of("app", "icu")) {
                Map<String, String> expected = new LinkedHashMap<>(properties.get(db));
                Map<String, String> actual = new LinkedHashMap<>(DatabaseProperties.of(s, db));
                if (!sameTablespaces) {
                    expected.remove("tablespace");
                    assertThat(actual.remove("tablespace")).isEqualTo("pg_default");
                }
                assertThat(actual).as(db).isEqualTo(expected);
            }
        }
        for (String db : List.of("app", "icu", "template1")) {
            try (PgSession s = target.session(db)) {
                assertThat(ContentChecksum.differences(content.get(db), ContentChecksum.of(s))).as(db).isEmpty();
            }
        }
        try (PgSession s = target.session("icu")) {
            assertThat(s.queryValue(WORDS)).contains(sorted);
            assertThat(s.queryValue("SELECT coalesce(t.spcname, 'default') FROM pg_class c LEFT JOIN pg_tablespace t "
                    + "ON t.oid = c.reltablespace WHERE c.relname = 'words'")).contains(sameTablespaces ? "ts2" : "default");
        }
    }

    @Test
    void allDatabasesOntoAFreshServerWithTheirOwnPropertiesAfterATablespaceCheck() throws Exception {
        try (ScratchCluster target = ScratchCluster.create(null, ScratchCluster.Options.defaults()).start()) {
            Cli.Result refused = Cli.run(args(target, "restore", "--backup", backupId, "--all-databases", "--no-globals"));
            assertThat(refused.exit()).as(refused.toString()).isEqualTo(7);
            assertThat(refused.err()).contains("no tablespaces ts1 (used by app), ts2 (used by icu); no database was restored")
                    .contains("--no-tablespaces");
            try (PgSession s = target.session("postgres")) {
                assertThat(s.queryValue("SELECT count(*) FROM pg_database WHERE datname IN ('app', 'icu')")).contains("0");
                assertThat(s.queryValue("SELECT count(*) FROM pg_roles WHERE rolname IN ('alice', 'app_owner')")).contains("0");
            }
            // The globals would create them at the source's directories, which are in use here: said so, and still
            // no database touched.
            Cli.Result inUse = Cli.run(args(target, "restore", "--backup", backupId, "--all-databases"));
            assertThat(inUse.exit()).as(inUse.toString()).isEqualTo(7);
            assertThat(inUse.err()).contains("could not create ts1 at '" + source.baseDir().resolve("tablespaces/ts1") + "'");
            try (PgSession s = target.session("postgres")) {
                assertThat(s.queryValue("SELECT count(*) FROM pg_database WHERE datname IN ('app', 'icu')")).contains("0");
            }
            try (PgSession s = target.session("template1")) {
                assertThat(s.queryValue("SELECT count(*) FROM pg_class WHERE relname = 'template_marker'")).contains("0");
            }
            createTablespaces(target);
            Cli.Result r = Cli.run(args(target, "restore", "--json", "--backup", backupId, "--all-databases"));
            assertThat(r.exit()).as(r.toString()).isZero();
            assertSameAsSource(target, true);
            Map<?, ?> j = Json.MAPPER.readValue(r.out(), Map.class);
            assertThat(j.get("globals")).isEqualTo(true);
            assertThat(Path.of((String) j.get("log"))).exists();
            try (PgSession s = target.session("template1")) {
                assertThat(s.queryValue("SELECT k FROM template_marker")).contains("42");
            }
        }
    }

    @Test
    void underANewNameNextToTheOriginal() {
        Cli.Result r = Cli.run(args(source, "restore", "--backup", backupId, "--database", "app", "--target-database",
                "app copy"));
        assertThat(r.exit()).as(r.toString()).isZero();
        try (PgSession s = source.session("postgres")) {
            assertThat(DatabaseProperties.of(s, "app copy")).isEqualTo(properties.get("app"));
        }
        try (PgSession s = source.session("app copy")) {
            assertThat(ContentChecksum.differences(content.get("app"), ContentChecksum.of(s))).isEmpty();
        }
    }

    /** An existing database keeps what only CREATE DATABASE sets, says so, and gets the rest of the definition. */
    @Test
    void anExistingDatabaseIsRestoredIntoAndTheDifferencesAreSaid() {
        try (PgSession s = source.session("postgres")) {
            s.execute("CREATE DATABASE made_by_hand TEMPLATE template0"); // template1 holds a table here
        }
        Cli.Result r = Cli.run(args(source, "restore", "--backup", backupId, "--database", "app", "--target-database",
                "made_by_hand"));
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.err()).contains("database 'made_by_hand' exists on the target with encoding UTF8 (the backup's: LATIN1)");
        try (PgSession s = source.session("postgres")) {
            Map<String, String> p = DatabaseProperties.of(s, "made_by_hand");
            assertThat(p).containsEntry("encoding", "UTF8").containsEntry("owner", "postgres")
                    .containsEntry("connection limit", "7").containsEntry("comment", properties.get("app").get("comment"))
                    .containsEntry("settings", properties.get("app").get("settings"));
        }
        try (PgSession s = source.session("made_by_hand")) {
            // md5 of the text hashes its bytes, which differ between LATIN1 and UTF8: the table is compared by value
            assertThat(ContentChecksum.differences(content.get("app"), ContentChecksum.of(s))).containsExactly("table public.latin");
            assertThat(s.queryValue("SELECT string_agg(t, '|' ORDER BY k) FROM latin")).contains("ä ö ü ß|é");
        }
    }

    @Test
    void ontoAnotherMajorVersion() throws Exception {
        try (ScratchCluster target = ScratchCluster.create(null, ScratchCluster.Options.defaults()
                .withBinDir(OtherPostgresVersion.binDir())).start()) {
            try (PgSession s = target.session("postgres")) {
                assertThat(s.serverVersion().major()).isNotEqualTo(15);
            }
            createTablespaces(target);
            Cli.Result r = Cli.run(args(target, "restore", "--backup", backupId, "--all-databases"));
            assertThat(r.exit()).as(r.toString()).isZero();
            assertSameAsSource(target, true);
        }
    }

    @Test
    void withoutTablespacesEverythingGoesToTheDefaultOne() {
        try (ScratchCluster target = ScratchCluster.create(null, ScratchCluster.Options.defaults()).start()) {
            Cli.Result r = Cli.run(args(target, "restore", "--backup", backupId, "--all-databases", "--no-tablespaces"));
            assertThat(r.exit()).as(r.toString()).isZero();
            assertSameAsSource(target, false);
        }
    }

    @Test
    void aDrillCreatesTheTablespacesInItsScratchDirectory() {
        Cli.Result v = Cli.run(args(source, "verify", "--backup", backupId, "--restore-test"));
        assertThat(v.exit()).as(v.toString()).isZero();
        assertThat(v.out()).contains("proven restorable: " + backupId).contains("rows icu").contains("rows template1");
    }

    /**
     * Restoring as a role that may create databases but not much else: many statements fail, one of
     * them with "permission denied". The exit code comes from pg_restore's own summary (some
     * statements failed: 11), the message counts them and lists the first, and the complete output
     * stays in a log after the spool is gone.
     */
    @Test
    void failedStatementsAreCountedAndLoggedNotGuessedFromAPhrase() throws Exception {
        try (ScratchCluster target = ScratchCluster.create(null, ScratchCluster.Options.defaults()).start()) {
            try (PgSession s = target.session("postgres")) {
                s.execute("CREATE ROLE restorer LOGIN CREATEDB");
            }
            Path spool = Files.createTempDirectory("lifeboat-it-spool-");
            try {
                List<String> a = new ArrayList<>(List.of(args(target, "restore", "--backup", backupId, "--database", "app",
                        "--no-tablespaces", "--spool-directory", spool.toString())));
                a.set(a.indexOf("--pg-user") + 1, "restorer");
                Cli.Result r = Cli.run(a.toArray(String[]::new));
                assertThat(r.exit()).as(r.toString()).isEqualTo(11);
                assertThat(r.err()).containsPattern("finished with \\d+ failed statements")
                        .contains("errors ignored on restore:").contains("(1) ").contains("complete output in ");
                String log = r.err().replaceAll("(?s).*complete output in (\\S+\\.log).*", "$1");
                String text = Files.readString(Path.of(log));
                assertThat(text).contains("permission denied").contains("pg_restore: warning: errors ignored on restore:");
                assertThat(Path.of(log)).startsWith(spool);
                try (var left = Files.list(spool)) {
                    assertThat(left.map(p -> p.getFileName().toString())).containsExactly("logs");
                }
            } finally {
                ScratchCluster.deleteTree(spool);
            }
        }
    }
}
