package io.lifeboat.postgres;

import io.lifeboat.LifeboatException;
import org.junit.jupiter.api.Test;

import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RecoveryTargetTest {
    @Test
    void timesNeedAZoneAndComeOutInUtc() {
        assertThat(RecoveryTarget.time("2026-11-24T22:05:12Z").value()).isEqualTo("2026-11-24 22:05:12.000000+00:00");
        assertThat(RecoveryTarget.time("2026-11-24 23:05:12.25+01:00").instant())
                .isEqualTo(Instant.parse("2026-11-24T22:05:12.250Z"));
        assertThat(RecoveryTarget.time("2026-11-24 22:05:12.123456+00").instant())
                .isEqualTo(Instant.parse("2026-11-24T22:05:12.123456Z"));
        for (String bad : new String[] {"2026-11-24 22:05:12", "yesterday", "", "2026-13-01T00:00:00Z"}) {
            assertThatThrownBy(() -> RecoveryTarget.time(bad)).as(bad).isInstanceOf(LifeboatException.class);
        }
    }

    @Test
    void otherTargets() {
        assertThat(RecoveryTarget.lsn("0/16b3748").value()).isEqualTo("0/16B3748");
        assertThat(RecoveryTarget.xid("1234").setting()).containsEntry("xid", "1234");
        assertThat(RecoveryTarget.name("before-migration").setting()).containsEntry("name", "before-migration");
        assertThat(RecoveryTarget.immediate("immediate").setting()).containsEntry("", "immediate");
        assertThatThrownBy(() -> RecoveryTarget.lsn("16B3748")).isInstanceOf(LifeboatException.class);
        assertThatThrownBy(() -> RecoveryTarget.xid("-5")).isInstanceOf(LifeboatException.class);
        assertThatThrownBy(() -> RecoveryTarget.xid("abc")).isInstanceOf(LifeboatException.class);
        assertThatThrownBy(() -> RecoveryTarget.name("")).isInstanceOf(LifeboatException.class);
        assertThatThrownBy(() -> RecoveryTarget.immediate("now")).isInstanceOf(LifeboatException.class);
        assertThatThrownBy(() -> RecoveryTarget.action("resume")).isInstanceOf(LifeboatException.class);
        assertThat(RecoveryTarget.timeline("latest")).isEqualTo("latest");
        assertThat(RecoveryTarget.timeline("2")).isEqualTo("2");
        assertThatThrownBy(() -> RecoveryTarget.timeline("two")).isInstanceOf(LifeboatException.class);
    }
}
