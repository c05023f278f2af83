package io.lifeboat.engine.physical;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class IndexedRestoreWriteTest {

    @Test
    void aPieceLargerThanOneWriteLandsWholeWhereItBelongs(@TempDir Path dir) throws Exception {
        byte[] chunk = new byte[IndexedRestore.WRITE_SLICE * 3 + 12345];
        new Random(7).nextBytes(chunk);
        Path f = Files.write(dir.resolve("rel"), new byte[100]);
        int from = 17;
        int length = chunk.length - from - 5;
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
            IndexedRestore.write(ch, chunk, from, length, 100);
        }
        byte[] out = Files.readAllBytes(f);
        assertThat(out).hasSize(100 + length);
        assertThat(Arrays.copyOfRange(out, 0, 100)).isEqualTo(new byte[100]);
        assertThat(Arrays.copyOfRange(out, 100, out.length)).isEqualTo(Arrays.copyOfRange(chunk, from, from + length));
    }
}
