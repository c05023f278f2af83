package io.lifeboat.postgres;

import io.lifeboat.LifeboatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RestoredServerSettingsTest {
    @TempDir
    Path data;

    /** A standby's data directory as pg_basebackup -R leaves it (and a backup of that standby restores it). */
    void standbyFiles() throws Exception {
        Files.writeString(data.resolve("postgresql.auto.conf"), "primary_conninfo = 'host=prod port=5432 user=rep'\n");
        Files.writeString(data.resolve("standby.signal"), "");
    }

    @Test
    void byDefaultACopyNeitherArchivesNorFollowsAPrimary() throws Exception {
        standbyFiles();
        assertThat(RestoredServerSettings.fromStandby(data)).isTrue();
        assertThat(RestoredServerSettings.DEFAULT.writeTo(data)).containsExactly("postgresql.auto.conf",
                "standby.signal (removed)");
        assertThat(data.resolve("standby.signal")).doesNotExist();
        String conf = Files.readString(data.resolve("postgresql.auto.conf"));
        // later lines win in PostgreSQL's configuration files
        assertThat(conf.substring(conf.indexOf("written by lifeboat restore"))).contains("archive_mode = 'off'",
                "primary_conninfo = ''", "primary_slot_name = ''");
    }

    @Test
    void aStandbyAndArchivingAreKeptWhenAskedFor() throws Exception {
        standbyFiles();
        RestoredServerSettings keep = new RestoredServerSettings(RestoredServerSettings.ArchiveMode.PRESERVE, true);
        assertThat(keep.writeTo(data)).isEmpty();
        assertThat(data.resolve("standby.signal")).exists();
        assertThat(Files.readString(data.resolve("postgresql.auto.conf"))).isEqualTo(
                "primary_conninfo = 'host=prod port=5432 user=rep'\n");
        // --standby of a primary's backup: made a standby (PostgreSQL prefers standby.signal to recovery.signal)
        Files.delete(data.resolve("standby.signal"));
        assertThat(new RestoredServerSettings(RestoredServerSettings.ArchiveMode.OFF, true).writeTo(data))
                .containsExactly("postgresql.auto.conf", "standby.signal");
        assertThat(Files.readString(data.resolve("postgresql.auto.conf"))).contains("archive_mode = 'off'")
                .doesNotContain("primary_conninfo = ''");
    }

    @Test
    void archiveModes() {
        assertThat(RestoredServerSettings.ArchiveMode.parse(null)).isEqualTo(RestoredServerSettings.ArchiveMode.OFF);
        assertThat(RestoredServerSettings.ArchiveMode.parse("Preserve")).isEqualTo(RestoredServerSettings.ArchiveMode.PRESERVE);
        assertThatThrownBy(() -> RestoredServerSettings.ArchiveMode.parse("on")).isInstanceOfSatisfying(
                LifeboatException.class, e -> assertThat(e.exitCode()).isEqualTo(2));
    }
}
