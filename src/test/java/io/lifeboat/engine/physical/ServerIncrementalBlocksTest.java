package io.lifeboat.engine.physical;

import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.BackupId;
import io.lifeboat.catalog.BackupType;
import io.lifeboat.catalog.FileIndex;
import io.lifeboat.codec.Crc32c;
import io.lifeboat.postgres.PgVersion;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** pg_combinebackup's rules for a file the newest backup holds as INCREMENTAL.*, on hand-made chains. */
class ServerIncrementalBlocksTest {
    private static final int BS = 8192;
    private static final String PATH = "base/5/16384";

    private static FileIndex.Entry whole(int blocks, long at) {
        int[] crcs = new int[blocks];
        for (int i = 0; i < blocks; i++) {
            crcs[i] = 100 + i;
        }
        return new FileIndex.Entry(PATH, "f", 0600, 0, 0, (long) blocks * BS, null, "base.tar", at, null, true,
                List.<long[]>of(new long[] {0, blocks, at}), FileIndex.packCrcs(crcs, blocks), null);
    }

    /** @param runs {first block, count, offset} */
    private static FileIndex.Entry incremental(int truncation, int size, long[]... runs) {
        int n = 0;
        for (long[] r : runs) {
            n += (int) r[1];
        }
        int[] crcs = new int[n];
        for (int i = 0; i < n; i++) {
            crcs[i] = 200 + i;
        }
        return new FileIndex.Entry(PATH, "f", 0600, 0, 0, (long) size * BS, null, "base.tar", 0, null, true,
                List.of(runs), FileIndex.packCrcs(crcs, n), null, truncation);
    }

    private static ChainView chain(FileIndex.Entry... entries) {
        List<ChainView.Link> links = new ArrayList<>();
        Instant t = Instant.parse("2026-12-01T10:00:00Z");
        for (FileIndex.Entry e : entries) {
            t = t.plusSeconds(60);
            links.add(ChainView.Link.of(RemoteIncremental.provisional(BackupId.of(t, BackupType.PHYSICAL), "c", t,
                    new PgVersion(170002), "1"), new FileIndex(1, BS, List.of(e))));
        }
        return new ChainView(links);
    }

    @Test
    void blocksComeFromTheNewestHolderBelowTheTruncationLengthAndAreZerosAbove() {
        // full: 4 blocks; first incremental: block 1 changed; newest: truncated to 2 blocks, then block 3 written.
        ChainView c = chain(whole(4, 10_000), incremental(4, 4, new long[] {1, 1, 500}),
                incremental(2, 4, new long[] {3, 1, 700}));
        ChainView.Resolved r = c.resolve(c.entry(PATH));
        assertThat(r.extents()).extracting(ChainView.Extent::fileOffset, ChainView.Extent::link, ChainView.Extent::streamOffset)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(0L, 0, 10_000L),
                        org.assertj.core.groups.Tuple.tuple((long) BS, 1, 500L),
                        org.assertj.core.groups.Tuple.tuple(3L * BS, 2, 700L));
        int zero = Crc32c.of(new byte[BS], 0, BS);
        assertThat(r.blockCrcs()).containsExactly(100, 200, zero, 200); // block 2 is zeros, not the full backup's
    }

    @Test
    void aWholeCopyEndsTheSearchAndOnlyItsOwnBlocksCount() {
        // full: 4 blocks; middle: the file whole again, 2 blocks; newest: truncation length 3, no blocks.
        ChainView c = chain(whole(4, 10_000), whole(2, 300), incremental(3, 3));
        ChainView.Resolved r = c.resolve(c.entry(PATH));
        assertThat(r.extents()).hasSize(1);
        assertThat(r.extents().get(0)).isEqualTo(new ChainView.Extent(0, 2L * BS, 1, "base.tar", 300));
        assertThat(r.blockCrcs()).hasSize(3).startsWith(100, 101);
        assertThat(r.entry().size()).isEqualTo(3L * BS);
    }

    @Test
    void aChainWithoutTheFileIsRefusedNamingTheBackup() {
        FileIndex.Entry other = new FileIndex.Entry("base/5/99999", "f", 0600, 0, 0, BS, null, "base.tar", 0, 1, false,
                null, null, null);
        ChainView c = chain(other, incremental(1, 1));
        assertThatThrownBy(() -> c.resolve(c.entry(PATH))).isInstanceOf(LifeboatException.class)
                .hasMessageContaining(c.links().get(0).manifest().id().toString()).hasMessageContaining(PATH);
    }
}
