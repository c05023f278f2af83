package io.lifeboat.agent.http.dashboard;

import io.lifeboat.SecretMask;
import io.lifeboat.agent.ClusterState;
import io.lifeboat.agent.JobRecord;
import io.lifeboat.agent.ProblemBoard;
import io.lifeboat.agent.StreamStatus;
import io.lifeboat.catalog.BackupEntry;
import io.lifeboat.catalog.BackupId;
import io.lifeboat.catalog.RepositoryLayout;
import io.lifeboat.engine.plan.ArchiveIndex;
import io.lifeboat.engine.plan.RecoverabilityTimeline;
import io.lifeboat.engine.plan.RepositorySnapshot;
import io.lifeboat.engine.plan.RestorePlanner;
import io.lifeboat.postgres.TimelineId;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the pages show and the API returns (the same records, serialised by Jackson), built from a
 * cluster's snapshot and live state. Every text that may come from the repository, the server or
 * the configuration is passed through {@link SecretMask} here; the pages escape it as HTML.
 */
final class DashboardModel {
    private DashboardModel() {
    }

    record Fleet(Instant generated, List<FleetRow> clusters) {
    }

    /**
     * One cluster at a glance.
     *
     * @param stream         the WAL stream (null when the cluster has none: archive_command feeds the archive)
     * @param newestWal      when the newest archived WAL was stored, and how long ago (archive lag)
     * @param newestBackups  the newest complete backup of each type
     * @param repositories   what each repository holds
     * @param running        the scheduled job running now, or null
     */
    record FleetRow(String name, String state, List<String> reasons, Pitr pitr, Stream stream, Instant newestWal,
                    Double newestWalAgeSeconds, Map<String, BackupAge> newestBackups, Drill lastDrill,
                    List<RepositorySnapshot.Usage> repositories, Instant refreshed, Running running) {
    }

    /** A scheduled job running now, and for how long so far. */
    record Running(String kind, Instant scheduled, Instant since, double seconds) {
        static Running of(ClusterState.RunningJob j, Instant now) {
            return j == null ? null : new Running(j.kind(), j.scheduled(), j.since(),
                    Math.max(0, Duration.between(j.since(), now).toMillis() / 1000.0));
        }
    }

    /** The recoverable window; {@code windows} > 1 when gaps split it (each listed on the cluster page). */
    record Pitr(Instant oldest, Instant newest, int windows) {
    }

    record Stream(String state, long timeline, long lagBytes, double lagSeconds, long retainedBytes, String stored,
                  Instant lastStoredAt, String lastError, boolean synchronous) {
        static Stream of(StreamStatus s) {
            return s == null ? null : new Stream(s.state(), s.timeline(), s.lagBytes(), s.lagSeconds(), s.retainedBytes(),
                    s.stored(), s.lastStoredAt(), SecretMask.uri(s.lastError()), s.synchronous());
        }
    }

    record BackupAge(String id, Instant end, double ageSeconds, double seconds, long storedBytes) {
    }

    record Drill(String backup, Instant time, boolean ok, double seconds, String target, List<String> problems) {
    }

    /** The cluster page: the summary, the timeline, the backups, the job history and the 30-day charts. */
    record Cluster(FleetRow summary, RecoverabilityTimeline.Timeline timeline, List<BackupRow> backups,
                   List<Unfinished> unfinished, List<Job> jobs, Charts charts, List<ProblemBoard.Problem> problems,
                   List<String> notes, Map<String, Instant> nextRuns, boolean drillsEnabled) {
    }

    /** A backup with the repositories holding its manifest and its newest drill. */
    record BackupRow(RecoverabilityTimeline.BackupMark backup, List<String> repositories, Drill lastDrill) {
    }

    record Unfinished(String id, long storedBytes, int objects, Instant lastModified) {
    }

    record Job(String kind, Instant scheduled, Instant started, Instant finished, double seconds, boolean ok,
               String summary, String host) {
        static Job of(JobRecord r) {
            return new Job(r.kind(), r.scheduled(), r.started(), r.finished(), r.seconds(), r.ok(),
                    SecretMask.uri(r.summary()), r.host());
        }
    }

    /** Series over the last 30 days. */
    record Charts(Instant from, Instant to, List<Point> backupSeconds, List<Point> backupBytes,
                  List<Point> walBytesPerHour, List<Point> lagSeconds, List<Point> jobSeconds) {
    }

    /** @param label what the point is (a backup id, a job kind) */
    record Point(Instant time, double value, String label) {
    }

    static final Duration CHART_SPAN = Duration.ofDays(30);

    static FleetRow row(ClusterBoard b, Instant now) {
        ClusterBoard.Snapshot s = b.snapshot();
        RecoverabilityTimeline.Timeline tl = s.timeline();
        Health.Verdict v = Health.judge(tl, s.error(), b.problems(), b.state().stream(), b.streamConfigured(), now);
        Pitr pitr = tl == null ? null : new Pitr(tl.oldestRestorable(), tl.newestRestorable(), tl.windows().size());
        Map<String, BackupAge> newest = new LinkedHashMap<>();
        Drill drill = null;
        Instant newestWal = null;
        if (tl != null) {
            for (RecoverabilityTimeline.BackupMark m : tl.backups()) {
                newest.put(m.type(), new BackupAge(m.id(), m.stop(), Duration.between(m.stop(), now).toMillis() / 1000.0,
                        m.seconds(), m.storedBytes()));
            }
            drill = tl.drills().stream().max(Comparator.comparing(RecoverabilityTimeline.DrillMark::time))
                    .map(DashboardModel::drill).orElse(null);
            for (RecoverabilityTimeline.Lane l : tl.lanes()) {
                for (RecoverabilityTimeline.Band band : l.bands()) {
                    newestWal = later(newestWal, band.to());
                }
                newestWal = later(newestWal, l.partialStored());
            }
        }
        return new FleetRow(b.name(), v.id(), v.reasons(), pitr, Stream.of(b.state().stream()), newestWal,
                newestWal == null ? null : Duration.between(newestWal, now).toMillis() / 1000.0, newest, drill,
                s.repo() == null ? List.of() : s.repo().usage(), s.taken(), Running.of(b.state().running(), now));
    }

