package io.lifeboat.agent.stream;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.config.AgentConfig;
import io.lifeboat.postgres.Lsn;
import io.lifeboat.postgres.ReplicationConnection;
import io.lifeboat.postgres.TimelineId;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * One START_REPLICATION on one timeline, until it fails, the timeline ends or the agent stops.
 * Three threads: the reader puts arriving WAL into segments; the uploader stores whole segments and
 * partials in order; the calling thread decides when a partial is due, and tells the server what is
 * stored (flush) only after the uploader stored it in min-repositories, so the slot keeps every byte
 * not yet stored.
 */
final class StreamSession {
    /** How a session ended without failing. */
    record Outcome(ReplicationConnection.TimelineEnd timelineEnd) {
    }

    /** Progress, for the stream's status. */
    interface Observer {
        void progress(Lsn received, Lsn stored, long serverEnd, double lagSeconds);

        /** @param added how many bytes of WAL this stored beyond what was stored before */
        void stored(SegmentAssembler.Piece p, long added);
    }

    private static final int QUEUED_SEGMENTS = 4;

    private final ReplicationConnection rc;
    private final SegmentStore store;
    private final AgentConfig.Stream cfg;
    private final SegmentAssembler assembler;
    private final Observer observer;
    private final BlockingQueue<SegmentAssembler.Piece> uploads = new LinkedBlockingQueue<>(QUEUED_SEGMENTS + 1);
    private final Object signal = new Object();
    private final ArrayDeque<long[]> serverEnds = new ArrayDeque<>(); // {position, nanoTime first seen}
    private volatile Lsn stored;
    private volatile long serverEnd;
    private volatile Throwable failure;
    private volatile Throwable readFailure;
    private volatile ReplicationConnection.TimelineEnd ended;
    private volatile boolean replyNow;
    private volatile boolean uploading;
    private volatile boolean partialQueued;
    private volatile boolean closing;

    /**
     * @param start    where streaming starts (a segment start)
     * @param flushed  what the slot already holds as flushed: never reported lower, never overwritten by a smaller partial
     */
    StreamSession(ReplicationConnection rc, SegmentStore store, AgentConfig.Stream cfg, TimelineId timeline,
                  long segmentSize, Lsn start, Lsn flushed, Observer observer) {
        this.rc = rc;
        this.store = store;
        this.cfg = cfg;
        this.assembler = new SegmentAssembler(timeline, segmentSize, start);
        this.stored = flushed.compareTo(start) > 0 ? flushed : start;
        this.observer = observer;
    }

