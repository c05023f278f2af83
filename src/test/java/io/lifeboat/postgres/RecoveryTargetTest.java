package io.lifeboat.postgres;

import io.lifeboat.LifeboatException;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.Map;

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

    /**
     * Forms PostgreSQL's timestamptz input accepts, each with the moment PostgreSQL 15 gives it
     * (SET timezone = UTC; SELECT 'text'::timestamptz).
     */
    @Test
    void readsTheFormsPostgresqlAccepts() {
        Map<String, String> forms = new java.util.LinkedHashMap<>();
        forms.put("2026-12-01T12:23:07.99+00:00", "2026-12-01T12:23:07.990Z"); // refused before: "+00" became "+00:00:00"
        forms.put("2026-12-01T12:23:07.99+00", "2026-12-01T12:23:07.990Z");
        forms.put("2026-12-01 12:23:07.99 +00", "2026-12-01T12:23:07.990Z");
        forms.put("2026-12-01 12:23:07+0000", "2026-12-01T12:23:07Z");
        forms.put("2026-12-01 12:23:07-0530", "2026-12-01T17:53:07Z");
        forms.put("2026-12-01 12:23:07+05:30", "2026-12-01T06:53:07Z");
        forms.put("2026-12-01 12:23:07+5:30", "2026-12-01T06:53:07Z");
        forms.put("2026-12-01 12:23:07+1", "2026-12-01T11:23:07Z");
        forms.put("2026-12-01 12:23:07-01:00:30", "2026-12-01T13:23:37Z");
        forms.put("2026-12-01 12:23:07+0130", "2026-12-01T10:53:07Z");
        forms.put("2026-12-01 12:23:07+130", "2026-12-01T10:53:07Z");
        forms.put("2026-12-01 12:00:00+15:59", "2026-11-30T20:01:00Z");
        forms.put("2026-12-01 12:00:00.Z", "2026-12-01T12:00:00Z");
        forms.put("2026-12-01 12:23:07 UT", "2026-12-01T12:23:07Z");
        forms.put("2026-12-01 12:23:07 ZULU", "2026-12-01T12:23:07Z");
        forms.put("2026-12-01 12:23:07 UTC", "2026-12-01T12:23:07Z");
        forms.put("2026-12-01 12:23:07 GMT", "2026-12-01T12:23:07Z");
        forms.put("2026-12-01 12:23:07z", "2026-12-01T12:23:07Z");
        forms.put("2026-12-01t12:23:07Z", "2026-12-01T12:23:07Z");
        forms.put("2026-12-01   12:23:07Z", "2026-12-01T12:23:07Z");
        forms.put("2026-12-01 12:23Z", "2026-12-01T12:23:00Z");
        forms.put("2026-2-3 4:05:06+00", "2026-02-03T04:05:06Z");
        forms.put("2026-12-01 12:23:07 Europe/Berlin", "2026-12-01T11:23:07Z");
        forms.put("2026-07-01 12:23:07 Europe/Berlin", "2026-07-01T10:23:07Z");
        forms.put("2026-07-01 12:23:07 America/Argentina/Buenos_Aires", "2026-07-01T15:23:07Z");
        forms.put("2026-12-01 12:23:07.1234564Z", "2026-12-01T12:23:07.123456Z"); // microseconds, as PostgreSQL keeps
        forms.put("2026-12-01 12:23:07.1234566Z", "2026-12-01T12:23:07.123457Z");
        forms.put("2026-12-31 23:59:59.9999996Z", "2027-01-01T00:00:00Z");
        forms.put("2026-12-31 23:59:60Z", "2027-01-01T00:00:00Z"); // a leap second is the next minute
        forms.put("2026-12-31 24:00:00Z", "2027-01-01T00:00:00Z");
        forms.put("2028-02-29 00:00:00Z", "2028-02-29T00:00:00Z");
        forms.put("  2026-12-01 12:23:07Z  ", "2026-12-01T12:23:07Z");
        forms.forEach((text, moment) -> {
            assertThat(RecoveryTarget.time(text).instant()).as(text).isEqualTo(Instant.parse(moment));
            // what the restore writes reads back as the same moment
            assertThat(RecoveryTarget.time(RecoveryTarget.time(text).value()).value()).as(text)
                    .isEqualTo(RecoveryTarget.time(text).value());
        });
    }

    @Test
    void refusesImpossibleAmbiguousAndIncompleteTimes() {
        for (String bad : new String[] {
                "2026-02-30T10:00:00Z", // once silently 28 February
                "2027-02-29T10:00:00Z", "2026-04-31 10:00:00Z", "2026-00-10 10:00:00Z", "2026-12-00 10:00:00Z",
                "2026-12-01 25:00:00Z", "2026-12-01 24:00:01Z", "2026-12-01 12:60:00Z", "2026-12-01 12:00:61Z",
                "2026-12-01 12:00:00+16:00", "2026-12-01 12:00:00+01:60", "2026-12-01 12:00:00+",
                "2026-12-01 12:00:00", "2026-12-01T12:00:00", "2026-12-01", "12:00:00Z", "2026-12-01 12Z",
                "2026-12-01 12:00:00 CET", "2026-12-01 12:00:00 EST", "2026-12-01 12:00:00 Mars/Olympus",
                "2026-12-01 12:00:00Z junk", "2026-12-01 12:00:00.5.5Z", "0000-01-01 00:00:00Z", "now", "today", "epoch",
                // PostgreSQL takes these as standard time; Lifeboat asks for an offset instead of guessing
                "2026-03-29 02:30:00 Europe/Berlin", // skipped by the change to summer time
                "2026-10-25 02:30:00 Europe/Berlin", // happens twice
                "2026-12-01 12:00:00+01:00:00:00", "2026-12-01 12:00:00 +01 00",
        }) {
            assertThatThrownBy(() -> RecoveryTarget.time(bad)).as(bad).isInstanceOfSatisfying(LifeboatException.class,
                    e -> assertThat(e.exitCode()).isEqualTo(2));
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
