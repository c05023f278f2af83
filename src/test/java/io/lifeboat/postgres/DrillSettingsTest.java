package io.lifeboat.postgres;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** A restored data directory made safe to start as a drill's throw-away copy. */
class DrillSettingsTest {
    @TempDir
    Path base;

    @Test
    void pointsOutsideAreCommentedOutAndArchivingIsOff() throws Exception {
        Path data = Files.createDirectories(base.resolve("data"));
        Files.createDirectories(data.resolve("conf.d"));
        Files.write(data.resolve("postgresql.conf"), List.of(
                "data_directory = '/var/lib/postgresql/15/main'",
                "hba_file = '/etc/postgresql/15/main/pg_hba.conf'",
                "include_if_exists 'missing.conf'",
                "include_dir 'conf.d'",
                "work_mem = '8MB'"));
        Files.writeString(data.resolve("postgresql.auto.conf"), "archive_mode = 'on'\nrestore_command = 'x %f %p'\n");
        DrillSettings.apply(data, base, 54321, null);

        List<String> conf = Files.readAllLines(data.resolve("postgresql.conf"));
        assertThat(conf).contains("# (lifeboat drill) data_directory = '/var/lib/postgresql/15/main'",
                "# (lifeboat drill) hba_file = '/etc/postgresql/15/main/pg_hba.conf'",
                "# (lifeboat drill) include_if_exists 'missing.conf'", "include_dir 'conf.d'", "work_mem = '8MB'");
        String auto = Files.readString(data.resolve("postgresql.auto.conf"));
        // Later lines win: archiving is off although the original turned it on; restore_command is kept.
        assertThat(auto.indexOf("archive_mode = 'off'")).isGreaterThan(auto.indexOf("archive_mode = 'on'"));
        assertThat(auto).contains("restore_command = 'x %f %p'", "port = '54321'", "listen_addresses = '127.0.0.1'",
                "hba_file = '" + base.resolve("drill_hba.conf") + "'", "synchronous_standby_names = ''");
        // the timeline is the one the restore chose for the backup, not 'latest' (which may not hold it)
        assertThat(auto).doesNotContain("recovery_target_timeline");
        assertThat(Files.readString(base.resolve("drill_hba.conf"))).contains("host all all 127.0.0.1/32 trust")
                .doesNotContain("0.0.0.0");
    }

    @Test
    void aDataDirectoryWithoutPostgresqlConfGetsOne() throws Exception {
        Path data = Files.createDirectories(base.resolve("data"));
        DrillSettings.apply(data, base, 5433, null);
        assertThat(data.resolve("postgresql.conf")).exists();
        assertThat(Files.readString(data.resolve("postgresql.auto.conf"))).contains("port = '5433'");
    }
}
