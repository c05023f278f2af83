package io.lifeboat.engine.archive;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.postgres.WalSegmentName;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PartialPiecesTest {
    static final WalSegmentName SEG = WalSegmentName.parse("000000010000000000000005");
    static final String SHA = "ab".repeat(32);

    static PartialPieces.Piece piece(long from, long to) {
        String key = "main/wal/0000000100000000/000000010000000000000005.partial.sha256-" + SHA
                + PartialPieces.suffix(from, to) + ".zst";
        return PartialPieces.of(new WalArchive.Archived(key, SHA));
    }

    @Test
    void aKeyNamesItsByteRangeAndACopyWithoutOneIsAWholeFile() {
        PartialPieces.Piece p = piece(0x1000, 0xA3B1C8);
        assertThat(p.archived().key()).contains(".partial.sha256-" + SHA + ".bytes-00001000-00A3B1C8.zst");
        assertThat(p.from()).isEqualTo(0x1000);
        assertThat(p.to()).isEqualTo(0xA3B1C8);
        assertThat(p.ranged()).isTrue();
        assertThat(WalArchive.fileName(p.archived().key())).isEqualTo("000000010000000000000005.partial");
        PartialPieces.Piece old = PartialPieces.of(new WalArchive.Archived(
                "main/wal/0000000100000000/000000010000000000000005.partial.sha256-" + SHA + ".zst.age", SHA));
        assertThat(old.ranged()).isFalse();
        assertThatThrownBy(() -> piece(100, 100)).isInstanceOfSatisfying(LifeboatException.class,
                e -> assertThat(e.kind()).isEqualTo(ErrorKind.CORRUPT));
        assertThatThrownBy(() -> PartialPieces.of(new WalArchive.Archived(
                "w/000000010000000000000005.partial.sha256-" + SHA + ".bytes-0000zz00-00000100.zst", SHA)))
                .isInstanceOf(LifeboatException.class).hasMessageContaining("no valid byte range");
    }

    @Test
    void theLongestRunFromTheStartFollowsOverlappingPieces() {
        PartialPieces.Piece base = piece(0, 1000);
        PartialPieces.Piece older = piece(0, 600);      // an earlier base, not deleted yet
        PartialPieces.Piece d0 = piece(500, 1100);      // overlaps both
        PartialPieces.Piece d1 = piece(1100, 1200);
        PartialPieces.Piece d2 = piece(1200, 1201);
        PartialPieces.Run run = PartialPieces.longestRun(SEG, List.of(d2, d1, older, base, d0)).orElseThrow();
        assertThat(run.end()).isEqualTo(1201);
        assertThat(run.pieces()).containsExactly(base, d0, d1, d2);
        assertThat(PartialPieces.longestRun(SEG, List.of(PartialPieces.of(new WalArchive.Archived("w/x.partial.sha256-"
                + SHA + ".zst", SHA))))).isEmpty();
    }

    @Test
    void aHoleWithLaterPiecesIsRefusedNotTakenForTheEnd() {
        for (List<PartialPieces.Piece> pieces : List.of(List.of(piece(0, 1000), piece(1001, 2000)),
                List.of(piece(500, 2000)))) {
            assertThatThrownBy(() -> PartialPieces.longestRun(SEG, pieces)).isInstanceOfSatisfying(LifeboatException.class, e -> {
                assertThat(e.kind()).isEqualTo(ErrorKind.CONFLICT);
                assertThat(e.getMessage()).contains("000000010000000000000005", "hole");
            });
        }
    }
}
