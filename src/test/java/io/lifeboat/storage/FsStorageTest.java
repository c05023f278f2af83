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

    @Test
    void probeOfAMissingDirectoryIsAStorageError() {
        assertThatThrownBy(() -> new FsStorage(dir.resolve("missing")).probe())
                .isInstanceOfSatisfying(LifeboatException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.STORAGE));
    }
}
