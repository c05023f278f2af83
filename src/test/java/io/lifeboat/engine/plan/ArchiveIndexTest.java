package io.lifeboat.engine.plan;

import io.lifeboat.postgres.TimelineId;
import io.lifeboat.postgres.WalSegmentName;
import io.lifeboat.storage.ObjectInfo;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ArchiveIndexTest {
    private static final long SEGMENT = 16L << 20;
    private static final String HASH = ".sha256-" + "0".repeat(64);

    @Test
    void aPartialStoredInPiecesCountsEveryPieceAndIsDatedByTheNewest() {
        String seg = "00000001000000000000000B";
        Instant t0 = Instant.parse("2026-12-01T10:00:00Z");
        ArchiveIndex ix = ArchiveIndex.of(List.of(
                new ObjectInfo("c/wal/" + seg + ".partial" + HASH + ".bytes-00000000-00100000.zst", 5000, t0),
                new ObjectInfo("c/wal/" + seg + ".partial" + HASH + ".bytes-00100000-00100200.zst", 40, t0.plusSeconds(9)),
                new ObjectInfo("c/wal/" + seg + ".partial" + HASH + ".bytes-00100200-00180000.zst", 900, t0.plusSeconds(3)),
                new ObjectInfo("c/wal/00000001000000000000000A" + HASH + ".zst", 7000, t0.minusSeconds(60))), SEGMENT);

        ArchiveIndex.Entry p = ix.partial(WalSegmentName.parse(seg, SEGMENT));
        assertThat(p.storedBytes()).isEqualTo(5940);
        assertThat(p.stored()).isEqualTo(t0.plusSeconds(9));
        assertThat(ix.partials(new TimelineId(1))).hasSize(1);
        assertThat(ix.storedBytes()).isEqualTo(12940);
    }

    @Test
    void twoCopiesOfAWholeSegmentAreDatedByTheFirstStoredAndCountedOnce() {
        String seg = "00000001000000000000000A";
        Instant t0 = Instant.parse("2026-12-01T10:00:00Z");
        ArchiveIndex ix = ArchiveIndex.of(List.of(
                new ObjectInfo("c/wal/" + seg + HASH + ".zst", 7000, t0.plusSeconds(5)),
                new ObjectInfo("c/wal/" + seg + HASH.replace('0', '1') + ".zst", 7100, t0)), SEGMENT);

        assertThat(ix.segment(WalSegmentName.parse(seg, SEGMENT)).stored()).isEqualTo(t0);
        assertThat(ix.storedBytes()).isEqualTo(7100);
    }
}
