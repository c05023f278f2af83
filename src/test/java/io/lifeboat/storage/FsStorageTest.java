package io.lifeboat.storage;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FsStorageTest extends StorageContract {
    @TempDir
    Path dir;

    @Override
    protected Storage open() {
        return new FsStorage(dir);
    }

    @Test
    void leavesNoTemporaryFilesAndPrunesEmptyDirectories() throws Exception {
        storage.put("x/y/z", new byte[] {1, 2});
        try (var s = Files.walk(dir)) {
            assertThat(s.filter(Files::isRegularFile).map(p -> p.getFileName().toString())).containsExactly("z");
        }
        storage.delete("x/y/z");
        assertThat(dir.resolve("x")).doesNotExist();
    }

    /** An unmounted network filesystem leaves no repository directory: that is never "nothing there". */
    @Test
    void aVanishedRepositoryDirectoryIsAStorageErrorNeverMissing() throws Exception {
        FsStorage s = new FsStorage(dir.resolve("mnt/backups"));
        s.put("w/1", new byte[] {1});
        io.lifeboat.postgres.ScratchCluster.deleteTree(dir.resolve("mnt"));
        for (org.assertj.core.api.ThrowableAssert.ThrowingCallable c : java.util.List.<org.assertj.core.api.ThrowableAssert
                .ThrowingCallable>of(() -> s.list("w/"), () -> s.stat("w/1"), () -> s.get("w/1"))) {
            assertThatThrownBy(c).isInstanceOfSatisfying(LifeboatException.class, e -> {
                assertThat(e.kind()).isEqualTo(ErrorKind.STORAGE);
                assertThat(e.getMessage()).contains("mnt/backups", "does not exist");
            });
        }
    }

    /**
     * A writer killed before it committed leaves its temporary file: removed once its process is
     * provably gone (this host) or after it was idle for the given time (another host, or no owner
     * in the name); a live writer's file stays, however old, and so does a fresh one of another host.
     */
    @Test
    void removesOnlyTheTemporaryFilesOfDeadOrLongIdleWriters() throws Exception {
        FsStorage s = new FsStorage(dir);
        s.put("c/backups/1/a", new byte[] {1});
        ObjectWriter live = s.create("c/backups/1/b");
        live.write(new byte[] {2});
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        String host = Files.readString(Path.of("/proc/sys/kernel/hostname")).trim().replaceAll("[^A-Za-z0-9-]", "-");
        String started = Long.toString(gone.info().startInstant().map(java.time.Instant::toEpochMilli).orElse(1L));
        Path d = dir.resolve("c/backups/1");
        Path dead = Files.writeString(d.resolve(FsStorage.TEMP_MARK + host + "~" + gone.pid() + "~" + started + "~x.1"), "x");
        Path reused = Files.writeString(d.resolve(FsStorage.TEMP_MARK + host + "~" + ProcessHandle.current().pid()
                + "~12345~x.2"), "x"); // our pid, but another process's start time: the pid was reused
        Path otherFresh = Files.writeString(d.resolve(FsStorage.TEMP_MARK + "elsewhere~1~1~x.3"), "x");
        Path otherIdle = Files.writeString(d.resolve(FsStorage.TEMP_MARK + "elsewhere~1~1~x.4"), "x");
        Path oldStyleIdle = Files.writeString(d.resolve(FsStorage.TEMP_MARK + "x.5"), "x");
        java.nio.file.attribute.FileTime hourAgo = java.nio.file.attribute.FileTime.fromMillis(
                System.currentTimeMillis() - 3_600_000);
        for (Path p : java.util.List.of(otherIdle, oldStyleIdle)) {
            Files.setLastModifiedTime(p, hourAgo);
        }
        Path liveTemp;
        try (var w = Files.list(d)) {
            liveTemp = w.filter(p -> p.getFileName().toString().contains("~b.")).findFirst().orElseThrow();
        }
        Files.setLastModifiedTime(liveTemp, hourAgo);

        assertThat(s.removeAbandonedWrites("c/", java.time.Duration.ofMinutes(30))).isEqualTo(4);
        assertThat(dead).doesNotExist();
        assertThat(reused).doesNotExist();
        assertThat(otherIdle).doesNotExist();
        assertThat(oldStyleIdle).doesNotExist();
        assertThat(otherFresh).exists();
        assertThat(liveTemp).as("the temporary file of a live writer").exists();
        assertThat(s.removeAbandonedWrites("elsewhere/", java.time.Duration.ZERO)).isZero();
        live.write(new byte[] {3});
        live.commit();
        assertThat(s.get("c/backups/1/b")).containsExactly(2, 3);
        assertThat(s.get("c/backups/1/a")).containsExactly(1);
    }

    @Test
    void probeOfAMissingDirectoryIsAStorageError() {
        assertThatThrownBy(() -> new FsStorage(dir.resolve("missing")).probe())
                .isInstanceOfSatisfying(LifeboatException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.STORAGE));
    }
}