    static Drill drill(RecoverabilityTimeline.DrillMark d) {
        return new Drill(d.backup(), d.time(), d.ok(), d.seconds(), d.target(),
                d.problems().stream().map(SecretMask::uri).toList());
    }

    static Cluster cluster(ClusterBoard b, boolean drillsEnabled, Instant now) {
        ClusterBoard.Snapshot s = b.snapshot();
        FleetRow row = row(b, now);
        RecoverabilityTimeline.Timeline tl = s.timeline();
        List<BackupRow> backups = new ArrayList<>();
        List<Unfinished> unfinished = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        if (s.repo() != null) {
            RepositorySnapshot rs = s.repo();
            notes.addAll(rs.notes());
            notes.addAll(tl.notes());
            for (RecoverabilityTimeline.BackupMark m : tl.backups()) {
                List<String> holding = new ArrayList<>();
                for (RestorePlanner.Member mb : rs.members()) {
                    if (mb.error() == null && mb.keys().contains(new RepositoryLayout(b.name()).manifest(
                            BackupId.parse(m.id())))) {
                        holding.add(mb.name());
                    }
                }
                Drill d = tl.drills().stream().filter(x -> x.backup().equals(m.id()))
                        .max(Comparator.comparing(RecoverabilityTimeline.DrillMark::time)).map(DashboardModel::drill)
                        .orElse(null);
                backups.add(new BackupRow(m, holding, d));
            }
            for (BackupEntry e : rs.entries()) {
                if (!e.complete()) {
                    unfinished.add(new Unfinished(e.id().toString(), e.storedBytes(), e.objectCount(), e.lastModified()));
                }
            }
        }
        List<Job> jobs = s.jobs().stream().map(Job::of).toList();
        return new Cluster(row, tl, backups, unfinished, jobs, charts(tl, s.repo() == null ? null : s.repo().archive(),
                s.jobs(), b.lag(), now), b.problems().stream().map(p -> new ProblemBoard.Problem(p.cluster(), p.key(),
                SecretMask.uri(p.message()), p.since())).toList(), notes, new TreeMap<>(b.state().nextRuns()), drillsEnabled);
    }

    static Charts charts(RecoverabilityTimeline.Timeline tl, ArchiveIndex archive, List<JobRecord> jobs,
                         List<ClusterBoard.LagSample> lag, Instant now) {
        Instant from = now.minus(CHART_SPAN);
        List<Point> seconds = new ArrayList<>();
        List<Point> bytes = new ArrayList<>();
        if (tl != null) {
            for (RecoverabilityTimeline.BackupMark m : tl.backups()) {
                if (m.stop().isAfter(from)) {
                    seconds.add(new Point(m.stop(), m.seconds(), m.id()));
                    bytes.add(new Point(m.stop(), m.storedBytes(), m.id()));
                }
            }
        }
        TreeMap<Instant, Long> perHour = new TreeMap<>();
        if (archive != null) {
            for (TimelineId t : archive.timelines()) {
                for (ArchiveIndex.Entry e : archive.segments(t).values()) {
                    if (e.stored() != null && e.stored().isAfter(from)) {
                        perHour.merge(e.stored().truncatedTo(ChronoUnit.HOURS), e.storedBytes(), Long::sum);
                    }
                }
            }
        }
        List<Point> wal = perHour.entrySet().stream().map(e -> new Point(e.getKey(), e.getValue(), "stored")).toList();
        List<Point> lagPoints = lag.stream().filter(x -> x.time().isAfter(from))
                .map(x -> new Point(x.time(), x.seconds(), Format.bytes(x.bytes()))).toList();
        List<Point> jobPoints = jobs.stream().filter(j -> j.started().isAfter(from))
                .map(j -> new Point(j.started(), j.seconds(), j.kind() + (j.ok() ? "" : " (failed)"))).toList();
        return new Charts(from, now, thin(seconds, from, now), thin(bytes, from, now), wal, thin(lagPoints, from, now),
                thin(jobPoints, from, now));
    }

    /** At most this many points per chart: one per hour of the 30 days (the lag is sampled every refresh). */
    static final int CHART_POINTS = 720;

    /**
     * The series as it is when short; else the highest point of each of {@link #CHART_POINTS} equal
     * stretches of time, so a chart of 30 days of samples stays small and still shows every peak.
     */
    static List<Point> thin(List<Point> points, Instant from, Instant to) {
        if (points.size() <= CHART_POINTS) {
            return points;
        }
        double span = Math.max(1, Duration.between(from, to).toMillis());
        TreeMap<Integer, Point> highest = new TreeMap<>();
        for (Point p : points) {
            int bucket = (int) Math.min(CHART_POINTS - 1, Math.max(0, Duration.between(from, p.time()).toMillis()
                    * CHART_POINTS / span));
            highest.merge(bucket, p, (a, b) -> b.value() > a.value() ? b : a);
        }
        return List.copyOf(highest.values());
    }

    private static Instant later(Instant a, Instant b) {
        return a == null ? b : b == null ? a : a.isAfter(b) ? a : b;
    }
}
