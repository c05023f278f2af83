package io.lifeboat.postgres;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PgBinariesTest {
    @TempDir
    Path dir;

    private Path fakeInstall(String name, String version) throws IOException {
        Path bin = Files.createDirectories(dir.resolve(name).resolve("bin"));
        Path tool = bin.resolve("pg_dump");
        Files.writeString(tool, "#!/bin/sh\necho 'pg_dump (PostgreSQL) " + version + "'\n");
        Files.setPosixFilePermissions(tool, PosixFilePermissions.fromString("rwxr-xr-x"));
        return bin;
    }

    @Test
    void prefersTheServersMajorThenTheOldestNewer() throws IOException {
        Path v14 = fakeInstall("14", "14.10");
        Path v16 = fakeInstall("16", "16.4");
        Path v17 = fakeInstall("17", "17.2");
        PgBinaries b = PgBinaries.only(List.of(v14, v17, v16));
        assertThat(b.forMajor("pg_dump", 16, "x").path()).isEqualTo(v16.resolve("pg_dump"));
        assertThat(b.forMajor("pg_dump", 15, "x").path()).isEqualTo(v16.resolve("pg_dump"));
        assertThat(b.forMajor("pg_dump", 13, "x").path()).isEqualTo(v14.resolve("pg_dump"));
    }

    @Test
    void aTooOldPgDumpIsRefusedWithTheVersionNeeded() throws IOException {
        Path v14 = fakeInstall("14", "14.10");
        PgBinaries b = PgBinaries.only(List.of(v14));
        assertThatThrownBy(() -> b.forMajor("pg_dump", 16, "to dump a PostgreSQL 16 server"))
                .isInstanceOfSatisfying(LifeboatException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.TOOL);
                    assertThat(e.exitCode()).isEqualTo(11);
                    assertThat(e.getMessage()).contains("pg_dump 16 or newer is needed", "found only 14");
                    assertThat(e.hint()).contains("postgresql-client-16");
                });
    }

    @Test
    void eachProgramIsAskedOnceAProcessUntilItChanges() throws IOException {
        Path bin = Files.createDirectories(dir.resolve("counted").resolve("bin"));
        Path tool = bin.resolve("pg_restore");
        Path calls = dir.resolve("calls");
        Files.writeString(tool, "#!/bin/sh\necho x >> '" + calls + "'\necho 'pg_restore (PostgreSQL) 15.4'\n");
        Files.setPosixFilePermissions(tool, PosixFilePermissions.fromString("rwxr-xr-x"));
        assertThat(PgBinaries.only(List.of(bin)).forMajor("pg_restore", 15, "x").version().major()).isEqualTo(15);
        assertThat(PgBinaries.only(List.of(bin)).newest("pg_restore").version().major()).isEqualTo(15);
        assertThat(Files.readAllLines(calls)).as("asked once for two look-ups").hasSize(1);
        // an upgrade in place: another size
        Files.writeString(tool, "#!/bin/sh\necho x >> '" + calls + "'\necho 'pg_restore (PostgreSQL) 16.10'\n");
        assertThat(PgBinaries.only(List.of(bin)).newest("pg_restore").version().major()).isEqualTo(16);
        assertThat(Files.readAllLines(calls)).hasSize(2);
    }
}
