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

    @Test
    void probeOfAMissingDirectoryIsAStorageError() {
        assertThatThrownBy(() -> new FsStorage(dir.resolve("missing")).probe())
                .isInstanceOfSatisfying(LifeboatException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.STORAGE));
    }
}
