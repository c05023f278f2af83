package io.lifeboat.agent.http.dashboard;

import io.lifeboat.SecretMask;
import io.lifeboat.agent.ClusterState;
import io.lifeboat.agent.JobRecord;
import io.lifeboat.agent.ProblemBoard;
import io.lifeboat.agent.StreamStatus;
import io.lifeboat.agent.schedule.JobRecords;
import io.lifeboat.config.AgentConfig;
import io.lifeboat.config.ClusterConfig;
import io.lifeboat.engine.RepositoryAccess;
import io.lifeboat.engine.plan.RecoverabilityTimeline;
import io.lifeboat.engine.plan.RepositorySnapshot;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * One cluster as the dashboard sees it: its configuration, the agent's live state, and a snapshot
 * of its repositories re-read every so often (pages and the API are served from the snapshot, so
 * a page view costs no listing), plus the stream's lag sampled at each refresh for the chart.
 */
final class ClusterBoard {
    /** How far back the lag chart goes. */
    static final Duration LAG_HISTORY = Duration.ofDays(30);

    /** What the repository held at one look, or why it could not be read. */
    record Snapshot(Instant taken, RepositorySnapshot repo, RecoverabilityTimeline.Timeline timeline, List<JobRecord> jobs,
                    String error) {
    }

    record LagSample(Instant time, double seconds, long bytes) {
    }

    private final ClusterConfig config;
    private final AgentConfig.ClusterAgent agent;
    private final ClusterState state;
    private final ProblemBoard problems;
    private final Supplier<RepositoryAccess> repo;
    private final Deque<LagSample> lag = new ArrayDeque<>();
    /** The job records read so far, by key (a record never changes): each refresh reads only new ones. */
    private final Map<String, JobRecord> jobRecords = new HashMap<>();
    /** Likewise the drill records. */
    private final RepositorySnapshot.Memory memory = new RepositorySnapshot.Memory();
    private volatile Snapshot snapshot;
    /** The agent's last runs when the snapshot was taken: a run since then is read at once. */
    private volatile Map<String, JobRecord> jobsAtRefresh = Map.of();

    ClusterBoard(ClusterConfig config, AgentConfig.ClusterAgent agent, ClusterState state, ProblemBoard problems,
                 Supplier<RepositoryAccess> repo) {
        this.config = config;
        this.agent = agent;
        this.state = state;
        this.problems = problems;
        this.repo = repo;
    }

    String name() {
        return config.name();
    }

    ClusterConfig config() {
        return config;
    }

    AgentConfig.ClusterAgent agent() {
        return agent;
    }

    ClusterState state() {
        return state;
    }

    RepositoryAccess repository() {
        return repo.get();
    }

    List<ProblemBoard.Problem> problems() {
        return problems.open(name());
    }

    boolean streamConfigured() {
        return agent != null && agent.stream() != null;
    }

    /** The newest snapshot (read now if there is none yet). */
    Snapshot snapshot() {
        Snapshot s = snapshot;
        return s != null ? s : refresh();
    }

    /**
     * Whether the repositories should be read again: {@code every} has passed since the last look,
     * or a scheduled job finished since (its backup, its record should show at once, not up to
     * {@code every} later).
     */
    boolean due(Instant now, Duration every) {
        Snapshot s = snapshot;
        return s == null || !s.taken().plus(every).isAfter(now) || !state.lastJobs().equals(jobsAtRefresh);
    }

    /** Reads the repositories again (and samples the stream's lag). */
    synchronized Snapshot refresh() {
        Instant now = Instant.now();
        jobsAtRefresh = state.lastJobs();
        StreamStatus st = state.stream();
        if (st != null) {
            synchronized (lag) {
                lag.addLast(new LagSample(now, st.lagSeconds(), st.lagBytes()));
                while (!lag.isEmpty() && lag.peekFirst().time().isBefore(now.minus(LAG_HISTORY))) {
                    lag.removeFirst();
                }
            }
        }
        Snapshot s;
        try {
            RepositoryAccess r = repo.get();
            RepositorySnapshot rs = RepositorySnapshot.read(r, memory);
            RecoverabilityTimeline.Timeline tl = RecoverabilityTimeline.build(rs.complete(), rs.archive(), rs.histories(),
                    rs.drills());
            s = new Snapshot(now, rs, tl, jobs(r), null);
        } catch (Exception e) {
            s = new Snapshot(now, null, null, List.of(), SecretMask.uri(String.valueOf(e.getMessage())));
        }
        snapshot = s;
        return s;
    }

    private List<JobRecord> jobs(RepositoryAccess r) {
        JobRecords records = new JobRecords(r.storage(), r.catalog().layout());
        List<JobRecord> out = new ArrayList<>();
        for (AgentConfig.JobKind k : AgentConfig.JobKind.values()) {
            out.addAll(records.history(k.key(), jobRecords));
        }
        out.sort(Comparator.comparing(JobRecord::started).reversed());
        return out;
    }

    List<LagSample> lag() {
        synchronized (lag) {
            return List.copyOf(lag);
        }
    }
}
