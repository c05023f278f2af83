package io.lifeboat.agent.schedule;

import io.lifeboat.LifeboatException;
import io.lifeboat.agent.AgentService;
import io.lifeboat.agent.ClusterState;
import io.lifeboat.agent.ProblemBoard;
import io.lifeboat.catalog.BackupEntry;
import io.lifeboat.catalog.BackupManifest;
import io.lifeboat.catalog.BackupType;
import io.lifeboat.catalog.Catalog;
import io.lifeboat.engine.archive.WalArchive;
import io.lifeboat.engine.verify.DrillRecord;
import io.lifeboat.engine.verify.RestoreDrill;
import io.lifeboat.engine.verify.WalContinuity;
import io.lifeboat.postgres.TimelineId;
import io.lifeboat.postgres.WalFileName;
import io.lifeboat.storage.ObjectInfo;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Reads the repository every so often for what metrics and `status` show (the newest backups, bytes
 * stored, the point-in-time recovery window, the newest drill) and checks that the WAL archive has
 * no gap after the newest physical backup: a gap is a problem (and an alert) until it is closed.
 */
public final class CatalogWatcher implements AgentService {
    private final String cluster;
    private final Catalog catalog;
    private final WalArchive archive;
    private final ClusterState state;
    private final ProblemBoard problems;
    private final Consumer<String> log;
    private final Duration every;
    private volatile boolean stopping;
    private Thread thread;

    public CatalogWatcher(String cluster, Catalog catalog, WalArchive archive, ClusterState state, ProblemBoard problems,
                          Consumer<String> log, Duration every) {
        this.cluster = cluster;
        this.catalog = catalog;
        this.archive = archive;
        this.state = state;
        this.problems = problems;
        this.log = log;
        this.every = every;
    }

    @Override
    public String name() {
        return "repository watcher (every " + every.toSeconds() + " s)";
    }

    @Override
    public void start() {
        thread = new Thread(() -> {
            while (!stopping) {
                refresh();
                try {
                    Thread.sleep(every.toMillis());
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "lifeboat-watch-" + cluster);
        thread.setDaemon(true);
        thread.start();
    }

    /** One look at the repository. */
    public void refresh() {
        try {
            List<BackupEntry> entries = catalog.list();
            Map<String, ClusterState.BackupSummary> last = new HashMap<>();
            long bytes = 0;
            Instant oldest = null;
            BackupManifest newestPhysical = null;
            for (BackupEntry e : entries) {
                if (!e.complete()) {
                    continue;
                }
                BackupManifest m = e.manifest();
                bytes += e.storedBytes();
                last.put(m.type().id(), new ClusterState.BackupSummary(m.id().toString(), m.stopTime(),
                        Duration.between(m.startTime(), m.stopTime()).toMillis() / 1000.0, e.storedBytes()));
                if (m.type() == BackupType.PHYSICAL) {
                    oldest = oldest == null || m.stopTime().isBefore(oldest) ? m.stopTime() : oldest;
                    newestPhysical = m;
                }
            }
            List<ObjectInfo> wal = catalog.storage().list(catalog.layout().walPrefix());
            Instant newestWal = wal.stream().map(ObjectInfo::lastModified).filter(t -> t != null).max(Instant::compareTo)
                    .orElse(null);
            Instant newest = newestPhysical == null ? null : newestWal == null || newestWal.isBefore(newestPhysical.stopTime())
                    ? newestPhysical.stopTime() : newestWal;
            ClusterState.DrillSummary drill = null;
            for (BackupEntry e : entries) {
                Optional<DrillRecord> d = e.complete() ? RestoreDrill.latest(catalog, e.id()) : Optional.empty();
                if (d.isPresent() && (drill == null || d.get().time().isAfter(drill.time()))) {
                    drill = new ClusterState.DrillSummary(e.id().toString(), d.get().time(), d.get().ok(),
                            d.get().restoreSeconds());
                }
            }
            state.catalog(new ClusterState.CatalogSummary(Instant.now(), last, bytes, oldest, newest, drill));
            checkGap(newestPhysical, wal);
            problems.resolve(cluster, "repository", "the repository answers again");
        } catch (LifeboatException | java.io.IOException | java.io.UncheckedIOException e) {
            state.repositoryError();
            problems.raise(cluster, "repository", "cannot read the repository of cluster '" + cluster + "': " + e.getMessage());
        }
    }

    private void checkGap(BackupManifest m, List<ObjectInfo> wal) throws java.io.IOException {
        WalContinuity.BackupWal need = m == null ? null : WalContinuity.BackupWal.of(m);
        if (need == null) {
            return;
        }
        List<String> names = wal.stream().map(o -> WalArchive.fileName(o.key())).filter(n -> n != null).toList();
        Map<TimelineId, String> histories = new HashMap<>();
        for (String n : names) {
            if (n.endsWith(".history")) {
                WalFileName f = WalFileName.parse(n);
                try {
                    archive.read(f).ifPresent(b -> histories.put(f.timeline(), new String(b, StandardCharsets.UTF_8)));
                } catch (LifeboatException e) {
                    // an encrypted history without the identity: followed without it, as verify does
                }
            }
        }
        WalContinuity.Result r = WalContinuity.check(need, names, histories);
        // A hole has archived WAL after it; segments not arrived yet at the end (the backup's stop segment
        // a moment after it ended) are the stream's lag, watched by its own alerts.
        List<String> holes = r.gaps().stream().filter(g -> r.newest() != null
                && g.last().segmentNumber() < r.newest().segmentNumber()).map(g -> "missing " + g + " after backup "
                + m.id()).toList();
        if (holes.isEmpty()) {
            problems.resolve(cluster, "wal-gap", "the WAL archive is complete from " + m.id() + " on");
        } else {
            problems.raise(cluster, "wal-gap", String.join("; ", holes) + " (" + r.hint() + ")");
        }
    }

    @Override
    public void stop(Duration grace) {
        stopping = true;
        if (thread != null) {
            thread.interrupt();
        }
    }
}
