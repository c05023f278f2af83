package io.lifeboat.agent.schedule;

import io.lifeboat.agent.ClusterState;
import io.lifeboat.agent.JobRecord;
import io.lifeboat.agent.ProblemBoard;
import io.lifeboat.catalog.RepositoryLayout;
import io.lifeboat.config.AgentConfig;
import io.lifeboat.config.CronSchedule;
import io.lifeboat.storage.MemoryStorage;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

class SchedulerTest {
    final MemoryStorage storage = new MemoryStorage();
    final JobRecords records = new JobRecords(storage, new RepositoryLayout("main"));
    final ClusterState state = new ClusterState("main");
    final ProblemBoard problems = new ProblemBoard();
    final List<String> events = new CopyOnWriteArrayList<>();

    static void await(java.util.function.BooleanSupplier c) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!c.getAsBoolean() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
    }

    @Test
    void aRunMissedWhileDownRunsOnceAtStartAndJobsNeverOverlap() throws Exception {
        Instant longAgo = Instant.now().minus(Duration.ofDays(3));
        // both last ran three days ago; their daily schedules were missed twice since: one run each, now
        for (String kind : List.of("physical", "verify")) {
            records.write(new JobRecord(kind, longAgo, longAgo, longAgo, 1, true, "old", "h"));
        }
        AtomicInteger running = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        List<String> shown = new CopyOnWriteArrayList<>();
        Jobs jobs = kind -> {
            shown.add(state.running() == null ? "nothing" : state.running().kind());
            most.accumulateAndGet(running.incrementAndGet(), Math::max);
            Thread.sleep(200);
            running.decrementAndGet();
            events.add(kind.key());
            return "did " + kind.key();
        };
        Scheduler s = new Scheduler("main", Map.of(AgentConfig.JobKind.PHYSICAL, CronSchedule.parse("0 3 * * *"),
                AgentConfig.JobKind.VERIFY, CronSchedule.parse("0 4 * * *")), jobs, records, state, problems, l -> { },
                Clock.systemUTC());
        s.start();
        await(() -> events.size() >= 2);
        Thread.sleep(500);
        s.stop(Duration.ofSeconds(5));
        assertThat(events).containsExactly("physical", "verify");
        assertThat(shown).as("the state names the job while it runs").containsExactly("physical", "verify");
        assertThat(state.running()).isNull();
        assertThat(most.get()).isEqualTo(1);
        JobRecord r = records.latest("physical").orElseThrow();
        assertThat(r.ok()).isTrue();
        assertThat(r.summary()).isEqualTo("did physical");
        assertThat(r.scheduled()).isAfter(longAgo); // the schedule time it stands for: the last missed one
        assertThat(state.nextRuns()).containsKeys("physical", "verify");
    }

    @Test
    void aFailedRunIsAProblemUntilTheNextSuccess() throws Exception {
        Instant longAgo = Instant.now().minus(Duration.ofDays(2));
        records.write(new JobRecord("drill", longAgo, longAgo, longAgo, 1, true, "old", "h"));
        List<String> alerts = new CopyOnWriteArrayList<>();
        problems.listen(new ProblemBoard.Listener() {
            @Override
            public void opened(ProblemBoard.Problem p) {
                alerts.add("open " + p.key());
            }

            @Override
            public void resolved(ProblemBoard.Problem p, String how) {
                alerts.add("resolved " + p.key());
            }
        });
        Scheduler s = new Scheduler("main", Map.of(AgentConfig.JobKind.DRILL, CronSchedule.parse("0 5 * * *")),
                kind -> {
                    throw new IllegalStateException("the scratch cluster did not start");
                }, records, state, problems, l -> { }, Clock.systemUTC());
        s.start();
        await(() -> !alerts.isEmpty());
        s.stop(Duration.ofSeconds(5));
        assertThat(alerts).containsExactly("open drill");
        assertThat(problems.open("main")).singleElement().satisfies(p -> assertThat(p.message()).contains("did not start"));
        assertThat(records.latest("drill").orElseThrow().ok()).isFalse();
        assertThat(state.jobFailures()).isEqualTo(1);
        problems.resolve("main", "drill", "ok again");
        assertThat(alerts).containsExactly("open drill", "resolved drill");
    }

    @Test
    void withoutAnyRecordNothingCountsAsMissed() throws Exception {
        Scheduler s = new Scheduler("main", Map.of(AgentConfig.JobKind.EXPIRE, CronSchedule.parse("0 5 * * *")),
                kind -> {
                    events.add(kind.key());
                    return "";
                }, records, state, problems, l -> { }, Clock.systemUTC());
        s.start();
        Thread.sleep(500);
        s.stop(Duration.ofSeconds(5));
        assertThat(events).isEmpty();
    }
}
