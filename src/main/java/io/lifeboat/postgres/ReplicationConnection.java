package io.lifeboat.postgres;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import org.postgresql.PGConnection;
import org.postgresql.PGProperty;
import org.postgresql.core.PGStream;
import org.postgresql.core.QueryExecutor;
import org.postgresql.core.QueryExecutorBase;
import org.postgresql.jdbc.PgConnection;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.lang.reflect.Field;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.function.Consumer;

/**
 * A physical replication connection (what pg_basebackup and pg_receivewal use): the walsender
 * protocol, spoken over a connection that pgjdbc opened and authenticated (TLS, SCRAM, pgpass all
 * work as for SQL sessions). pgjdbc has no API for BASE_BACKUP's result sets and COPY stream, so the
 * commands are sent as simple-protocol messages on pgjdbc's own socket stream.
 *
 * <p>Errors are translated into messages that say what to change on the server: the REPLICATION
 * attribute, max_wal_senders, the replication line in pg_hba.conf, wal_level.
 */
public final class ReplicationConnection implements AutoCloseable {
    private final PgConnectionSettings settings;
    private final Connection connection;
    private final PGStream stream;
    private Consumer<String> notices = n -> { };

    private ReplicationConnection(PgConnectionSettings settings, Connection connection, PGStream stream) {
        this.settings = settings;
        this.connection = connection;
        this.stream = stream;
    }

    /** Opens a physical replication connection (replication=true) to the server. */
    public static ReplicationConnection open(PgConnectionSettings s) {
        return open(s, "lifeboat");
    }

    /**
     * As {@link #open(PgConnectionSettings)}, connecting as {@code applicationName} (what
     * synchronous_standby_names and pg_stat_replication show).
     */
    public static ReplicationConnection open(PgConnectionSettings s, String applicationName) {
        Properties p = new Properties();
        p.setProperty("user", s.user());
        String password = s.password() != null ? s.password() : Pgpass.lookup(s.withDatabase("replication"));
        if (password != null) {
            p.setProperty("password", password);
        }
        PGProperty.REPLICATION.set(p, "true");
        PGProperty.ASSUME_MIN_SERVER_VERSION.set(p, "10");
        PGProperty.PREFER_QUERY_MODE.set(p, "simple");
        p.setProperty("ApplicationName", applicationName);
        p.setProperty("connectTimeout", "10");
        p.setProperty("tcpKeepAlive", "true");
        Connection c;
        try {
            c = DriverManager.getConnection(s.jdbcUrl(), p);
        } catch (SQLException e) {
            LifeboatException why = PgSession.connectFailure(s.withDatabase("replication"), e, password != null);
            throw why != null ? why : translate(s, e.getSQLState(), e.getMessage(), e);
        }
        try {
            return new ReplicationConnection(s, c, streamOf(c));
        } catch (RuntimeException e) {
            closeQuietly(c);
            throw e;
        }
    }

    private static PGStream streamOf(Connection c) {
        try {
            QueryExecutor qe = c.unwrap(PgConnection.class).getQueryExecutor();
            Field f = QueryExecutorBase.class.getDeclaredField("pgStream");
            f.setAccessible(true);
            return (PGStream) f.get(qe);
        } catch (ReflectiveOperationException | SQLException | RuntimeException e) {
            throw new LifeboatException(ErrorKind.GENERAL, "this PostgreSQL JDBC driver does not expose its protocol "
                    + "stream (" + e + ")", "Lifeboat is built against pgjdbc 42.7; use the jars it ships with", e);
        }
    }

    /** Receives NOTICE and WARNING messages of the server (e.g. "WAL archiving is not enabled"). */
    public void onNotice(Consumer<String> c) {
        this.notices = c;
    }

    public PgConnectionSettings settings() {
        return settings;
    }

