package io.lifeboat.engine.physical;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class RestoredStateTest {
    private static final long S = 1_000_000_000L;

    private static RestoredState.Stat stat(long inode, long size, long mtime, long ctime) {
        return new RestoredState.Stat("base/5/1", inode, size, mtime, ctime);
    }

    @Test
    void aFileIsUnchangedOnlyWithTheSameInodeSizeMtimeAndCtime() {
        RestoredState.Stat was = stat(7, 8192, 100 * S, 200 * S);
        long at = 300 * S;
        assertThat(RestoredState.holds(was, stat(7, 8192, 100 * S, 200 * S), at)).isTrue();
        assertThat(RestoredState.holds(was, stat(8, 8192, 100 * S, 200 * S), at)).as("another inode").isFalse();
        assertThat(RestoredState.holds(was, stat(7, 16384, 100 * S, 200 * S), at)).as("another size").isFalse();
        assertThat(RestoredState.holds(was, stat(7, 8192, 100 * S + 1, 200 * S), at)).as("another mtime").isFalse();
        assertThat(RestoredState.holds(was, stat(7, 8192, 100 * S, 200 * S + 1), at)).as("written since: the ctime")
                .isFalse();
        assertThat(RestoredState.holds(stat(0, 8192, 100 * S, 200 * S), stat(0, 8192, 100 * S, 200 * S), at))
                .as("no inode known").isFalse();
    }

    @Test
    void aChangeJustBeforeTheRecordCountsOnlyWhenTheMtimeWasSetBackWellBeforeIt() {
        long at = 300 * S;
        // Written within the margin before the record, mtime = ctime (an ordinary write): a write in the same
        // clock tick after the record could leave every time as recorded.
        RestoredState.Stat written = stat(7, 8192, at - S, at - S);
        assertThat(RestoredState.holds(written, written, at)).isFalse();
        // The restore set the mtime to the backup's, long before: any later write moves the mtime to now.
        RestoredState.Stat restored = stat(7, 8192, 100 * S, at - S);
        assertThat(RestoredState.holds(restored, restored, at)).isTrue();
        // Old enough on its own.
        RestoredState.Stat old = stat(7, 8192, at - 3 * S, at - 3 * S);
        assertThat(RestoredState.holds(old, old, at)).isTrue();
    }

    @Test
    void aWriteThatKeepsSizeAndMtimeIsSeenByItsCtimeAndTheRecordIsOfThisDirectoryOnly(@TempDir Path dir)
            throws Exception {
        Path f = Files.write(dir.resolve("PG_VERSION"), "15\n".getBytes());
        Files.setLastModifiedTime(f, FileTime.fromMillis(1_000_000L));
        RestoredState state = RestoredState.take("20261201T000000Z-P", "42", dir, Map.of(), true);
        assertThat(state.unchanged("PG_VERSION", f)).isTrue();
        state.write(dir, Ownership.choose(null, dir));
        RestoredState again = RestoredState.read(dir, "42", m -> { });
        assertThat(again).isNotNull();
        assertThat(again.synced()).isTrue();
        assertThat(again.unchanged("PG_VERSION", f)).isTrue();
        assertThat(again.unchanged("other", f)).as("not recorded").isFalse();
        assertThat(RestoredState.read(dir, "43", m -> { })).as("another cluster").isNull();

        Thread.sleep(10);
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap("16".getBytes()), 0);
        }
        Files.setLastModifiedTime(f, FileTime.fromMillis(1_000_000L));
        assertThat(again.unchanged("PG_VERSION", f)).as("written, mtime set back").isFalse();

        // The record copied into another directory describes nothing there.
        Path other = Files.createDirectory(dir.resolve("copy"));
        Files.copy(dir.resolve(RestoredState.FILE), other.resolve(RestoredState.FILE));
        List<String> said = new ArrayList<>();
        assertThat(RestoredState.read(other, "42", said::add)).isNull();
        assertThat(said).singleElement().asString().contains("does not describe this directory");
    }
}
