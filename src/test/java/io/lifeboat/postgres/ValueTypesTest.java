package io.lifeboat.postgres;

import io.lifeboat.LifeboatException;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ValueTypesTest {
    @Test
    void lsnRoundTripAndOrder() {
        Lsn a = Lsn.parse("16/B374D848");
        assertThat(a.value()).isEqualTo(0x16B374D848L);
        assertThat(a.toString()).isEqualTo("16/B374D848");
        assertThat(Lsn.parse("0/1")).isLessThan(Lsn.parse("1/0"));
        assertThat(Lsn.parse("FFFFFFFF/0")).isGreaterThan(Lsn.parse("1/0"));
        for (String bad : new String[] {"", "16B374D848", "1/2/3", "G/1", "123456789/0"}) {
            assertThatThrownBy(() -> Lsn.parse(bad)).isInstanceOf(LifeboatException.class);
        }
    }

    @Test
    void walSegmentNames() {
        WalSegmentName s = WalSegmentName.parse("000000010000000A000000FE");
        assertThat(s.timeline().value()).isEqualTo(1);
        assertThat(s.log()).isEqualTo(0xA);
        assertThat(s.segmentInLog()).isEqualTo(0xFE);
        assertThat(s.next().toString()).isEqualTo("000000010000000A000000FF");
        assertThat(s.next().next().toString()).isEqualTo("000000010000000B00000000");
        assertThat(s.directory()).isEqualTo("000000010000000A");
        assertThat(WalSegmentName.containing(TimelineId.of(2), Lsn.parse("0/3000028"), WalSegmentName.DEFAULT_SEGMENT_SIZE)
                .toString()).isEqualTo("000000020000000000000003");
        assertThat(s.startLsn()).isEqualTo(Lsn.parse("A/FE000000"));
        // 64 MiB segments: 64 segments per log
        WalSegmentName big = WalSegmentName.parse("00000001000000010000003F", 64L << 20);
        assertThat(big.next().toString()).isEqualTo("000000010000000200000000");
        assertThatThrownBy(() -> WalSegmentName.parse("000000010000000100000040", 64L << 20)).isInstanceOf(LifeboatException.class);
        assertThatThrownBy(() -> WalSegmentName.parse("00000001000000010000003g")).isInstanceOf(LifeboatException.class);
        assertThatThrownBy(() -> WalSegmentName.parse("00000001.history")).isInstanceOf(LifeboatException.class);
    }

    @Test
    void timelines() {
        assertThat(TimelineId.parse("0000000A").value()).isEqualTo(10);
        assertThat(TimelineId.parse("3").next().hex()).isEqualTo("00000004");
        assertThatThrownBy(() -> TimelineId.parse("0")).isInstanceOf(LifeboatException.class);
        assertThatThrownBy(() -> TimelineId.parse("x")).isInstanceOf(LifeboatException.class);
    }

    @Test
    void toolVersions() {
        assertThat(PgVersion.parseToolOutput("pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)").major()).isEqualTo(15);
        assertThat(PgVersion.parseToolOutput("pg_dump (PostgreSQL) 17devel").major()).isEqualTo(17);
        assertThat(new PgVersion(90624).major()).isEqualTo(9);
        assertThatThrownBy(() -> PgVersion.parseToolOutput("nothing here")).isInstanceOf(LifeboatException.class);
    }
}
