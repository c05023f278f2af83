package io.lifeboat.engine.physical;

import io.lifeboat.postgres.ExternalProcess;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class OwnershipTest {
    @Test
    void fieldsComeFromTheMatchingLine(@TempDir Path dir) throws IOException {
        Path passwd = dir.resolve("passwd");
        Files.writeString(passwd, """
                root:x:0:0:root:/root:/bin/bash
                postgresql:x:106:113::/nonexistent:/usr/sbin/nologin
                postgres:x:105:112:PostgreSQL administrator:/var/lib/postgresql:/bin/bash
                broken:x:107
                odd:x:108:abc::/:/bin/sh
                """);
        assertThat(Ownership.field(passwd, 0, "postgres", 3)).isEqualTo("112");
        assertThat(Ownership.field(passwd, 0, "root", 3)).isEqualTo("0");
        assertThat(Ownership.field(passwd, 0, "postgre", 3)).isNull();
        assertThat(Ownership.field(passwd, 0, "broken", 3)).isNull();
        assertThat(Ownership.field(passwd, 0, "odd", 3)).as("a gid that is no number").isNull();
        assertThat(Ownership.field(dir.resolve("missing"), 0, "postgres", 3)).isNull();
        Path group = dir.resolve("group");
        Files.writeString(group, "root:x:0:\nssl-cert:x:112:postgres\npostgres:x:112:\n");
        assertThat(Ownership.field(group, 2, "112", 0)).as("the first line with that gid").isEqualTo("ssl-cert");
        assertThat(Ownership.field(group, 2, "999", 0)).isNull();
    }

    @Test
    void asRootTheFilesGetTheGroupIdNames() {
        Assumptions.assumeTrue(ExternalProcess.runningAsRoot(), "only root hands files to another user");
        ExternalProcess.Result id = new ExternalProcess(List.of("id", "-gn", "postgres"), Map.of()).run();
        Assumptions.assumeTrue(id.ok(), "no OS user postgres here");
        assertThat(Ownership.of("postgres").group()).isNotNull()
                .satisfies(g -> assertThat(g.getName()).isEqualTo(id.stdout().trim()));
    }
}
