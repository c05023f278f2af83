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
        Properties p = new Properties();
        p.setProperty("user", s.user());
        String password = s.password() != null ? s.password() : Pgpass.lookup(s.withDatabase("replication"));
        if (password != null) {
            p.setProperty("password", password);
        }
        PGProperty.REPLICATION.set(p, "true");
        PGProperty.ASSUME_MIN_SERVER_VERSION.set(p, "10");
        PGProperty.PREFER_QUERY_MODE.set(p, "simple");
        p.setProperty("ApplicationName", "lifeboat");
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
            if (t.hint() != null || !"BASE_BACKUP".equals(command)) {
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
                    + where + ": " + msg, "physical backups need a role with the REPLICATION attribute: run `ALTER ROLE "
                    + PgSession.quoteIdent(s.user()) + " REPLICATION;` as a superuser, or use another role", cause);
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
