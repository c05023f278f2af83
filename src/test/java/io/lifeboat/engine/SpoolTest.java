package io.lifeboat.engine;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** A spool names its owner; only spools whose owner is gone are removed by the next run. */
class SpoolTest {
    @TempDir
    Path parent;

    @Test
    void removesOnlySpoolsOfDeadOwners() throws Exception {
        Process p = new ProcessBuilder("sleep", "30").start();
        String deadOwner = Spool.owner(p.toHandle()).orElseThrow();
        p.destroyForcibly().waitFor();
        Path dead = Files.createDirectory(parent.resolve("dead"));
        Files.writeString(dead.resolve(Spool.OWNER_FILE), deadOwner + "\n");
        Files.writeString(dead.resolve("data"), "x");
        Path reused = Files.createDirectory(parent.resolve("reused-pid"));
        // our own pid, but another start time: a process that has gone, its pid taken by us
        Files.writeString(reused.resolve(Spool.OWNER_FILE), ProcessHandle.current().pid() + " 1\n");
        Path unmarked = Files.createDirectory(parent.resolve("unmarked"));
        Path garbled = Files.createDirectory(parent.resolve("garbled"));
        Files.writeString(garbled.resolve(Spool.OWNER_FILE), "not an owner\n");

        List<String> log = new ArrayList<>();
        try (Spool live = Spool.create(parent, "live", -1, log::add)) {
            assertThat(Files.readString(live.dir().resolve(Spool.OWNER_FILE)).strip())
                    .isEqualTo(Spool.owner(ProcessHandle.current()).orElseThrow());
            assertThat(dead).doesNotExist();
            assertThat(reused).doesNotExist();
            assertThat(unmarked).exists();
            assertThat(garbled).exists();
            assertThat(log).hasSize(2).allMatch(l -> l.startsWith("removed the spool of an earlier run"));

            // a second run does not touch the live one
            try (Spool other = Spool.create(parent, "other", -1, log::add)) {
                assertThat(live.dir()).exists();
            }
        }
        assertThat(parent.resolve("live")).doesNotExist();
    }
}
