package io.lifeboat.agent.schedule;

import io.lifeboat.LifeboatException;
import io.lifeboat.agent.AgentService;
import io.lifeboat.agent.ClusterState;
import io.lifeboat.agent.JobRecord;
import io.lifeboat.agent.ProblemBoard;
import io.lifeboat.config.AgentConfig;
import io.lifeboat.config.CronSchedule;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * Runs a cluster's scheduled jobs, one at a time (jobs of one cluster never overlap). A run missed
 * while the agent was down (the last recorded run is older than the schedule's previous time) runs
 * once at start; runs that fall due while another job runs wait and run once after it. Each run's
 * outcome and duration are recorded in the repository; a failure is a problem until the next
 * success of that job.
 */
public final class Scheduler implements AgentService {
    private final String cluster;
    private final Map<AgentConfig.JobKind, CronSchedule> schedules;
    private final Jobs jobs;
    private final JobRecords records;
    private final ClusterState state;
    private final ProblemBoard problems;
    private final Consumer<String> log;
    private final Clock clock;
    private final String host;
    private volatile boolean stopping;
    private volatile AgentConfig.JobKind running;
    private volatile Instant runningSince;
    private Thread thread;

    public Scheduler(String cluster, Map<AgentConfig.JobKind, CronSchedule> schedules, Jobs jobs, JobRecords records,
                     ClusterState state, ProblemBoard problems, Consumer<String> log, Clock clock) {
        this.cluster = cluster;
        this.schedules = new EnumMap<>(schedules);
        this.jobs = jobs;
        this.records = records;
        this.state = state;
        this.problems = problems;
        this.log = log;
        this.clock = clock;
        this.host = io.lifeboat.agent.AgentLease.hostName();
    }

    @Override
    public String name() {
        return "scheduler (" + String.join(", ", schedules.entrySet().stream()
                .map(e -> e.getKey().key() + " '" + e.getValue() + "'").toList()) + ")";
    }

    @Override
    public void start() {
        thread = new Thread(this::loop, "lifeboat-scheduler-" + cluster);
        thread.setDaemon(true); // a job still running when the agent must go is abandoned (an unfinished backup is never used)
        thread.start();
    }

    /** Runs that are due: by kind, the schedule time each stands for. */
    private final Map<AgentConfig.JobKind, Instant> due = new TreeMap<>();

    private void loop() {
        ZonedDateTime now = ZonedDateTime.now(clock);
        Map<AgentConfig.JobKind, Instant> next = new EnumMap<>(AgentConfig.JobKind.class);
        for (var e : schedules.entrySet()) {
            AgentConfig.JobKind kind = e.getKey();
            Optional<JobRecord> last = Optional.empty();
            try {
                last = records.latest(kind.key());
            } catch (LifeboatException ex) {
                log.accept("warning: cluster '" + cluster + "': cannot read the last " + kind.key() + " run: " + ex.getMessage());
            }
            last.ifPresent(state::jobFinished);
            Optional<ZonedDateTime> previous = e.getValue().previous(now);
            if (last.isPresent() && previous.isPresent() && last.get().scheduled().isBefore(previous.get().toInstant())) {
                log.accept("cluster '" + cluster + "': the " + kind.key() + " run of " + previous.get().toInstant()
                        + " was missed while the agent was down: running it now");
                due.put(kind, previous.get().toInstant());
            }
            e.getValue().next(now).ifPresent(t -> next.put(kind, t.toInstant()));
        }
        publishNext(next);
        while (!stopping) {
            Instant t = clock.instant();
            for (var e : next.entrySet()) {
                if (!e.getValue().isAfter(t)) {
                    due.putIfAbsent(e.getKey(), e.getValue()); // several missed during a long job: one run
                    schedules.get(e.getKey()).next(ZonedDateTime.now(clock)).ifPresent(n -> e.setValue(n.toInstant()));
                }
            }
            publishNext(next);
            if (!due.isEmpty()) {
                AgentConfig.JobKind kind = due.keySet().iterator().next();
                runOne(kind, due.remove(kind));
                continue;
            }
            try {
                Thread.sleep(Math.min(1000, Math.max(10, next.values().stream().min(Instant::compareTo)
                        .map(n -> Duration.between(clock.instant(), n).toMillis()).orElse(1000L))));
            } catch (InterruptedException ex) {
                return;
            }
        }
    }

    private void publishNext(Map<AgentConfig.JobKind, Instant> next) {
        next.forEach((k, v) -> state.nextRun(k.key(), v));
    }

    private void runOne(AgentConfig.JobKind kind, Instant scheduled) {
        Instant started = clock.instant();
        running = kind;
        runningSince = started;
        state.jobStarted(new ClusterState.RunningJob(kind.key(), scheduled, started));
        log.accept("cluster '" + cluster + "': " + kind.key() + " job started (scheduled for " + scheduled + ")");
        boolean ok;
        String summary;
        try {
            summary = jobs.run(kind);
            ok = true;
        } catch (Exception | Error e) {
            ok = false;
            summary = e instanceof LifeboatException le ? le.getMessage() + (le.hint() == null ? "" : " (" + le.hint() + ")")
                    : String.valueOf(e);
        } finally {
            running = null;
        }
        if (stopping && !ok) {
            summary = "abandoned: the agent stopped (" + summary + ")";
        }
        Instant finished = clock.instant();
        double seconds = Duration.between(started, finished).toMillis() / 1000.0;
        JobRecord r = new JobRecord(kind.key(), scheduled, started, finished, seconds, ok, summary, host);
        state.jobFinished(r);
        try {
            records.write(r);
        } catch (LifeboatException e) {
            state.repositoryError();
            log.accept("warning: cluster '" + cluster + "': " + e.getMessage());
        }
        String key = kind == AgentConfig.JobKind.DRILL ? "drill" : "job:" + kind.key();
        if (ok) {
            log.accept("cluster '" + cluster + "': " + kind.key() + " job succeeded in " + seconds + " s: " + summary);
            problems.resolve(cluster, key, "the " + kind.key() + " job succeeded: " + summary);
        } else {
            log.accept("warning: cluster '" + cluster + "': " + kind.key() + " job failed after " + seconds + " s: " + summary);
            problems.raise(cluster, key, "the " + kind.key() + " job of cluster '" + cluster + "' failed: " + summary);
        }
    }

    /** The job running now, or null. */
    public AgentConfig.JobKind running() {
        return running;
    }

    @Override
    public void stop(Duration grace) {
        stopping = true;
        if (thread == null) {
            return;
        }
        thread.interrupt();
        try {
            thread.join(grace.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            log.accept("warning: cluster '" + cluster + "': the " + running + " job (running since " + runningSince
                    + ") did not finish within " + grace.toSeconds() + " s and is abandoned; an unfinished backup is never "
                    + "restored from and is removed by expire");
        }
    }
}
