package io.lifeboat.cli;

import org.junit.jupiter.api.Test;

import io.lifeboat.config.ClusterConfig;
import io.lifeboat.config.ConfigLoader;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The configuration options a restore's arguments give, read the way picocli reads them. */
class AheadOfCommandTest {
    @Test
    void readsTheClusterOptionsInEveryForm() {
        assertThat(AheadOfCommand.options(new String[] {"restore", "--config", "/a.yml", "--cluster=pb", "-D", "/d",
                "--allow-same-server", "--repo", "s3://b/p", "-j4", "--type", "physical"}))
                .isEqualTo(Map.of("config", "/a.yml", "cluster", "pb", "allow-same-server", "true", "repo", "s3://b/p",
                        "jobs", "4"));
        assertThat(AheadOfCommand.options(new String[] {"restore", "-c/b.yml", "--allow-same-server=false", "-c", "/c.yml"}))
                .as("the last one counts").isEqualTo(Map.of("config", "/c.yml", "allow-same-server", "false"));
        assertThat(AheadOfCommand.options(new String[] {"restore", "-D", "/d", "--", "--cluster", "x"})).isEmpty();
    }

    @TempDir
    Path dir;

    private ClusterConfig config() throws Exception {
        Path yml = dir.resolve("lifeboat.yml");
        Files.writeString(yml, "clusters:\n  c:\n    postgres:\n      host: 127.0.0.1\n      database: app\n"
                + "    repositories:\n      - uri: file://" + dir + "\n");
        return ConfigLoader.load(yml, null, Map.of(), Map.of());
    }

    @Test
    void readsOneOptionsValuesInEveryFormAndSkipsOtherOptionsValues() {
        assertThat(AheadOfCommand.values(new String[] {"backup", "-d", "a", "--database=b", "-dc", "--database", "d",
                "--cluster", "-d", "--", "-d", "e"}, "--database", "-d")).containsExactly("a", "b", "c", "d");
    }

    @Test
    void aLogicalBackupsFirstSessionIsTheOneLogicalBackupOpens() throws Exception {
        ClusterConfig c = config();
        assertThat(AheadOfCommand.backupSession(new String[] {"backup", "--type", "physical"})).isNull();
        assertThat(AheadOfCommand.backupSession(new String[] {"backup", "--type", "logical"}).apply(c))
                .isEqualTo(c.postgres());
        assertThat(AheadOfCommand.backupSession(new String[] {"backup", "-t", "logical", "-d", "x", "-d", "y"}).apply(c))
                .isEqualTo(c.postgres().withDatabase("x"));
        assertThat(AheadOfCommand.backupSession(new String[] {"backup", "-tlogical", "--all-databases"}).apply(c))
                .as("all databases: the configured one").isEqualTo(c.postgres());
        assertThat(AheadOfCommand.backupTools(new String[] {"backup", "--no-globals"})).containsExactly("pg_dump");
        assertThat(AheadOfCommand.backupTools(new String[] {"backup"})).containsExactly("pg_dump", "pg_dumpall");
    }

    @Test
    void aLogicalRestoreConnectsToPostgresAndAPhysicalOneToNothing() throws Exception {
        ClusterConfig c = config();
        assertThat(AheadOfCommand.restoreSession(new String[] {"restore", "--target-database", "n"}).apply(c))
                .isEqualTo(c.postgres().withDatabase("postgres"));
        assertThat(AheadOfCommand.restoreSession(new String[] {"restore", "-D", "/d"})).isNull();
        assertThat(AheadOfCommand.restoreSession(new String[] {"restore", "--type", "physical"})).isNull();
        assertThat(AheadOfCommand.restoreSession(new String[] {"restore", "-b", "20261124T220512Z-P"})).isNull();
        assertThat(AheadOfCommand.restoreSession(new String[] {"restore", "-b", "20261124T220512Z-L"})).isNotNull();
        assertThat(AheadOfCommand.restoreSession(new String[] {"restore", "-t", "logical", "-D", "/d"})).isNotNull();
        assertThat(AheadOfCommand.restoreTools(new String[] {"restore", "--all-databases"}))
                .containsExactly("pg_restore", "psql");
        assertThat(AheadOfCommand.restoreTools(new String[] {"restore", "--all-databases", "--no-globals"}))
                .isEqualTo(List.of("pg_restore"));
    }
}