    /** The JDBC connection, for pgjdbc's WAL streaming API. */
    public PGConnection pgConnection() {
        try {
            return connection.unwrap(PGConnection.class);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    public PgVersion serverVersion() {
        try {
            QueryExecutor qe = connection.unwrap(PgConnection.class).getQueryExecutor();
            return new PgVersion(qe.getServerVersionNum());
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** IDENTIFY_SYSTEM: the cluster's identity and where its WAL is now. */
    public record SystemIdentity(String systemIdentifier, long timeline, Lsn walPosition) {
    }

    public SystemIdentity identifySystem() {
        List<List<String>> rows = query("IDENTIFY_SYSTEM").get(0).rows();
        List<String> r = rows.get(0);
        return new SystemIdentity(r.get(0), Long.parseLong(r.get(1)), Lsn.parse(r.get(2)));
    }

    /** The server's WAL segment size in bytes. */
    public long walSegmentSize() {
        return parseSize(show("wal_segment_size"));
    }

    /** A size setting as SHOW prints it (16MB, 8192, 1GB) in bytes. */
    public static long parseSize(String s) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+)\\s*(B|kB|MB|GB|TB)?").matcher(s.trim());
        if (!m.matches()) {
            throw new LifeboatException(ErrorKind.DATABASE, "cannot read the size setting '" + s + "'", null);
        }
        long v = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "B" : m.group(2);
        return switch (unit) {
            case "kB" -> v << 10;
            case "MB" -> v << 20;
            case "GB" -> v << 30;
            case "TB" -> v << 40;
            default -> v;
        };
    }

    /** SHOW on a replication connection (PostgreSQL 10+). */
    public String show(String setting) {
        return query("SHOW " + setting).get(0).rows().get(0).get(0);
    }

    /** One result set of a simple query. */
    public record ResultSet(List<String> columns, List<List<String>> rows) {
    }

    /** Runs a replication command that returns result sets (no COPY). */
    public List<ResultSet> query(String command) {
        try {
            sendQuery(command);
            List<ResultSet> sets = new ArrayList<>();
            ServerError error = null;
            while (true) {
                int type = stream.receiveChar();
                int len = stream.receiveInteger4() - 4;
                switch (type) {
                    case 'T' -> sets.add(new ResultSet(readRowDescription(), new ArrayList<>()));
                    case 'D' -> sets.get(sets.size() - 1).rows().add(readDataRow());
                    case 'E' -> error = readError(len);
                    case 'N' -> notice(readError(len));
                    case 'Z' -> {
                        stream.receive(len);
                        if (error != null) {
                            throw error.toException(settings, command);
                        }
                        return sets;
                    }
                    case 'H', 'W', 'G' -> throw protocol(command, "unexpected COPY response");
                    default -> stream.skip(len); // CommandComplete, ParameterStatus, ...
                }
            }
        } catch (IOException e) {
            throw lost(command, e);
        }
    }

    /** What BASE_BACKUP sends, in order. The receiver of archive data must consume exactly the bytes offered. */
    public interface BaseBackupReceiver {
        /** The start of the backup: the checkpoint's redo location and timeline. */
        void started(Lsn startLsn, long timeline, List<TablespaceInfo> tablespaces) throws IOException;

        /** A new archive begins: base.tar (location "") or OID.tar for a tablespace at {@code location}. */
        void archive(String name, String location) throws IOException;

        /** {@code length} bytes of the current archive are waiting in {@code in}; read all of them. */
        void archiveData(DataSource in, int length) throws IOException;

        /** The server's byte count so far (PROGRESS). */
        void progress(long bytesDone);

        /** PostgreSQL's backup_manifest, in pieces, after the last archive. */
        void manifestData(byte[] data) throws IOException;

        /** The end of the backup: where WAL replay must reach for consistency. */
        void finished(Lsn stopLsn, long timeline) throws IOException;
    }

    /** Reads exactly the bytes a message carries. */
    public interface DataSource {
        void readFully(byte[] b, int off, int len) throws IOException;
    }

    /**
     * @param oid      null for the main data directory
     * @param location null for the main data directory
     * @param size     estimated size in bytes, or -1 when unknown
     */
    public record TablespaceInfo(String oid, String location, long size) {
    }

    /**
     * Runs BASE_BACKUP (PostgreSQL 15+ protocol: one COPY stream with typed messages) and feeds the
     * receiver. Throws a DATABASE error if the server fails or goes away; nothing received so far
     * may be trusted then.
     */
    public void baseBackup(String command, BaseBackupReceiver receiver) {
        try {
            sendQuery(command);
            List<ResultSet> sets = new ArrayList<>();
            ServerError error = null;
            boolean inCopy = false;
            boolean inManifest = false;
            DataSource source = stream::receive;
            while (true) {
                int type = stream.receiveChar();
                int len = stream.receiveInteger4() - 4;
                switch (type) {
                    case 'T' -> sets.add(new ResultSet(readRowDescription(), new ArrayList<>()));
                    case 'D' -> sets.get(sets.size() - 1).rows().add(readDataRow());
                    case 'H' -> {
                        stream.skip(len);
                        if (sets.size() < 2) {
                            throw protocol(command, "COPY began before the start position and tablespace list");
                        }
                        List<String> start = sets.get(0).rows().get(0);
                        List<TablespaceInfo> spaces = new ArrayList<>();
                        for (List<String> r : sets.get(1).rows()) {
                            spaces.add(new TablespaceInfo(r.get(0), r.get(1), r.get(2) == null ? -1 : Long.parseLong(r.get(2)) * 1024));
                        }
                        inCopy = true;
                        receiver.started(Lsn.parse(start.get(0)), Long.parseLong(start.get(1)), spaces);
                    }
                    case 'd' -> {
                        if (!inCopy || len < 1) {
                            throw protocol(command, "CopyData outside of COPY");
                        }
                        int kind = stream.receiveChar();
                        int rest = len - 1;
                        switch (kind) {
                            case 'n' -> {
                                byte[] body = stream.receive(rest);
                                List<String> strings = cStrings(body);
                                inManifest = false;
                                receiver.archive(strings.get(0), strings.size() > 1 ? strings.get(1) : "");
                            }
                            case 'd' -> {
                                if (inManifest) {
                                    receiver.manifestData(stream.receive(rest));
                                } else {
                                    receiver.archiveData(source, rest);
                                }
                            }
                            case 'p' -> {
                                byte[] b = stream.receive(rest);
                                receiver.progress(java.nio.ByteBuffer.wrap(b).getLong());
                            }
                            case 'm' -> {
                                stream.skip(rest);
                                inManifest = true;
                            }
                            default -> stream.skip(rest); // future message types: ignore, as pg_basebackup would not
                        }
                    }
                    case 'c' -> {
                        stream.skip(len);
                        inCopy = false;
                    }
                    case 'E' -> error = readError(len);
                    case 'N' -> notice(readError(len));
                    case 'Z' -> {
                        stream.receive(len);
                        if (error != null) {
                            throw error.toException(settings, "BASE_BACKUP");
                        }
                        if (sets.size() < 3) {
                            throw protocol(command, "the server ended the backup without an end position");
                        }
                        List<String> end = sets.get(sets.size() - 1).rows().get(0);
                        receiver.finished(Lsn.parse(end.get(0)), Long.parseLong(end.get(1)));
                        return;
                    }
                    default -> stream.skip(len);
                }
            }
        } catch (IOException e) {
            throw lost("BASE_BACKUP", e);
        }
    }

    /**
     * UPLOAD_MANIFEST (PostgreSQL 17+): hands the server the backup_manifest of the backup the next
     * BASE_BACKUP ( INCREMENTAL ) on this connection builds on, through COPY FROM STDIN.
     */
    public void uploadManifest(byte[] manifest) {
        String command = "UPLOAD_MANIFEST";
        try {
            sendQuery(command);
            ServerError error = null;
            while (true) {
                int type = stream.receiveChar();
                int len = stream.receiveInteger4() - 4;
                switch (type) {
                    case 'G' -> {
                        stream.skip(len);
                        for (int at = 0; at < manifest.length; at += 65536) {
                            int n = Math.min(65536, manifest.length - at);
                            stream.sendChar('d');
                            stream.sendInteger4(4 + n);
                            stream.send(manifest, at, n);
                        }
                        stream.sendChar('c');
                        stream.sendInteger4(4);
                        stream.flush();
                    }
                    case 'E' -> error = readError(len);
                    case 'N' -> notice(readError(len));
                    case 'Z' -> {
                        stream.receive(len);
                        if (error != null) {
                            throw error.toException(settings, command);
                        }
                        return;
                    }
                    default -> stream.skip(len); // CommandComplete, the result set of the manifest's checks
                }
            }
        } catch (IOException e) {
            throw lost(command, e);
        }
    }

    /** A physical slot as READ_REPLICATION_SLOT describes it; restart fields are null before the slot holds WAL. */
    public record SlotInfo(String type, Lsn restartLsn, Long restartTimeline) {
    }

    /** READ_REPLICATION_SLOT (PostgreSQL 15+): the slot, or empty when there is none of that name. */
    public java.util.Optional<SlotInfo> readReplicationSlot(String slot) {
        List<String> r = query("READ_REPLICATION_SLOT " + PgSession.quoteIdent(slot)).get(0).rows().get(0);
        if (r.get(0) == null) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of(new SlotInfo(r.get(0), r.get(1) == null ? null : Lsn.parse(r.get(1)),
                r.get(2) == null ? null : Long.parseLong(r.get(2))));
    }

    /** Creates a permanent physical slot that holds WAL from now on (RESERVE_WAL). */
    public void createPhysicalSlot(String slot) {
        query("CREATE_REPLICATION_SLOT " + PgSession.quoteIdent(slot) + " PHYSICAL RESERVE_WAL");
    }

    /** TIMELINE_HISTORY: the history file of a timeline (above 1), as the server has it: its name and bytes. */
    public record HistoryFile(String name, byte[] content) {
    }

    public HistoryFile timelineHistory(long timeline) {
        List<String> r = query("TIMELINE_HISTORY " + timeline).get(0).rows().get(0);
        return new HistoryFile(r.get(0), r.get(1).getBytes(StandardCharsets.UTF_8));
    }

    /** A message of a running START_REPLICATION. */
    public sealed interface StreamMessage permits XLogData, Keepalive, TimelineEnd {
    }

    /** WAL from {@code start} on; {@code walEnd}: the end of the server's WAL when it was sent. */
    public record XLogData(long start, long walEnd, long sendTimeMicros, byte[] data, int length) implements StreamMessage {
    }

    public record Keepalive(long walEnd, long sendTimeMicros, boolean replyRequested) implements StreamMessage {
    }

    /**
     * The timeline being streamed ended (the server was promoted, or it is a historic timeline):
     * WAL continues on {@code nextTimeline} from {@code switchPoint}.
     */
    public record TimelineEnd(long nextTimeline, Lsn switchPoint) implements StreamMessage {
    }

    private final Object sendLock = new Object();

    /**
     * START_REPLICATION SLOT s PHYSICAL lsn TIMELINE t: returns once the server streams (then read
     * with {@link #receive()}), or throws an error that says what to change.
     */
    public void startReplication(String slot, Lsn start, long timeline) {
        String command = "START_REPLICATION SLOT " + PgSession.quoteIdent(slot) + " PHYSICAL " + start + " TIMELINE "
                + timeline;
        try {
            synchronized (sendLock) {
                sendQuery(command);
            }
            ServerError error = null;
            while (true) {
                int type = stream.receiveChar();
                int len = stream.receiveInteger4() - 4;
                switch (type) {
                    case 'W' -> {
                        stream.skip(len);
                        return;
                    }
                    case 'E' -> error = readError(len);
                    case 'N' -> notice(readError(len));
                    case 'Z' -> {
                        stream.receive(len);
                        throw error != null ? error.toException(settings, command)
                                : protocol(command, "the server did not start streaming");
                    }
                    default -> stream.skip(len);
                }
            }
        } catch (IOException e) {
            throw lost("START_REPLICATION", e);
        }
    }

    /** The next message of the stream (blocks). Not thread-safe with itself; sends may come from another thread. */
    public StreamMessage receive() {
        try {
            while (true) {
                int type = stream.receiveChar();
                int len = stream.receiveInteger4() - 4;
                switch (type) {
                    case 'd' -> {
                        int kind = stream.receiveChar();
                        if (kind == 'w') {
                            long start = stream.receiveInteger4() & 0xFFFFFFFFL;
                            start = (start << 32) | (stream.receiveInteger4() & 0xFFFFFFFFL);
                            long end = receiveLong();
                            long time = receiveLong();
                            int n = len - 25;
                            byte[] data = new byte[n];
                            stream.receive(data, 0, n);
                            return new XLogData(start, end, time, data, n);
                        }
                        if (kind == 'k') {
                            long end = receiveLong();
                            long time = receiveLong();
                            boolean reply = stream.receiveChar() == 1;
                            return new Keepalive(end, time, reply);
                        }
                        stream.skip(len - 1);
                    }
                    case 'c' -> {
                        stream.skip(len);
                        return endOfTimeline();
                    }
                    case 'E' -> throw readError(len).toException(settings, "START_REPLICATION");
                    case 'N' -> notice(readError(len));
                    default -> stream.skip(len);
                }
            }
        } catch (IOException e) {
            throw lost("WAL streaming", e);
        }
    }

    private long receiveLong() throws IOException {
        long hi = stream.receiveInteger4() & 0xFFFFFFFFL;
        return (hi << 32) | (stream.receiveInteger4() & 0xFFFFFFFFL);
    }

    /** After the server's CopyDone: ours, then the next timeline's result set, up to ReadyForQuery. */
    private TimelineEnd endOfTimeline() throws IOException {
        synchronized (sendLock) {
            stream.sendChar('c');
            stream.sendInteger4(4);
            stream.flush();
        }
        List<String> row = null;
        ServerError error = null;
        while (true) {
            int type = stream.receiveChar();
            int len = stream.receiveInteger4() - 4;
            switch (type) {
                case 'T' -> readRowDescription();
                case 'D' -> row = readDataRow();
                case 'E' -> error = readError(len);
                case 'N' -> notice(readError(len));
                case 'Z' -> {
                    stream.receive(len);
                    if (error != null) {
                        throw error.toException(settings, "START_REPLICATION");
                    }
                    return row == null ? new TimelineEnd(0, null)
                            : new TimelineEnd(Long.parseLong(row.get(0)), Lsn.parse(row.get(1)));
                }
                case 'd' -> stream.skip(len); // WAL still in flight when the server ended the COPY
                default -> stream.skip(len);
            }
        }
    }

    /** Microseconds since 2000-01-01, PostgreSQL's epoch, for standby status updates. */
    private static final long PG_EPOCH_MICROS = 946_684_800_000_000L;

    /**
     * A standby status update: what was received (write) and what is stored safely (flush and
     * apply: the server may recycle WAL before {@code flush}, and synchronous commits wait for it).
     */
    public void sendStatus(Lsn write, Lsn flush, boolean replyRequested) {
        long now = System.currentTimeMillis() * 1000 - PG_EPOCH_MICROS;
        try {
            synchronized (sendLock) {
                stream.sendChar('d');
                stream.sendInteger4(4 + 1 + 8 * 4 + 1);
                stream.sendChar('r');
                for (long v : new long[] {write.value(), flush.value(), flush.value(), now}) {
                    stream.sendInteger4((int) (v >>> 32));
                    stream.sendInteger4((int) v);
                }
                stream.sendChar(replyRequested ? 1 : 0);
                stream.flush();
            }
        } catch (IOException e) {
            throw lost("WAL streaming", e);
        }
    }

    /** Whether a message is waiting to be read without blocking. */
    public boolean hasMessagePending() {
        try {
            return stream.hasMessagePending();
        } catch (IOException e) {
            return false;
        }
    }

    private void sendQuery(String sql) throws IOException {
        byte[] b = sql.getBytes(StandardCharsets.UTF_8);
        stream.sendChar('Q');
        stream.sendInteger4(b.length + 5);
        stream.send(b);
        stream.sendChar(0);
        stream.flush();
    }

    private List<String> readRowDescription() throws IOException {
        int n = stream.receiveInteger2();
        List<String> cols = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            cols.add(readCString());
            stream.skip(18); // table oid, attnum, type oid, typlen, typmod, format
        }
        return cols;
    }

    private List<String> readDataRow() throws IOException {
        int n = stream.receiveInteger2();
        List<String> row = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int l = stream.receiveInteger4();
            row.add(l < 0 ? null : new String(stream.receive(l), StandardCharsets.UTF_8));
        }
        return row;
    }