    /** Streams until the timeline ends (returned) or {@code stopping} says so (null outcome); throws on failure. */
    Outcome run(BooleanSupplier stopping, Duration grace) throws InterruptedException {
        Thread reader = new Thread(this::read, "lifeboat-stream-reader");
        Thread uploader = new Thread(this::upload, "lifeboat-stream-uploader");
        reader.setDaemon(true);
        uploader.setDaemon(true);
        reader.start();
        uploader.start();
        try {
            long lastPartial = System.nanoTime();
            long lastStatus = 0;
            Lsn reported = null;
            long tick = TimeUnit.MILLISECONDS.toNanos(cfg.synchronous() ? 20 : 200);
            while (true) {
                synchronized (signal) {
                    signal.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(tick)));
                }
                if (readFailure != null && failure == null) {
                    // The connection is gone (server stopped, network lost): store what arrived before saying so.
                    queuePartial(true, grace);
                    drain(grace);
                    failure = readFailure;
                }
                rethrow();
                boolean stop = stopping.getAsBoolean();
                if (stop || ended != null) {
                    queuePartial(true, stop ? grace : Duration.ofMinutes(1));
                    drain(stop ? grace : Duration.ofMinutes(5));
                    rethrow();
                    sendStatus();
                    return new Outcome(ended);
                }
                long now = System.nanoTime();
                boolean due = cfg.synchronous() || now - lastPartial >= cfg.flushInterval().toNanos();
                if (due && !partialQueued && queuePartial(false, Duration.ZERO)) {
                    lastPartial = now;
                }
                Lsn s = stored;
                if (replyNow || now - lastStatus >= TimeUnit.SECONDS.toNanos(1) || !s.equals(reported)) {
                    replyNow = false;
                    sendStatus();
                    reported = s;
                    lastStatus = now;
                }
                Lsn received;
                synchronized (assembler) {
                    received = assembler.received();
                }
                observer.progress(received, stored, serverEnd, lagSeconds());
            }
        } finally {
            closing = true;
            rc.abort(); // unblocks the reader
            uploader.interrupt();
            reader.join(5000);
            uploader.join(5000);
        }
    }

    private void sendStatus() {
        Lsn received;
        synchronized (assembler) {
            received = assembler.received();
        }
        rc.sendStatus(received, stored, false);
    }

    /**
     * Queues the unfinished segment as a partial when it holds WAL beyond what is stored. With
     * {@code wait}, waits up to {@code timeout} for room in the queue (the final partial at a stop).
     */
    private boolean queuePartial(boolean wait, Duration timeout) throws InterruptedException {
        SegmentAssembler.Piece p;
        synchronized (assembler) {
            p = assembler.partial();
        }
        if (p == null || p.end().compareTo(stored) <= 0) {
            return false;
        }
        partialQueued = true;
        boolean queued = wait ? uploads.offer(p, timeout.toMillis(), TimeUnit.MILLISECONDS) : uploads.offer(p);
        if (!queued) {
            partialQueued = false;
        }
        return queued;
    }

    /** Waits until everything queued is stored, at most {@code timeout}. */
    private void drain(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while ((!uploads.isEmpty() || uploading) && System.nanoTime() < deadline && failure == null) {
            synchronized (signal) {
                signal.wait(50);
            }
        }
    }

    private void read() {
        try {
            while (!closing) {
                ReplicationConnection.StreamMessage m = rc.receive();
                if (m instanceof ReplicationConnection.XLogData d) {
                    List<SegmentAssembler.Piece> whole = new ArrayList<>(1);
                    synchronized (assembler) {
                        assembler.append(d.start(), d.data(), d.length(), whole::add);
                    }
                    noteServerEnd(Math.max(d.walEnd(), d.start() + d.length()));
                    for (SegmentAssembler.Piece p : whole) {
                        uploads.put(p); // blocks while the uploader is behind: the server waits, the slot holds the WAL
                    }
                    if (cfg.synchronous() && !rc.hasMessagePending()) {
                        wake();
                    }
                } else if (m instanceof ReplicationConnection.Keepalive k) {
                    noteServerEnd(k.walEnd());
                    if (k.replyRequested()) {
                        replyNow = true;
                        wake();
                    }
                } else if (m instanceof ReplicationConnection.TimelineEnd t) {
                    ended = t;
                    wake();
                    return;
                }
            }
        } catch (Throwable t) {
            if (!closing) {
                readFailure = t;
                wake();
            }
        }
    }

    private void upload() {
        try {
            while (!closing) {
                SegmentAssembler.Piece p = uploads.poll(100, TimeUnit.MILLISECONDS);
                if (p == null) {
                    continue;
                }
                uploading = true;
                try {
                    store.store(p);
                } finally {
                    uploading = false;
                }
                long added = Math.max(0, p.end().value() - stored.value());
                if (p.end().compareTo(stored) > 0) {
                    stored = p.end();
                }
                if (p.partial()) {
                    partialQueued = false;
                }
                observer.stored(p, added);
                wake();
            }
        } catch (InterruptedException e) {
            // closing
        } catch (Throwable t) {
            if (!closing) {
                failure = t;
                wake();
            }
        }
    }

    private void wake() {
        synchronized (signal) {
            signal.notifyAll();
        }
    }

    private void rethrow() {
        Throwable t = failure;
        if (t instanceof RuntimeException re) {
            throw re;
        }
        if (t instanceof Error e) {
            throw e;
        }
        if (t != null) {
            throw new LifeboatException(t instanceof java.io.IOException ? ErrorKind.STORAGE : ErrorKind.GENERAL,
                    "WAL streaming failed: " + t, "the stream restarts from the slot's position", t);
        }
    }

    private synchronized void noteServerEnd(long end) {
        if (end > serverEnd) {
            serverEnd = end;
            long now = System.nanoTime();
            if (serverEnds.isEmpty() || now - serverEnds.peekLast()[1] > 100_000_000L) {
                serverEnds.addLast(new long[] {end, now});
            } else {
                serverEnds.peekLast()[0] = end;
            }
        }
    }

    /** How long the oldest WAL not yet stored has been on the server (0 when everything is stored). */
    private synchronized double lagSeconds() {
        long s = stored.value();
        while (serverEnds.size() > 1 && serverEnds.peekFirst()[0] <= s) {
            serverEnds.pollFirst();
        }
        if (serverEnds.isEmpty() || serverEnd <= s) {
            return 0;
        }
        long[] first = serverEnds.peekFirst();
        return (System.nanoTime() - first[1]) / 1e9;
    }
}
