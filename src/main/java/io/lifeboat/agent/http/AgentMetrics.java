package io.lifeboat.agent.http;

import io.lifeboat.agent.ClusterState;
import io.lifeboat.agent.JobRecord;
import io.lifeboat.agent.ProblemBoard;
import io.lifeboat.agent.StreamStatus;
import io.lifeboat.config.AgentConfig;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.time.Instant;
import java.util.List;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;

/**
 * The agent's metrics, per cluster (tag {@code cluster}), read from the clusters' live state at each
 * scrape, in Prometheus' text format through Micrometer. Unknown values (no backup yet) are NaN.
 */
public final class AgentMetrics {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

    public AgentMetrics(List<ClusterState> clusters, ProblemBoard problems) {
        for (ClusterState c : clusters) {
            String n = c.cluster();
            for (String type : List.of("physical", "logical")) {
                gauge("lifeboat.backup.last.success.timestamp.seconds", "end of the newest complete backup (unix time)",
                        c, n, "type", type, s -> backup(s, type, b -> seconds(b.end())));
                gauge("lifeboat.backup.last.duration.seconds", "how long the newest complete backup took", c, n, "type", type,
                        s -> backup(s, type, ClusterState.BackupSummary::seconds));
            }
            gauge("lifeboat.repository.stored.bytes", "bytes of the complete backups in the repository", c, n, null, null,
                    s -> s.catalog() == null ? Double.NaN : s.catalog().bytesStored());
            gauge("lifeboat.pitr.oldest.timestamp.seconds", "the oldest moment a restore can reach (unix time)", c, n,
                    null, null, s -> s.catalog() == null ? Double.NaN : seconds(s.catalog().oldestRestorable()));
            gauge("lifeboat.pitr.newest.timestamp.seconds", "the newest moment a restore can reach (unix time)", c, n,
                    null, null, s -> s.catalog() == null ? Double.NaN : seconds(s.catalog().newestRestorable()));
            gauge("lifeboat.stream.up", "1 while the WAL stream is streaming", c, n, null, null,
                    s -> s.stream() == null ? Double.NaN : "streaming".equals(s.stream().state()) ? 1 : 0);
            gauge("lifeboat.stream.lag.bytes", "WAL on the server not yet stored in the repository", c, n, null, null,
                    s -> stream(s, StreamStatus::lagBytes));
            gauge("lifeboat.stream.lag.seconds", "how long the oldest WAL not yet stored has been on the server", c, n,
                    null, null, s -> stream(s, StreamStatus::lagSeconds));
            gauge("lifeboat.stream.slot.retained.bytes", "WAL the replication slot holds on the server", c, n, null, null,
                    s -> stream(s, StreamStatus::retainedBytes));
            gauge("lifeboat.stream.timeline", "the timeline being streamed", c, n, null, null,
                    s -> stream(s, StreamStatus::timeline));
            counter("lifeboat.stream.segments.stored", "whole WAL segments the stream stored", c, n,
                    s -> stream(s, StreamStatus::segmentsStored));
            counter("lifeboat.stream.partials.stored", "partial segments the stream stored", c, n,
                    s -> stream(s, StreamStatus::partialsStored));
            counter("lifeboat.stream.reconnects", "times the stream reconnected after a failure", c, n,
                    s -> stream(s, StreamStatus::reconnects));
            gauge("lifeboat.drill.last.success", "1 when the newest restore drill succeeded, 0 when it failed", c, n, null,
                    null, s -> drill(s, d -> d.ok() ? 1 : 0));
            gauge("lifeboat.drill.last.timestamp.seconds", "when the newest restore drill ran (unix time)", c, n, null, null,
                    s -> drill(s, d -> seconds(d.time())));
            gauge("lifeboat.drill.last.duration.seconds", "how long the newest restore drill took to restore and recover "
                    + "(a measured RTO)", c, n, null, null, s -> drill(s, ClusterState.DrillSummary::seconds));
            for (AgentConfig.JobKind k : AgentConfig.JobKind.values()) {
                gauge("lifeboat.job.last.success", "1 when the last scheduled run succeeded, 0 when it failed", c, n, "job",
                        k.key(), s -> job(s, k, r -> r.ok() ? 1 : 0));
                gauge("lifeboat.job.last.duration.seconds", "how long the last scheduled run took", c, n, "job", k.key(),
                        s -> job(s, k, JobRecord::seconds));
                gauge("lifeboat.job.next.timestamp.seconds", "when the job runs next (unix time)", c, n, "job", k.key(),
                        s -> s.nextRuns().containsKey(k.key()) ? seconds(s.nextRuns().get(k.key())) : Double.NaN);
            }
            counter("lifeboat.job.failures", "scheduled runs that failed", c, n, ClusterState::jobFailures);
            counter("lifeboat.repository.errors", "repository operations of the agent that failed", c, n,
                    ClusterState::repositoryErrors);
            Gauge.builder("lifeboat.problems.open", problems, p -> p.open(n).size()).tag("cluster", n)
                    .description("open problems (see /healthz)").register(registry);
        }
    }

    private void gauge(String name, String help, ClusterState c, String cluster, String tag, String value,
                       ToDoubleFunction<ClusterState> f) {
        Gauge.Builder<ClusterState> b = Gauge.builder(name, c, f).description(help).tag("cluster", cluster);
        if (tag != null) {
            b = b.tag(tag, value);
        }
        b.register(registry);
    }

    private void counter(String name, String help, ClusterState c, String cluster, ToDoubleFunction<ClusterState> f) {
        FunctionCounter.builder(name, c, f).description(help).tag("cluster", cluster).register(registry);
    }

    private static double seconds(Instant t) {
        return t == null ? Double.NaN : t.toEpochMilli() / 1000.0;
    }

    private static double backup(ClusterState s, String type, Function<ClusterState.BackupSummary, Double> f) {
        var c = s.catalog();
        return c == null || !c.lastBackups().containsKey(type) ? Double.NaN : f.apply(c.lastBackups().get(type));
    }

    private static double stream(ClusterState s, Function<StreamStatus, Number> f) {
        return s.stream() == null ? Double.NaN : f.apply(s.stream()).doubleValue();
    }

    private static double drill(ClusterState s, Function<ClusterState.DrillSummary, Number> f) {
        var c = s.catalog();
        return c == null || c.lastDrill() == null ? Double.NaN : f.apply(c.lastDrill()).doubleValue();
    }

    private static double job(ClusterState s, AgentConfig.JobKind k, Function<JobRecord, Number> f) {
        JobRecord r = s.lastJobs().get(k.key());
        return r == null ? Double.NaN : f.apply(r).doubleValue();
    }

    /** The exposition, Prometheus text format 0.0.4. */
    public String scrape() {
        return registry.scrape();
    }
}