    private String readCString() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = stream.receiveChar()) != 0) {
            b.write(c);
        }
        return b.toString(StandardCharsets.UTF_8);
    }

    private static List<String> cStrings(byte[] body) {
        List<String> out = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < body.length; i++) {
            if (body[i] == 0) {
                out.add(new String(body, start, i - start, StandardCharsets.UTF_8));
                start = i + 1;
            }
        }
        return out;
    }

    /** An ErrorResponse or NoticeResponse: its fields by code (S severity, C SQLSTATE, M message, D detail, H hint). */
    record ServerError(Map<Character, String> fields) {
        String sqlState() {
            return fields.getOrDefault('C', "");
        }

        String message() {
            String m = fields.getOrDefault('M', "");
            String d = fields.get('D');
            return d == null ? m : m + " (" + d + ")";
        }

        LifeboatException toException(PgConnectionSettings s, String command) {
            LifeboatException t = translate(s, sqlState(), message(), null);
            if (t.hint() != null || !("BASE_BACKUP".equals(command) || "UPLOAD_MANIFEST".equals(command))) {
                return t;
            }
            String pgHint = fields.get('H');
            return new LifeboatException(ErrorKind.DATABASE, "the server refused " + command + " on " + s.host() + ":"
                    + s.port() + ": " + message(), pgHint != null ? pgHint : "see the server log for details");
        }
    }

    private ServerError readError(int len) throws IOException {
        byte[] body = stream.receive(len);
        Map<Character, String> fields = new LinkedHashMap<>();
        int i = 0;
        while (i < body.length && body[i] != 0) {
            char code = (char) body[i++];
            int start = i;
            while (i < body.length && body[i] != 0) {
                i++;
            }
            fields.put(code, new String(body, start, i - start, StandardCharsets.UTF_8));
            i++;
        }
        return new ServerError(fields);
    }

    private void notice(ServerError n) {
        notices.accept(n.fields().getOrDefault('S', "NOTICE") + ": " + n.message());
    }

    private LifeboatException protocol(String command, String what) {
        return new LifeboatException(ErrorKind.DATABASE, "unexpected reply from " + settings.host() + ":" + settings.port()
                + " to " + command + ": " + what, "check that the server is PostgreSQL 15 or newer");
    }

    private LifeboatException lost(String command, IOException e) {
        String why = e instanceof EOFException || e instanceof SocketException ? "the server closed the connection"
                : e.getMessage();
        return new LifeboatException(ErrorKind.DATABASE, "lost the replication connection to " + settings.host() + ":"
                + settings.port() + " during " + command + ": " + why,
                "check that the server is running (was it stopped or restarted?) and see its log", e);
    }

    /** Turns a connection or command failure into an error that says what to change on the server. */
    static LifeboatException translate(PgConnectionSettings s, String sqlState, String msg, Throwable cause) {
        String state = sqlState == null ? "" : sqlState;
        String lower = msg == null ? "" : msg.toLowerCase(Locale.ROOT);
        String where = s.host() + ":" + s.port();
        if (lower.contains("replication role") || lower.contains("start wal sender")
                || lower.contains("replication attribute")) {
            return new LifeboatException(ErrorKind.DATABASE, "role '" + s.user() + "' may not open a replication connection to "
                    + where + ": " + msg, "physical backups and WAL streaming need a role with the REPLICATION attribute: run `ALTER ROLE "
                    + PgSession.quoteIdent(s.user()) + " REPLICATION;` as a superuser, or use another role", cause);
        }
        if (lower.contains("max_replication_slots") || lower.contains("all replication slots are in use")) {
            return new LifeboatException(ErrorKind.DATABASE, "the server at " + where + " has no free replication slot: "
                    + msg, "set max_replication_slots to at least 1 more than the slots in use (e.g. 10) in postgresql.conf "
                    + "and restart PostgreSQL, or drop a slot nothing uses (SELECT * FROM pg_replication_slots)", cause);
        }
        if (state.equals("55006") || lower.contains("is active for pid")) {
            return new LifeboatException(ErrorKind.CONFLICT, "the replication slot on " + where + " is in use by another "
                    + "client: " + msg, "only one client can stream from a slot: stop the other agent or pg_receivewal "
                    + "using it (pg_stat_replication shows it), or give this agent its own slot (agent.stream.slot)", cause);
        }
        if (lower.contains("replication slot") && lower.contains("does not exist")) {
            return new LifeboatException(ErrorKind.DATABASE, "the server at " + where + " has no such replication slot: "
                    + msg, "let the agent create it (agent.stream.create-slot: true), or create it: SELECT "
                    + "pg_create_physical_replication_slot('name', true);", cause);
        }
        if (lower.contains("max_wal_senders")) {
            return new LifeboatException(ErrorKind.DATABASE, "the server at " + where + " accepts no replication connection: "
                    + msg, "set max_wal_senders to at least 2 in postgresql.conf (one for the backup, one for its WAL) "
                    + "and restart PostgreSQL", cause);
        }
        if (lower.contains("pg_hba.conf") && lower.contains("replication")) {
            return new LifeboatException(ErrorKind.DATABASE, "pg_hba.conf of " + where + " has no entry for a replication "
                    + "connection of '" + s.user() + "': " + msg, "add a line like `host replication " + s.user()
                    + " <backup host address>/32 scram-sha-256` to pg_hba.conf (the database column must say "
                    + "'replication'; 'all' does not match) and reload: SELECT pg_reload_conf();", cause);
        }
        if (lower.contains("wal level not sufficient") || lower.contains("wal_level")) {
            return new LifeboatException(ErrorKind.DATABASE, "the server at " + where + " cannot make an online backup: "
                    + msg, "set wal_level = replica (or logical) in postgresql.conf and restart PostgreSQL", cause);
        }
        if (state.equals("28P01") || (state.equals("28000") && !lower.contains("pg_hba"))) {
            return new LifeboatException(ErrorKind.DATABASE, "PostgreSQL refused the replication login of '" + s.user()
                    + "' at " + where + ": " + msg, "check the password (PGPASSWORD, LIFEBOAT_PGPASSWORD, a pgpass line "
                    + "whose database field is 'replication' or '*') and pg_hba.conf", cause);
        }
        if (state.startsWith("08") || state.isEmpty() && lower.contains("connection")) {
            return new LifeboatException(ErrorKind.DATABASE, "cannot connect to PostgreSQL at " + where + ": " + msg,
                    "check that the server runs and accepts TCP connections (listen_addresses, port, firewall)", cause);
        }
        if (state.equals("57P01") || state.equals("57P02") || state.equals("57P03") || lower.contains("shutting down")
                || lower.contains("terminating connection")) {
            return new LifeboatException(ErrorKind.DATABASE, "the server at " + where + " stopped or restarted: " + msg,
                    "run the backup again once the server is up", cause);
        }
        return new LifeboatException(ErrorKind.DATABASE, "the server at " + where + " refused: " + msg, null, cause);
    }

    private static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException ignored) {
            // nothing left to tell
        }
    }

    /** Closes the socket at once (e.g. to stop a running BASE_BACKUP from another thread). */
    public void abort() {
        try {
            stream.close();
        } catch (IOException ignored) {
            // closing is all we wanted
        }
    }

    @Override
    public void close() {
        closeQuietly(connection);
    }
}
