package io.lifeboat.postgres;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import org.postgresql.replication.LogSequenceNumber;
import org.postgresql.replication.PGReplicationStream;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.sql.SQLException;
import java.util.function.Consumer;

/**
 * Streams WAL over a second replication connection while a base backup runs (what
 * {@code pg_basebackup -X stream} does), from the start of the segment holding the backup's start
 * LSN until the backup's stop LSN, and hands over whole segments. A temporary replication slot
 * keeps the server from recycling the segments before they are received.
 */
public final class WalStreamer implements AutoCloseable {
    /** Receives each segment once: {@code data} is the full segment size, zero after {@code validBytes}. */
    public interface SegmentSink {
        void segment(WalSegmentName name, byte[] data, int validBytes) throws IOException;
    }

    private final PgConnectionSettings settings;
    private final TimelineId timeline;
    private final long segmentSize;
    private final Lsn start;
    private final SegmentSink sink;
    private final Consumer<String> log;
    private ReplicationConnection connection;
    private PGReplicationStream stream;
    private Thread thread;
    private volatile Lsn stopAt;
    private volatile boolean aborted;
    private volatile Throwable failure;
    private volatile Lsn received;

    public WalStreamer(PgConnectionSettings settings, TimelineId timeline, long segmentSize, Lsn start, SegmentSink sink,
                       Consumer<String> log) {
        this.settings = settings;
        this.timeline = timeline;
        this.segmentSize = segmentSize;
        this.start = new Lsn(start.value() - start.value() % segmentSize);
        this.sink = sink;
        this.log = log;
        this.received = this.start;
    }

    /** Connects and starts streaming in a background thread. */
    public void start() {
        connection = ReplicationConnection.open(settings);
        String slot = null;
        try {
            slot = "lifeboat_" + Long.toHexString(new SecureRandom().nextLong() & Long.MAX_VALUE);
            connection.pgConnection().getReplicationAPI().createReplicationSlot().physical().withSlotName(slot)
                    .withTemporaryOption().make();
        } catch (SQLException e) {
            log.accept("warning: cannot create a temporary replication slot (" + e.getMessage() + "); streaming WAL "
                    + "without one (the server may recycle WAL if the backup falls far behind)");
            slot = null;
        }
        try {
            var builder = connection.pgConnection().getReplicationAPI().replicationStream().physical()
                    .withStartPosition(LogSequenceNumber.valueOf(start.value()));
            if (slot != null) {
                builder = builder.withSlotName(slot);
            }
            stream = builder.start();
            // Tell the slot where we are, so that it holds back WAL from the start of the backup on.
            stream.setFlushedLSN(LogSequenceNumber.valueOf(start.value()));
            stream.forceUpdateStatus();
        } catch (SQLException e) {
            connection.close();
            throw ReplicationConnection.translate(settings, e.getSQLState(), "cannot stream WAL from " + start + ": "
                    + e.getMessage(), e);
        }
        thread = new Thread(this::run, "lifeboat-wal-stream");
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        long seg = start.segmentNumber(segmentSize);
        byte[] buf = new byte[(int) segmentSize];
        int fill = 0;
        try {
            while (!aborted) {
                Lsn stop = stopAt;
                if (stop != null && received.compareTo(stop) >= 0) {
                    break;
                }
                ByteBuffer b = stream.readPending();
                if (b == null) {
                    Thread.sleep(5);
                    continue;
                }
                // For physical streams pgjdbc reports the end of the payload it returned.
                long lsn = stream.getLastReceiveLSN().asLong() - b.remaining();
                while (b.hasRemaining()) {
                    long s = Long.divideUnsigned(lsn, segmentSize);
                    int offset = (int) (lsn % segmentSize);
                    int n = (int) Math.min(b.remaining(), segmentSize - offset);
                    if (s != seg || offset != fill) {
                        throw new LifeboatException(ErrorKind.DATABASE, "the WAL stream jumped from " + received
                                + " to " + new Lsn(lsn), "run the backup again");
                    }
                    b.get(buf, offset, n);
                    fill = offset + n;
                    lsn += n;
                    received = new Lsn(lsn);
                    if (fill == segmentSize) {
                        emit(seg, buf, fill);
                        seg++;
                        buf = new byte[(int) segmentSize];
                        fill = 0;
                    }
                }
                stream.setFlushedLSN(LogSequenceNumber.valueOf(received.value()));
            }
            Lsn stop = stopAt;
            // The last, partial segment: what recovery needs ends at the stop LSN; the rest stays zero,
            // as in a segment pg_basebackup streamed.
            if (!aborted && fill > 0 && stop != null && seg <= lastSegment(stop)) {
                emit(seg, buf, fill);
            }
        } catch (Throwable t) {
            if (!aborted) {
                failure = t;
            }
        }
    }

    private long lastSegment(Lsn stop) {
        return WalSegmentName.endingAt(timeline, stop, segmentSize).segmentNumber();
    }

    private void emit(long seg, byte[] data, int valid) throws IOException {
        Lsn stop = stopAt;
        if (stop != null && seg > lastSegment(stop)) {
            return; // WAL written after the backup ended: not needed
        }
        sink.segment(new WalSegmentName(timeline, seg, segmentSize), data, valid);
    }

    /** Lets the streamer stop once it has everything up to {@code stop}; waits for that and returns. */
    public void finishAt(Lsn stop, long timeoutMillis) {
        stopAt = stop;
        try {
            thread.join(timeoutMillis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LifeboatException(ErrorKind.INTERRUPTED, "interrupted while streaming WAL");
        }
        rethrow();
        if (thread.isAlive()) {
            throw new LifeboatException(ErrorKind.DATABASE, "the WAL stream reached only " + received + " of " + stop
                    + " after " + timeoutMillis / 1000 + " s", "check the server's load and log, then run the backup again");
        }
    }

    /** Rethrows a failure of the streaming thread. */
    public void rethrow() {
        Throwable t = failure;
        if (t instanceof LifeboatException le) {
            throw le;
        }
        if (t instanceof SQLException e) {
            throw ReplicationConnection.translate(settings, e.getSQLState(), "WAL streaming failed at " + received + ": "
                    + e.getMessage(), e);
        }
        if (t != null) {
            throw new LifeboatException(ErrorKind.DATABASE, "WAL streaming failed at " + received + ": " + t,
                    "check that the server is running and see its log", t);
        }
    }

    public Lsn received() {
        return received;
    }

    @Override
    public void close() {
        aborted = true;
        if (thread != null) {
            try {
                thread.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (stream != null) {
            try {
                stream.close();
            } catch (SQLException ignored) {
                // the connection goes next anyway
            }
        }
        if (connection != null) {
            connection.close();
        }
    }
}
