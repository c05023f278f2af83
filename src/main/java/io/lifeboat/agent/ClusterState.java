package io.lifeboat.agent;

import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The live state of one cluster in the agent, written by its services and read by metrics,
 * /healthz, the lease object and notifications. Every field is safe to read from any thread.
 */
public final class ClusterState {
    /** What the repository says, refreshed by the catalog watcher. */
    public record CatalogSummary(Instant refreshed, Map<String, BackupSummary> lastBackups, long bytesStored,
                                 Instant oldestRestorable, Instant newestRestorable, DrillSummary lastDrill) {
    }

    /** The newest complete backup of one type. */
    public record BackupSummary(String id, Instant end, double seconds, long bytes) {
    }

    public record DrillSummary(String backup, Instant time, boolean ok, double seconds) {
    }

    /** A scheduled job running now: its kind, the cron time it is for, when it started. */
    public record RunningJob(String kind, Instant scheduled, Instant since) {
    }

    private final String cluster;
    private volatile RunningJob running;
    private volatile StreamStatus stream;
    private volatile CatalogSummary catalog;
    private final Map<String, JobRecord> lastJobs = new ConcurrentHashMap<>();
    private final Map<String, Instant> nextRuns = new ConcurrentHashMap<>();
    private final AtomicLong jobFailures = new AtomicLong();
    private final AtomicLong repositoryErrors = new AtomicLong();

    public ClusterState(String cluster) {
        this.cluster = cluster;
    }

    public String cluster() {
        return cluster;
    }

    public StreamStatus stream() {
        return stream;
    }

    public void stream(StreamStatus s) {
        stream = s;
    }

    public CatalogSummary catalog() {
        return catalog;
    }

    public void catalog(CatalogSummary c) {
        catalog = c;
    }

    public Map<String, JobRecord> lastJobs() {
        return Map.copyOf(lastJobs);
    }

    /** The scheduled job running now, or null. */
    public RunningJob running() {
        return running;
    }

    public void jobStarted(RunningJob j) {
        running = j;
    }

    public void jobFinished(JobRecord r) {
        running = null;
        lastJobs.put(r.kind(), r);
        if (!r.ok()) {
            jobFailures.incrementAndGet();
        }
    }

    public Map<String, Instant> nextRuns() {
        return Map.copyOf(nextRuns);
    }

    public void nextRun(String kind, Instant at) {
        nextRuns.put(kind, at);
    }

    public long jobFailures() {
        return jobFailures.get();
    }

    public long repositoryErrors() {
        return repositoryErrors.get();
    }

    public void repositoryError() {
        repositoryErrors.incrementAndGet();
    }
}
