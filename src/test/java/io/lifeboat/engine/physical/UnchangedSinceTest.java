package io.lifeboat.engine.physical;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class UnchangedSinceTest {
    private static final long LISTED = 1_000_000_000_000_000_000L;
    private static final long OLD = LISTED - 10_000_000_000L;

    private static DataDirectoryScan.Item now(long inode, long size, long mtime, long ctime) {
        return new DataDirectoryScan.Item("base.tar", "base/1/1", "base/1/1", Path.of("/x"), "f", size, 0600, mtime, inode,
                0, 0, null, true, "base/1", ctime);
    }

    @Test
    void aFileIsUnchangedOnlyWithTheSameInodeSizeMtimeAndCtimeWellBeforeTheListing() {
        assertThat(UnchangedSince.holds(7, 8192, OLD, OLD, LISTED, now(7, 8192, OLD, OLD))).isTrue();
        assertThat(UnchangedSince.holds(7, 8192, OLD, OLD, LISTED, now(8, 8192, OLD, OLD))).as("another inode").isFalse();
        assertThat(UnchangedSince.holds(7, 8192, OLD, OLD, LISTED, now(7, 16384, OLD, OLD))).as("extended").isFalse();
        assertThat(UnchangedSince.holds(7, 8192, OLD, OLD, LISTED, now(7, 8192, OLD + 1, OLD + 1))).as("written").isFalse();
        assertThat(UnchangedSince.holds(7, 8192, OLD, OLD, LISTED, now(7, 8192, OLD, OLD + 1)))
                .as("mtime set back after a write: the ctime moved").isFalse();
        long recent = LISTED - UnchangedSince.MARGIN_NS + 1;
        assertThat(UnchangedSince.holds(7, 8192, OLD, recent, LISTED, now(7, 8192, OLD, recent)))
                .as("changed within the margin before the listing: a write during the read may keep the same time").isFalse();
        assertThat(UnchangedSince.holds(7, 8192, OLD, null, LISTED, now(7, 8192, OLD, OLD))).as("no ctime recorded").isFalse();
        assertThat(UnchangedSince.holds(0, 8192, OLD, OLD, LISTED, now(0, 8192, OLD, OLD))).as("no inode").isFalse();
    }
}
