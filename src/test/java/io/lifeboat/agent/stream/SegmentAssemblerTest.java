package io.lifeboat.agent.stream;

import io.lifeboat.LifeboatException;
import io.lifeboat.postgres.Lsn;
import io.lifeboat.postgres.TimelineId;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SegmentAssemblerTest {
    static final long MIB = 1 << 20;

    @Test
    void chunksAcrossABoundaryMakeAWholeSegmentAndAPartial() {
        SegmentAssembler a = new SegmentAssembler(TimelineId.of(2), MIB, new Lsn(3 * MIB));
        List<SegmentAssembler.Piece> whole = new ArrayList<>();
        byte[] chunk = new byte[700 * 1024];
        java.util.Arrays.fill(chunk, (byte) 7);
        a.append(3 * MIB, chunk, chunk.length, whole::add);
        assertThat(whole).isEmpty();
        a.append(3 * MIB + chunk.length, chunk, chunk.length, whole::add);
        assertThat(whole).hasSize(1);
        assertThat(whole.get(0).name().toString()).isEqualTo("000000020000000000000003");
        assertThat(whole.get(0).end()).isEqualTo(new Lsn(4 * MIB));
        SegmentAssembler.Piece p = a.partial();
        assertThat(p.partial()).isTrue();
        assertThat(p.name().toString()).isEqualTo("000000020000000000000004");
        assertThat(p.valid()).isEqualTo(2 * chunk.length - (int) MIB);
        assertThat(p.data()).hasSize((int) MIB);
        assertThat(p.data()[p.valid() - 1]).isEqualTo((byte) 7);
        assertThat(p.data()[p.valid()]).isZero(); // the rest stays zero, as in an unfinished segment
        assertThat(a.received()).isEqualTo(new Lsn(3 * MIB + 2L * chunk.length));
    }

    @Test
    void aJumpIsRefused() {
        SegmentAssembler a = new SegmentAssembler(TimelineId.of(1), MIB, new Lsn(0));
        assertThatThrownBy(() -> a.append(100, new byte[10], 10, p -> { })).isInstanceOf(LifeboatException.class)
                .hasMessageContaining("jumped");
        assertThat(a.partial()).isNull();
    }
}
