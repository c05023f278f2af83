package io.lifeboat.postgres;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** PostgreSQL 17's INCREMENTAL.* file header, built by hand as the server writes it. */
class IncrementalFileTest {
    private static final int BLCKSZ = 8192;
    private static final int SEGMENT = 131072;

    /** magic, count, truncation length, block numbers, padded to a block when there are blocks, then the blocks. */
    static byte[] file(int magic, int truncation, int... blocks) {
        int header = 12 + 4 * blocks.length;
        if (blocks.length > 0 && header % BLCKSZ != 0) {
            header += BLCKSZ - header % BLCKSZ;
        }
        ByteBuffer b = ByteBuffer.allocate(header + blocks.length * BLCKSZ).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(magic).putInt(blocks.length).putInt(truncation);
        for (int n : blocks) {
            b.putInt(n);
        }
        for (int i = 0; i < blocks.length; i++) {
            Arrays.fill(b.array(), header + i * BLCKSZ, header + (i + 1) * BLCKSZ, (byte) (i + 1));
        }
        return b.array();
    }

    @Test
    void readsTheHeaderOfAFileWithBlocks() {
        byte[] f = file(IncrementalFile.MAGIC, 10, 0, 3, 4, 12);
        assertThat(IncrementalFile.headerLength(Arrays.copyOf(f, 12), BLCKSZ, SEGMENT, "f")).isEqualTo(BLCKSZ);
        IncrementalFile h = IncrementalFile.parse(f, f.length, BLCKSZ, SEGMENT, "f");
        assertThat(h.blocks()).containsExactly(0, 3, 4, 12);
        assertThat(h.truncationBlocks()).isEqualTo(10);
        assertThat(h.headerLength()).isEqualTo(BLCKSZ);
        assertThat(h.reconstructedBlocks()).isEqualTo(13); // block 12 lies beyond the truncation length
        assertThat(f[h.headerLength() + 2 * BLCKSZ]).isEqualTo((byte) 3); // the third block (number 4) follows
    }

    @Test
    void aFileWithoutBlocksIsTwelveBytesAndUnpadded() {
        byte[] f = file(IncrementalFile.MAGIC, 7);
        assertThat(f).hasSize(12);
        IncrementalFile h = IncrementalFile.parse(f, f.length, BLCKSZ, SEGMENT, "f");
        assertThat(h.blocks()).isEmpty();
        assertThat(h.headerLength()).isEqualTo(12);
        assertThat(h.reconstructedBlocks()).isEqualTo(7);
    }

    @Test
    void aLongBlockListPadsTheHeaderToSeveralBlocks() {
        int[] blocks = new int[3000];
        for (int i = 0; i < blocks.length; i++) {
            blocks[i] = 2 * i;
        }
        byte[] f = file(IncrementalFile.MAGIC, 6000, blocks);
        IncrementalFile h = IncrementalFile.parse(f, f.length, BLCKSZ, SEGMENT, "f");
        assertThat(h.headerLength()).isEqualTo(2 * BLCKSZ);
        assertThat(h.blocks()).hasSize(3000).endsWith(5998);
    }

    @Test
    void aWrongMagicNumberIsRefused() {
        byte[] f = file(0x12345678, 1, 0);
        assertThatThrownBy(() -> IncrementalFile.parse(f, f.length, BLCKSZ, SEGMENT, "INCREMENTAL.16384"))
                .isInstanceOf(LifeboatException.class).hasMessageContaining("INCREMENTAL.16384")
                .hasMessageContaining("magic number 0x12345678")
                .satisfies(e -> assertThat(((LifeboatException) e).kind()).isEqualTo(ErrorKind.CORRUPT));
    }

    @Test
    void truncatedFilesAreRefused() {
        byte[] f = file(IncrementalFile.MAGIC, 5, 1, 2);
        assertThatThrownBy(() -> IncrementalFile.headerLength(Arrays.copyOf(f, 8), BLCKSZ, SEGMENT, "f"))
                .isInstanceOf(LifeboatException.class).hasMessageContaining("truncated");
        assertThatThrownBy(() -> IncrementalFile.parse(Arrays.copyOf(f, 14), f.length, BLCKSZ, SEGMENT, "f"))
                .isInstanceOf(LifeboatException.class).hasMessageContaining("truncated");
        // header whole, but the last block cut short
        assertThatThrownBy(() -> IncrementalFile.parse(f, f.length - 100, BLCKSZ, SEGMENT, "f"))
                .isInstanceOf(LifeboatException.class).hasMessageContaining("is truncated");
        assertThatThrownBy(() -> IncrementalFile.parse(f, f.length + BLCKSZ, BLCKSZ, SEGMENT, "f"))
                .isInstanceOf(LifeboatException.class).hasMessageContaining("too long");
    }

    @Test
    void impossibleCountsAndBlockOrdersAreRefused() {
        byte[] tooMany = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putInt(IncrementalFile.MAGIC)
                .putInt(SEGMENT + 1).putInt(0).array();
        assertThatThrownBy(() -> IncrementalFile.headerLength(tooMany, BLCKSZ, SEGMENT, "f"))
                .isInstanceOf(LifeboatException.class).hasMessageContaining("more than a segment");
        byte[] longTruncation = file(IncrementalFile.MAGIC, SEGMENT + 1);
        assertThatThrownBy(() -> IncrementalFile.parse(longTruncation, 12, BLCKSZ, SEGMENT, "f"))
                .isInstanceOf(LifeboatException.class).hasMessageContaining("truncation block length");
        byte[] unordered = file(IncrementalFile.MAGIC, 9, 4, 2);
        assertThatThrownBy(() -> IncrementalFile.parse(unordered, unordered.length, BLCKSZ, SEGMENT, "f"))
                .isInstanceOf(LifeboatException.class).hasMessageContaining("not ascending");
    }

    @Test
    void namesTheRelationFileItStandsFor() {
        assertThat(IncrementalFile.relationName("INCREMENTAL.16384.1")).isEqualTo("16384.1");
        assertThat(IncrementalFile.relationName("16384")).isNull();
        assertThat(IncrementalFile.relationName("INCREMENTAL.")).isNull();
    }
}
