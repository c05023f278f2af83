package io.lifeboat.postgres;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The two pg_restore runs of a restore: the pre-data section first (while the data downloads), then the rest. */
class PgRestoreSplitTest {
    // `pg_restore --list` of an archive, in its order, and `--list --section=pre-data` of it
    static final List<String> ALL = List.of(
            "3; 2615 2200 SCHEMA - public postgres",
            "214; 1259 16386 TABLE public audit app",
            "215; 1255 16390 FUNCTION public f() app",
            "3360; 0 0 ACL - SCHEMA public postgres",
            "3361; 0 16386 ACL public TABLE audit app",
            "3356; 0 16386 TABLE DATA public audit app",
            "3209; 2606 16405 CONSTRAINT public audit audit_pkey app",
            "3210; 1259 16406 INDEX public audit_k app",
            "3362; 826 16407 DEFAULT ACL - DEFAULT PRIVILEGES FOR TABLES public app",
            "3363; 3466 16408 EVENT TRIGGER - on_ddl app",
            "3364; 0 16409 MATERIALIZED VIEW DATA public mv app");
    static final List<String> PRE_DATA = List.of(ALL.get(0), ALL.get(1), ALL.get(2), ALL.get(3), ALL.get(4));

    @Test
    void privilegesWaitForTheDataAsInOneRun() {
        // a REVOKE of the owner's INSERT before the data would stop a non-superuser's load
        assertThat(PgRestore.schemaEntries(PRE_DATA)).containsExactly(ALL.get(0), ALL.get(1), ALL.get(2));
    }

    @Test
    void theSecondRunRestoresEverythingElseInTheArchivesOrder() {
        List<String> schema = PgRestore.schemaEntries(PRE_DATA);
        List<String> rest = PgRestore.restEntries(ALL, schema);
        assertThat(rest).containsExactly(ALL.get(3), ALL.get(4), ALL.get(5), ALL.get(6), ALL.get(7), ALL.get(8), ALL.get(9),
                ALL.get(10));
        assertThat(rest).doesNotContainAnyElementsOf(schema);
        assertThat(schema.size() + rest.size()).isEqualTo(ALL.size());
    }
}
