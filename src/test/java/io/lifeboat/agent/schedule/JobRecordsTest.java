package io.lifeboat.agent.schedule;

import io.lifeboat.agent.JobRecord;
import io.lifeboat.catalog.RepositoryLayout;
import io.lifeboat.storage.MemoryStorage;
import io.lifeboat.storage.ObjectInfo;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class JobRecordsTest {
    final MemoryStorage storage = new MemoryStorage();
    final JobRecords records = new JobRecords(storage, new RepositoryLayout("main"));
    static final Instant NOW = Instant.parse("2026-12-01T12:00:00Z");

    private static JobRecord run(String kind, Instant started) {
        return new JobRecord(kind, started, started, started.plusSeconds(30), 30, true, "did " + kind, "h");
    }

    @Test
    void thirtyDaysOfAnHourlyJobAreKeptForTheDashboardsCharts() throws Exception {
        // hourly for 40 days: the last 30 days stay (720 runs and the one exactly 30 days before the newest)
        for (int h = 40 * 24; h >= 0; h--) {
            records.write(run("verify", NOW.minus(Duration.ofHours(h))));
        }
        List<JobRecord> kept = records.history("verify", new HashMap<>());
        assertThat(kept).hasSize(30 * 24 + 1);
        assertThat(kept.get(0).started()).isEqualTo(NOW.minus(Duration.ofDays(30)));
        assertThat(kept.get(kept.size() - 1).started()).isEqualTo(NOW);
    }

    @Test
    void theNewestFiftyStayHoweverOldAndNoMoreThanAThousand() throws Exception {
        // weekly: older than 30 days, but the newest 50 of a kind are always kept
        for (int w = 80; w >= 0; w--) {
            records.write(run("physical", NOW.minus(Duration.ofDays(7L * w))));
        }
        assertThat(records.history("physical", new HashMap<>())).hasSize(JobRecords.KEEP)
                .last().extracting(JobRecord::started).isEqualTo(NOW);
        // every minute: within 30 days, but at most 1,000 of a kind
        for (int m = 1200; m >= 0; m--) {
            records.write(run("drill", NOW.minus(Duration.ofMinutes(m))));
        }
        List<JobRecord> drills = records.history("drill", new HashMap<>());
        assertThat(drills).hasSize(JobRecords.MAX);
        assertThat(drills.get(0).started()).isEqualTo(NOW.minus(Duration.ofMinutes(JobRecords.MAX - 1)));
        // other kinds are not touched
        assertThat(records.history("physical", new HashMap<>())).hasSize(JobRecords.KEEP);
    }

    @Test
    void historyReadsOnlyRecordsItHasNotSeen() throws Exception {
        records.write(run("expire", NOW.minusSeconds(120)));
        records.write(run("expire", NOW.minusSeconds(60)));
        Map<String, JobRecord> known = new HashMap<>();
        assertThat(records.history("expire", known)).hasSize(2);
        assertThat(known).hasSize(2);

        // a record already read is not read again (its stored bytes are not looked at): here they are spoilt
        List<ObjectInfo> stored = storage.list("main/jobs/expire/");
        storage.put(stored.get(0).key(), "{ not json".getBytes(StandardCharsets.UTF_8));
        records.write(run("expire", NOW));
        assertThat(records.history("expire", known)).extracting(JobRecord::started)
                .containsExactly(NOW.minusSeconds(120), NOW.minusSeconds(60), NOW);
        // read afresh, the damaged one is left out; one no longer stored is dropped from what is known
        assertThat(records.history("expire", new HashMap<>())).hasSize(2);
        storage.delete(stored.get(1).key());
        assertThat(records.history("expire", known)).hasSize(2);
        assertThat(known).hasSize(2).doesNotContainKey(stored.get(1).key());
    }

    @Test
    void aRecordsStartIsReadFromItsName() {
        assertThat(JobRecords.started("main/jobs/drill/20261201T120000.250Z.json"))
                .isEqualTo(Instant.parse("2026-12-01T12:00:00.250Z"));
        assertThat(JobRecords.started("main/jobs/drill/notes.txt")).isNull();
        assertThat(JobRecords.started("main/jobs/drill/yesterday.json")).isNull();
    }
}
