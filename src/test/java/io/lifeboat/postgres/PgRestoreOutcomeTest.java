package io.lifeboat.postgres;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class PgRestoreOutcomeTest {
    static final PgConnectionSettings CONN = new PgConnectionSettings("db.example", 5433, "postgres", "postgres", null, null);
    static final Path LOG = Path.of("/var/tmp/spool/logs/restore-x.log");

    static PgRestoreOutcome read(int exit, List<String> extra, String... lines) {
        PgRestoreOutcome.Reader r = new PgRestoreOutcome.Reader();
        extra.forEach(r::statementFailed);
        for (String l : lines) {
            r.accept(l);
        }
        return r.finish("database 'app'", exit, LOG);
    }

    @Test
    void manyErrorsAreCountedFromTheSummaryWhateverTheirWords() {
        String[] lines = new String[98 * 4 + 1];
        for (int i = 0; i < 98; i++) {
            lines[i * 4] = "pg_restore: while PROCESSING TOC:";
            lines[i * 4 + 1] = "pg_restore: from TOC entry " + (200 + i) + "; 1255 16400 FUNCTION public f" + i + "() postgres";
            lines[i * 4 + 2] = "pg_restore: error: could not execute query: ERROR:  " + (i == 3 ? "permission denied for schema s"
                    : "could not load library \"/usr/lib/postgresql/15/lib/regress.so\"");
            lines[i * 4 + 3] = "Command was: CREATE FUNCTION public.f" + i + "() ...";
        }
        lines[98 * 4] = "pg_restore: warning: errors ignored on restore: 98";
        PgRestoreOutcome o = read(1, List.of(), lines);
        assertThat(o.ok()).isFalse();
        assertThat(o.completed()).isTrue();
        assertThat(o.errors()).isEqualTo(98);
        assertThat(o.firstErrors()).hasSize(PgRestoreOutcome.FIRST_ERRORS).first().asString()
                .isEqualTo("TOC entry 200; 1255 16400 FUNCTION public f0() postgres: could not execute query: ERROR:  could not "
                        + "load library \"/usr/lib/postgresql/15/lib/regress.so\"");
        LifeboatException e = o.failure(CONN);
        assertThat(e.kind()).isEqualTo(ErrorKind.TOOL);
        assertThat(e.getMessage()).contains("finished with 98 failed statements").contains("errors ignored on restore: 98")
                .contains("(4) TOC entry 203").contains("permission denied for schema s").contains(LOG.toString());
    }

    @Test
    void statementsOfTheDatabaseDefinitionCountToo() {
        PgRestoreOutcome o = read(0, List.of("ALTER DATABASE app OWNER TO x: ERROR: role \"x\" does not exist"));
        assertThat(o.ok()).isFalse();
        assertThat(o.errors()).isEqualTo(1);
        LifeboatException e = o.failure(CONN);
        assertThat(e.kind()).isEqualTo(ErrorKind.TOOL);
        assertThat(e.getMessage()).contains("1 failed statement (pg_restore exit 0)").contains("(1) ALTER DATABASE app OWNER TO x");
        assertThat(e.hint()).contains("--globals").contains("--no-owner");
    }

    @Test
    void aRunThatStoppedIsJudgedByItsLastError() {
        PgRestoreOutcome lost = read(1, List.of(),
                "pg_restore: error: could not execute query: ERROR:  permission denied for table t",
                "pg_restore: error: connection to server at \"db.example\", port 5433 failed: Connection refused");
        assertThat(lost.completed()).isFalse();
        LifeboatException e = lost.failure(CONN);
        assertThat(e.kind()).isEqualTo(ErrorKind.DATABASE);
        assertThat(e.getMessage()).contains("cannot connect to db.example:5433").contains(LOG.toString());

        LifeboatException disk = read(1, List.of(), "pg_restore: error: could not write to file: No space left on device")
                .failure(CONN);
        assertThat(disk.kind()).isEqualTo(ErrorKind.RESOURCE);

        LifeboatException other = read(1, List.of(), "pg_restore: error: unsupported version (1.16) in file header").failure(CONN);
        assertThat(other.kind()).isEqualTo(ErrorKind.TOOL);
    }

    @Test
    void theFailedStatementsOfSeveralRunsOverOneArchiveAddUp() {
        PgRestoreOutcome.Reader r = new PgRestoreOutcome.Reader();
        r.accept("pg_restore: error: could not execute query: ERROR:  could not load library \"regress.so\"");
        r.accept("pg_restore: warning: errors ignored on restore: 1");
        r.runEnded(1);
        r.accept("pg_restore: error: could not execute query: ERROR:  permission denied for table t");
        r.accept("pg_restore: error: could not execute query: ERROR:  permission denied for table u");
        r.accept("pg_restore: warning: errors ignored on restore: 2");
        r.runEnded(1);
        PgRestoreOutcome o = r.finish("database 'app'", LOG);
        assertThat(r.stopped()).isFalse();
        assertThat(o.completed()).isTrue();
        assertThat(o.errors()).isEqualTo(3);
        assertThat(o.failure(CONN).getMessage()).contains("finished with 3 failed statements").contains("(3) could not execute query: ERROR:  permission denied for table u");
    }

    @Test
    void aLaterRunThatStoppedMakesTheRestoreAStoppedOne() {
        PgRestoreOutcome.Reader r = new PgRestoreOutcome.Reader();
        r.accept("pg_restore: warning: errors ignored on restore: 4");
        r.runEnded(1);
        r.accept("pg_restore: error: could not write to file: No space left on device");
        r.runEnded(1);
        PgRestoreOutcome o = r.finish("database 'app'", LOG);
        assertThat(r.stopped()).isTrue();
        assertThat(o.completed()).isFalse();
        assertThat(o.failure(CONN).kind()).isEqualTo(ErrorKind.RESOURCE);

        PgRestoreOutcome.Reader clean = new PgRestoreOutcome.Reader();
        clean.runEnded(0);
        clean.runEnded(0);
        assertThat(clean.finish("database 'app'", LOG).ok()).isTrue();
    }

    @Test
    void aCleanRunIsOk() {
        PgRestoreOutcome o = read(0, List.of(), "pg_restore: warning: something harmless");
        assertThat(o.ok()).isTrue();
        assertThat(o.summary()).isEqualTo("ok");
    }
}
