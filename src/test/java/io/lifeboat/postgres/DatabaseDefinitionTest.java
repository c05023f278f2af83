package io.lifeboat.postgres;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class DatabaseDefinitionTest {
    /** What pg_restore 15 --create -L (the database-level entries) -f - printed for a real archive. */
    static final String SCRIPT = """
            --
            -- PostgreSQL database dump
            --

            \\restrict wXz9Titnz12gVqF5yHHz9whktKjT43uboD2YwfPk1Uc4X8h0VJHNJ8ymUg8wNz9

            SET statement_timeout = 0;
            SET client_encoding = 'LATIN1';
            SET standard_conforming_strings = on;
            SELECT pg_catalog.set_config('search_path', '', false);

            --
            -- Name: app; Type: DATABASE; Schema: -; Owner: app_owner
            --

            CREATE DATABASE app WITH TEMPLATE = template0 ENCODING = 'LATIN1' LOCALE_PROVIDER = libc LOCALE = 'C' TABLESPACE = ts1;


            ALTER DATABASE app OWNER TO app_owner;

            \\unrestrict wXz9Titnz12gVqF5yHHz9whktKjT43uboD2YwfPk1Uc4X8h0VJHNJ8ymUg8wNz9
            \\connect app
            \\restrict wXz9Titnz12gVqF5yHHz9whktKjT43uboD2YwfPk1Uc4X8h0VJHNJ8ymUg8wNz9

            SET statement_timeout = 0;
            --
            -- Name: DATABASE app; Type: COMMENT; Schema: -; Owner: app_owner
            --

            COMMENT ON DATABASE app IS 'the DATABASE app''s comment; ALTER DATABASE app';

            --
            -- Name: app; Type: DATABASE PROPERTIES; Schema: -; Owner: app_owner
            --

            ALTER DATABASE app CONNECTION LIMIT = 7;
            ALTER DATABASE app SET work_mem TO '7MB';
            ALTER DATABASE app SET search_path TO 'a', 'b c';
            ALTER ROLE database IN DATABASE app SET statement_timeout TO '5s';

            --
            -- Name: DATABASE app; Type: ACL; Schema: -; Owner: app_owner
            --

            REVOKE CONNECT,TEMPORARY ON DATABASE app FROM PUBLIC;
            SET SESSION AUTHORIZATION "we ird";
            GRANT CONNECT ON DATABASE app TO alice;
            RESET SESSION AUTHORIZATION;
            GRANT CONNECT ON DATABASE app TO "we ird" WITH GRANT OPTION;
            """;

    @Test
    void statementsAreSortedIntoCreationPropertiesAndPrivileges() {
        DatabaseDefinition d = DatabaseDefinition.parse("app", SCRIPT);
        assertThat(d.createStatements()).containsExactly(
                "CREATE DATABASE app WITH TEMPLATE = template0 ENCODING = 'LATIN1' LOCALE_PROVIDER = libc LOCALE = 'C' TABLESPACE = ts1");
        assertThat(d.ownerStatements()).containsExactly("ALTER DATABASE app OWNER TO app_owner");
        assertThat(d.propertyStatements()).containsExactly(
                "COMMENT ON DATABASE app IS 'the DATABASE app''s comment; ALTER DATABASE app'",
                "ALTER DATABASE app CONNECTION LIMIT = 7",
                "ALTER DATABASE app SET work_mem TO '7MB'",
                "ALTER DATABASE app SET search_path TO 'a', 'b c'",
                "ALTER ROLE database IN DATABASE app SET statement_timeout TO '5s'");
        assertThat(d.privilegeStatements()).hasSize(5).first().isEqualTo("REVOKE CONNECT,TEMPORARY ON DATABASE app FROM PUBLIC");
        assertThat(d.createOptions()).containsEntry("ENCODING", "LATIN1").containsEntry("LOCALE_PROVIDER", "libc")
                .containsEntry("LOCALE", "C").containsEntry("TABLESPACE", "ts1").containsEntry("TEMPLATE", "template0");
        assertThat(d.tablespace()).contains("ts1");
    }

    @Test
    void aNewNameChangesTheDatabaseIdentifierOnlyNeverTextOrOtherNames() {
        DatabaseDefinition d = DatabaseDefinition.parse("app", SCRIPT).renamed("Copy \"2\"");
        String q = "\"Copy \"\"2\"\"\"";
        assertThat(d.name()).isEqualTo("Copy \"2\"");
        assertThat(d.createStatements()).containsExactly("CREATE DATABASE " + q
                + " WITH TEMPLATE = template0 ENCODING = 'LATIN1' LOCALE_PROVIDER = libc LOCALE = 'C' TABLESPACE = ts1");
        assertThat(d.ownerStatements()).containsExactly("ALTER DATABASE " + q + " OWNER TO app_owner");
        assertThat(d.propertyStatements()).containsExactly(
                "COMMENT ON DATABASE " + q + " IS 'the DATABASE app''s comment; ALTER DATABASE app'",
                "ALTER DATABASE " + q + " CONNECTION LIMIT = 7",
                "ALTER DATABASE " + q + " SET work_mem TO '7MB'",
                "ALTER DATABASE " + q + " SET search_path TO 'a', 'b c'",
                "ALTER ROLE database IN DATABASE " + q + " SET statement_timeout TO '5s'");
        assertThat(d.privilegeStatements()).containsExactly(
                "REVOKE CONNECT,TEMPORARY ON DATABASE " + q + " FROM PUBLIC",
                "SET SESSION AUTHORIZATION \"we ird\"",
                "GRANT CONNECT ON DATABASE " + q + " TO alice",
                "RESET SESSION AUTHORIZATION",
                "GRANT CONNECT ON DATABASE " + q + " TO \"we ird\" WITH GRANT OPTION");
    }

    @Test
    void quotedNamesAreMatchedByWhatTheyName() {
        DatabaseDefinition d = DatabaseDefinition.parse("Grüße & x", """
                CREATE DATABASE "Grüße & x" WITH TEMPLATE = template0 ENCODING = 'UTF8' LOCALE_PROVIDER = icu LOCALE = 'C.UTF-8' ICU_LOCALE = 'de-DE';
                ALTER DATABASE "Grüße & x" OWNER TO "Ö";
                COMMENT ON DATABASE "Grüße & x" IS E'line\\none';
                """).renamed("plain");
        assertThat(d.createStatements()).containsExactly("CREATE DATABASE \"plain\" WITH TEMPLATE = template0 ENCODING = 'UTF8' "
                + "LOCALE_PROVIDER = icu LOCALE = 'C.UTF-8' ICU_LOCALE = 'de-DE'");
        assertThat(d.ownerStatements()).containsExactly("ALTER DATABASE \"plain\" OWNER TO \"Ö\"");
        assertThat(d.propertyStatements()).containsExactly("COMMENT ON DATABASE \"plain\" IS E'line\\none'");
        assertThat(d.createOptions()).containsEntry("ICU_LOCALE", "de-DE").containsEntry("LOCALE_PROVIDER", "icu");
        assertThat(d.tablespace()).isEmpty();
    }

    @Test
    void withoutTablespaceDropsOnlyTheClause() {
        DatabaseDefinition d = DatabaseDefinition.parse("app", SCRIPT).withoutTablespace();
        assertThat(d.createStatements()).containsExactly(
                "CREATE DATABASE app WITH TEMPLATE = template0 ENCODING = 'LATIN1' LOCALE_PROVIDER = libc LOCALE = 'C'");
        assertThat(d.tablespace()).isEmpty();
        DatabaseDefinition middle = DatabaseDefinition.parse("x", "CREATE DATABASE x WITH TEMPLATE = template0 TABLESPACE = \"T s\" "
                + "ENCODING = 'UTF8';").withoutTablespace();
        assertThat(middle.createStatements()).containsExactly("CREATE DATABASE x WITH TEMPLATE = template0 ENCODING = 'UTF8'");
    }

    @Test
    void theScriptSplitterKeepsQuotesCommentsAndDollarQuotesWhole() {
        List<SqlScript.Statement> s = SqlScript.parse("""
                SELECT 'a;b', "c;d", $x$ e;f $x$, $$g;h$$ /* i; /* nested; */ j; */ -- k;
                ; \\connect other
                SELECT E'\\';' AS l, $1;
                """);
        assertThat(s).hasSize(2);
        assertThat(s.get(0).tokens()).extracting(SqlScript.Token::kind).containsExactly(SqlScript.Kind.WORD,
                SqlScript.Kind.STRING, SqlScript.Kind.SYMBOL, SqlScript.Kind.QUOTED_IDENT, SqlScript.Kind.SYMBOL,
                SqlScript.Kind.STRING, SqlScript.Kind.SYMBOL, SqlScript.Kind.STRING);
        assertThat(s.get(0).tokens().get(5).stringValue()).isEqualTo(" e;f ");
        assertThat(s.get(1).tokens().get(1).stringValue()).isEqualTo("';");
        assertThat(s.get(1).sql()).isEqualTo("SELECT E'\\';' AS l, $1");
    }

    @Test
    void anArchiveWithoutADatabaseEntryGetsAPlainOne() {
        DatabaseDefinition d = DatabaseDefinition.plain("a\"b");
        assertThat(d.createStatements()).containsExactly("CREATE DATABASE \"a\"\"b\" WITH TEMPLATE = template0");
        assertThat(d.renamed("c").createStatements()).containsExactly("CREATE DATABASE \"c\" WITH TEMPLATE = template0");
    }
}
