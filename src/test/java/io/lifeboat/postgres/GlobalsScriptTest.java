package io.lifeboat.postgres;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class GlobalsScriptTest {
    static final String SCRIPT = """
            --
            -- PostgreSQL database cluster dump
            --

            \\restrict abc

            SET default_transaction_read_only = off;
            SET client_encoding = 'UTF8';
            CREATE ROLE app_owner;
            ALTER ROLE app_owner WITH NOSUPERUSER INHERIT LOGIN PASSWORD 'SCRAM-SHA-256$4096:c2FsdA==$a:b';
            COMMENT ON ROLE app_owner IS 'CREATE TABLESPACE x LOCATION ''/nope''';
            CREATE TABLESPACE ts1 OWNER postgres LOCATION '/srv/pg/ts1';
            CREATE TABLESPACE "Big One" OWNER app_owner LOCATION '/srv/pg/it''s';
            ALTER TABLESPACE ts1 SET (random_page_cost='1.1');

            \\unrestrict abc
            """;

    @Test
    void tablespacesAndTheirLocations() {
        assertThat(GlobalsScript.tablespaces(SCRIPT)).containsExactly(
                java.util.Map.entry("ts1", "/srv/pg/ts1"), java.util.Map.entry("Big One", "/srv/pg/it's"));
    }

    @Test
    void relocationChangesOnlyTheLocations() {
        String moved = GlobalsScript.relocateTablespaces(SCRIPT, t -> Path.of("/scratch", t));
        assertThat(moved).contains("CREATE TABLESPACE ts1 OWNER postgres LOCATION '/scratch/ts1';\n")
                .contains("CREATE TABLESPACE \"Big One\" OWNER app_owner LOCATION '/scratch/Big One';\n")
                .contains("PASSWORD 'SCRAM-SHA-256$4096:c2FsdA==$a:b';\n")
                .contains("COMMENT ON ROLE app_owner IS 'CREATE TABLESPACE x LOCATION ''/nope''';\n")
                .contains("SET default_transaction_read_only = off;\n")
                .doesNotContain("/srv/pg").doesNotContain("\\restrict");
        assertThat(GlobalsScript.tablespaces(moved)).containsEntry("ts1", "/scratch/ts1");
    }
}
