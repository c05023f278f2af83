package io.lifeboat.agent.stream;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.agent.AgentService;
import io.lifeboat.agent.ClusterState;
import io.lifeboat.agent.ProblemBoard;
import io.lifeboat.agent.StreamStatus;
import io.lifeboat.catalog.Catalog;
import io.lifeboat.config.AgentConfig;
import io.lifeboat.engine.archive.WalArchive;
import io.lifeboat.postgres.Lsn;
import io.lifeboat.postgres.PgConnectionSettings;
import io.lifeboat.postgres.PgVersion;
import io.lifeboat.postgres.ReplicationConnection;
import io.lifeboat.postgres.TimelineId;

import java.io.IOException;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * WAL streaming over a physical replication slot (what pg_receivewal and Barman's receive-wal do),
 * stored in the repository exactly as wal-push stores it. Resumes from the slot's position after any
 * failure (server restart, network loss, repository down) with back-off; follows timeline switches
 * (storing each history file); raises problems when the stream falls behind or the slot holds too
 * much WAL on the server.
 */
public final class WalStreamService implements AgentService {
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);

    private final PgConnectionSettings conn;
    private final AgentConfig.Stream cfg;
    private final Catalog catalog;
    private final WalArchive archive;
    private final ClusterState state;
    private final ProblemBoard problems;
    private final Consumer<String> log;
    private final String cluster;
    private final AtomicLong segments = new AtomicLong();
    private final AtomicLong partials = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicLong reconnects = new AtomicLong();
    /**
     * Deletes partial pieces that larger ones replaced, off the stream's path (a synchronous commit
     * waits for its piece, not for the cleanup); when it falls far behind, the uploader deletes itself.
     */
    private final ThreadPoolExecutor cleaner = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS,
            new ArrayBlockingQueue<>(10_000), r -> {
                Thread t = new Thread(r, "lifeboat-stream-cleanup");
                t.setDaemon(true);
                return t;
            }, new ThreadPoolExecutor.CallerRunsPolicy());
    private volatile boolean stopping;
    private volatile Instant lastStoredAt;
    private volatile String lastError;
    private volatile long timeline;
    private Thread thread;
    private String systemIdentifier;
    /** Where the next session starts when the last one ended its timeline (else: the slot's position). */
    private ReplicationConnection.TimelineEnd next;

    public WalStreamService(String cluster, PgConnectionSettings conn, AgentConfig.Stream cfg, Catalog catalog,
                            WalArchive archive, ClusterState state, ProblemBoard problems, Consumer<String> log) {
        this.cluster = cluster;
        this.conn = conn;
        this.cfg = cfg;
        this.catalog = catalog;
        this.archive = archive;
        this.state = state;
        this.problems = problems;
        this.log = log;
        state.stream(StreamStatus.initial(cfg.slot(), cfg.synchronous()));
    }

    @Override
    public String name() {
        return "WAL stream (slot " + cfg.slot() + ")";
    }

    /**
     * Checks what would make streaming impossible (the REPLICATION attribute, replication slots, the
     * slot in use, another cluster's repository prefix) and fails at once with what to change;
     * a server that is only down is waited for in the background.
     */
    @Override
    public void start() {
        Started first = null;
        try {
            first = begin();
        } catch (LifeboatException e) {
            if (!transientFailure(e)) {
                throw e;
            }
            log.accept("warning: cluster '" + cluster + "': " + e.getMessage() + "; the stream retries in the background");
        }
        Started ready = first;
        thread = new Thread(() -> loop(ready), "lifeboat-stream-" + cluster);
        thread.start();
    }

    /** A connection whose START_REPLICATION the server accepted. */
    private record Started(ReplicationConnection rc, long timeline, long segmentSize, Lsn start, Lsn flushed) {
    }

    /** IDENTIFY_SYSTEM, the repository's cluster.json, the slot (created when missing and allowed). */
    private ReplicationConnection.SlotInfo prepare(ReplicationConnection rc) {
        PgVersion version = rc.serverVersion();
        if (version.major() < 15) {
            throw new LifeboatException(ErrorKind.DATABASE, "WAL streaming needs PostgreSQL 15 or newer; the server at "
                    + conn.host() + ":" + conn.port() + " is " + version, "archive WAL with archive_command (lifeboat "
                    + "wal-push) instead");
        }
        ReplicationConnection.SystemIdentity id = rc.identifySystem();
        catalog.ensureClusterInfo(id.systemIdentifier(), version.major());
        systemIdentifier = id.systemIdentifier();
        var slot = rc.readReplicationSlot(cfg.slot());
        if (slot.isEmpty()) {
            if (!cfg.createSlot()) {
                throw new LifeboatException(ErrorKind.CONFIG, "the replication slot '" + cfg.slot() + "' does not exist on "
                        + conn.host() + ":" + conn.port(), "create it (SELECT pg_create_physical_replication_slot('"
                        + cfg.slot() + "', true);) or set agent.stream.create-slot: true");
            }
            try {
                rc.createPhysicalSlot(cfg.slot());
                log.accept("cluster '" + cluster + "': created the physical replication slot '" + cfg.slot() + "'");
            } catch (LifeboatException e) {
                if (!String.valueOf(e.getMessage()).contains("already exists")) {
                    throw e; // else another client created it a moment ago: use it (or be refused as it streams)
                }
            }
            slot = rc.readReplicationSlot(cfg.slot());
        }
        ReplicationConnection.SlotInfo s = slot.orElseThrow();
        if (!"physical".equals(s.type())) {
            throw new LifeboatException(ErrorKind.CONFIG, "the replication slot '" + cfg.slot() + "' on " + conn.host() + ":"
                    + conn.port() + " is a " + s.type() + " slot", "name a physical slot in agent.stream.slot, or drop "
                    + "this one if nothing uses it");
        }
        return s;
    }

    private void loop(Started first) {
        Duration backoff = Duration.ofSeconds(1);
        Started ready = first;
        while (!stopping) {
            long before = segments.get() + partials.get();
            try {
                Started s = ready != null ? ready : begin();
                ready = null;
                run(s);
                backoff = Duration.ofSeconds(1);
                problems.resolve(cluster, "stream", "streaming again");
            } catch (Throwable e) {
                if (stopping) {
                    break;
                }
                LifeboatException le = e instanceof LifeboatException l ? l
                        : new LifeboatException(ErrorKind.GENERAL, String.valueOf(e), null, e);
                lastError = le.getMessage();
                if (le.kind() == ErrorKind.STORAGE) {
                    state.repositoryError();
                }
                if (segments.get() + partials.get() > before) {
                    backoff = Duration.ofSeconds(1); // it worked for a while: start the back-off over
                }
                problems.raise(cluster, "stream", "WAL stream of cluster '" + cluster + "' failed: " + le.getMessage()
                        + (le.hint() == null ? "" : " (" + le.hint() + ")") + "; retrying in " + backoff.toSeconds() + " s");
                log.accept("warning: cluster '" + cluster + "': WAL stream failed: " + le.getMessage() + "; retrying in "
                        + backoff.toSeconds() + " s");
                publish("retrying", null, null, 0, 0);
                sleep(backoff);
                backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
                reconnects.incrementAndGet();
            }
        }
        publish("stopped", null, null, 0, 0);
    }

    private void sleep(Duration d) {
        long end = System.nanoTime() + d.toNanos();
        while (!stopping && System.nanoTime() < end) {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Connects and starts streaming from the slot's position (or the next timeline's start). */
    private Started begin() {
        ReplicationConnection rc = ReplicationConnection.open(conn, cfg.applicationName());
        try {
            ReplicationConnection.SlotInfo slot = prepare(rc);
            long segmentSize = rc.walSegmentSize();
            ReplicationConnection.SystemIdentity id = rc.identifySystem();
            long tli;
            Lsn start;
            Lsn flushed = slot.restartLsn() != null ? slot.restartLsn() : id.walPosition();
            if (next != null && next.switchPoint() != null) {
                tli = next.nextTimeline();
                start = next.switchPoint();
            } else if (slot.restartLsn() != null) {
                tli = slot.restartTimeline() != null ? slot.restartTimeline() : id.timeline();
                start = slot.restartLsn();
            } else {
                tli = id.timeline();
                start = id.walPosition();
            }
            start = new Lsn(start.value() - start.value() % segmentSize);
            if (tli > 1) {
                ReplicationConnection.HistoryFile h = rc.timelineHistory(tli);
                try {
                    archive.push(io.lifeboat.postgres.WalFileName.parse(h.name()), h.content(), h.content().length);
                } catch (IOException e) {
                    throw new LifeboatException(ErrorKind.STORAGE, "cannot store the timeline history file " + h.name()
                            + ": " + e.getMessage(), "check the repository", e);
                }
            }
            timeline = tli;
            publish("connecting", null, null, 0, 0);
            rc.startReplication(cfg.slot(), start, tli);
            return new Started(rc, tli, segmentSize, start, flushed);
        } catch (RuntimeException e) {
            rc.close();
            throw e;
        }
    }

    /** Streams on a started connection until it fails, its timeline ends or the agent stops. */
    private void run(Started st) throws InterruptedException {
        try (ReplicationConnection rc = st.rc()) {
            long tli = st.timeline();
            Lsn start = st.start();
            long segmentSize = st.segmentSize();
            Lsn flushed = st.flushed();
            log.accept("cluster '" + cluster + "': streaming WAL from " + start + " on timeline " + tli + " (slot "
                    + cfg.slot() + (cfg.synchronous() ? ", synchronous" : "") + ")");
            problems.resolve(cluster, "stream", "streaming again");
            SegmentStore store = new SegmentStore(archive, systemIdentifier, cfg.synchronous(), cfg.flushInterval(), cleaner,
                    log);
            StreamSession s = new StreamSession(rc, store, cfg, TimelineId.of(tli), segmentSize, start, flushed,
                    new StreamSession.Observer() {
                        @Override
                        public void progress(Lsn received, Lsn stored, long serverEnd, double lag) {
                            publish("streaming", received, stored, serverEnd, lag);
                        }

                        @Override
                        public void stored(SegmentAssembler.Piece p, long added) {
                            (p.partial() ? partials : segments).incrementAndGet();
                            bytes.addAndGet(added);
                            lastStoredAt = Instant.now();
                            if (System.getenv("LIFEBOAT_AGENT_DEBUG") != null) {
                                log.accept("stored " + (p.partial() ? "partial " : "") + p.name() + " up to " + p.end());
                            }
                        }
                    });
            next = null;
            StreamSession.Outcome o = s.run(() -> stopping, Duration.ofSeconds(20));
            if (o.timelineEnd() != null) {
                if (o.timelineEnd().switchPoint() == null) {
                    throw new LifeboatException(ErrorKind.DATABASE, "the server ended the stream of timeline " + tli
                            + " without naming the next one", "the stream restarts from the slot's position");
                }
                next = o.timelineEnd();
                log.accept("cluster '" + cluster + "': timeline " + tli + " ended at " + next.switchPoint()
                        + "; following timeline " + next.nextTimeline());
            }
        }
    }

    private volatile Lsn lastReceived;
    private volatile Lsn lastStored;

    private void publish(String st, Lsn received, Lsn stored, long serverEnd, double lag) {
        if (received != null) {
            lastReceived = received;
        }
        if (stored != null) {
            lastStored = stored;
        }
        StreamStatus before = state.stream();
        long end = serverEnd > 0 ? serverEnd : before == null || before.serverEnd() == null ? 0 : Lsn.parse(before.serverEnd()).value();
        Lsn st2 = lastStored;
        long lagBytes = st2 == null || end == 0 ? 0 : Math.max(0, end - st2.value());
        double lagSeconds = st.equals("streaming") ? lag : before == null ? 0 : before.lagSeconds();
        StreamStatus s = new StreamStatus(st, cfg.slot(), timeline, lastReceived == null ? null : lastReceived.toString(),
                st2 == null ? null : st2.toString(), end == 0 ? null : new Lsn(end).toString(), lagBytes, lagSeconds,
                lagBytes, segments.get(), partials.get(), bytes.get(), reconnects.get(), lastStoredAt,
                st.equals("streaming") ? null : lastError, cfg.synchronous());
        state.stream(s);
        alerts(s);
    }

    /** A stream falling behind, or a slot holding too much WAL on the server, is a problem until it is not. */
    private void alerts(StreamStatus s) {
        if (s.lagSeconds() > cfg.lagAlert().toSeconds()) {
            problems.raise(cluster, "stream-lag", "the WAL stream of cluster '" + cluster + "' is " + Math.round(s.lagSeconds())
                    + " s (" + s.lagBytes() + " bytes) behind the server, more than lag-alert (" + cfg.lagAlert().toSeconds()
                    + " s)");
        } else if (s.state().equals("streaming")) {
            problems.resolve(cluster, "stream-lag", "caught up: " + Math.round(s.lagSeconds()) + " s behind");
        }
        if (s.retainedBytes() > cfg.retainedAlert()) {
            problems.raise(cluster, "slot-retention", "the replication slot '" + cfg.slot() + "' holds " + s.retainedBytes()
                    + " bytes of WAL on the server, more than retained-alert (" + cfg.retainedAlert() + "): the server's "
                    + "disk fills while the agent does not store WAL");
        } else if (s.state().equals("streaming")) {
            problems.resolve(cluster, "slot-retention", "the slot holds " + s.retainedBytes() + " bytes");
        }
    }

    @Override
    public void stop(Duration grace) {
        stopping = true;
        try {
            if (thread != null) {
                thread.join(grace.toMillis() + 5000);
            }
            cleaner.shutdown();
            cleaner.awaitTermination(5, TimeUnit.SECONDS); // what is left is covered by larger copies
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A server that is down or restarting, a lost connection, a repository that is down: worth waiting for. */
    static boolean transientFailure(LifeboatException e) {
        if (e.kind() == ErrorKind.STORAGE) {
            return true;
        }
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof SQLException sql && sql.getSQLState() != null
                    && (sql.getSQLState().startsWith("08") || sql.getSQLState().startsWith("57P"))) {
                return true;
            }
            if (c instanceof IOException) {
                return true;
            }
        }
        return false;
    }
}
