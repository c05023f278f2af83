package io.lifeboat.postgres;

import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class BaseBackupRulesTest {
    @Test
    void relationFileNames() {
        assertThat(RelationFile.parse("16385")).contains(new RelationFile(16385, RelationFile.Fork.MAIN, 0, false));
        assertThat(RelationFile.parse("16385.3")).contains(new RelationFile(16385, RelationFile.Fork.MAIN, 3, false));
        assertThat(RelationFile.parse("16385_vm")).contains(new RelationFile(16385, RelationFile.Fork.VM, 0, false));
        assertThat(RelationFile.parse("16385_fsm.1")).contains(new RelationFile(16385, RelationFile.Fork.FSM, 1, false));
        assertThat(RelationFile.parse("t3_16385_init")).contains(new RelationFile(16385, RelationFile.Fork.INIT, 0, true));
        for (String no : new String[] {"PG_VERSION", "pg_filenode.map", "16385.0", "0", "16385_foo", "16385.", "99999999999"}) {
            assertThat(RelationFile.parse(no)).as(no).isEmpty();
        }
    }

    @Test
    void whatABaseBackupLeavesOut() {
        for (String name : new String[] {"postmaster.pid", "postmaster.opts", "backup_label", "tablespace_map",
                "backup_manifest", "pg_internal.init", "pg_internal.init.123", "pgsql_tmp", "pgsql_tmp4711.1",
                "postgresql.auto.conf.tmp", "current_logfiles.tmp"}) {
            assertThat(BaseBackupRules.skipped(name)).as(name).isTrue();
        }
        for (String name : new String[] {"postgresql.auto.conf", "PG_VERSION", "pg_control", "16385", "current_logfiles",
                "standby.signal"}) {
            assertThat(BaseBackupRules.skipped(name)).as(name).isFalse();
        }
        assertThat(BaseBackupRules.contentsSkipped("pg_replslot")).isTrue();
        assertThat(BaseBackupRules.contentsSkipped("pg_subtrans")).isTrue();
        assertThat(BaseBackupRules.contentsSkipped("pg_xact")).isFalse();
        Set<String> dir = Set.of("16385", "16385_fsm", "16385_init", "16390", "t3_16400");
        assertThat(BaseBackupRules.skippedInDatabase("16385", dir)).as("unlogged main fork").isTrue();
        assertThat(BaseBackupRules.skippedInDatabase("16385_fsm", dir)).isTrue();
        assertThat(BaseBackupRules.skippedInDatabase("16385_init", dir)).as("the init fork stays").isFalse();
        assertThat(BaseBackupRules.skippedInDatabase("16390", dir)).isFalse();
        assertThat(BaseBackupRules.skippedInDatabase("t3_16400", dir)).as("temporary").isTrue();
        assertThat(BaseBackupRules.skippedInDatabase("PG_VERSION", dir)).isFalse();
    }

    @Test
    void databaseDirectories() {
        String v = BaseBackupRules.tablespaceVersionDirectory(15, 202209061);
        assertThat(v).isEqualTo("PG_15_202209061");
        assertThat(BaseBackupRules.isDatabaseDirectory("base", "16384", v)).isTrue();
        assertThat(BaseBackupRules.isDatabaseDirectory(v, "16384", v)).isTrue();
        assertThat(BaseBackupRules.isDatabaseDirectory("pg_tblspc/16500/" + v, "5", v)).isTrue();
        assertThat(BaseBackupRules.isDatabaseDirectory("base", "pgsql_tmp", v)).isFalse();
        assertThat(BaseBackupRules.isDatabaseDirectory("global", "1", v)).isFalse();
    }
}
