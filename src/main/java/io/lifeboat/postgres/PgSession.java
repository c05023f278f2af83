package io.lifeboat.postgres;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;

/** A plain SQL session (pgjdbc) with PostgreSQL errors translated into Lifeboat's error kinds. */
public final class PgSession implements AutoCloseable {
    private final PgConnectionSettings settings;
    private final Connection connection;

    private PgSession(PgConnectionSettings settings, Connection connection) {
        this.settings = settings;
        this.connection = connection;
    }

    public static PgSession open(PgConnectionSettings s) {
        Properties p = new Properties();
        p.setProperty("user", s.user());
        if (s.password() != null) {
            p.setProperty("password", s.password());
        } else {
            String fromPgpass = Pgpass.lookup(s);
            if (fromPgpass != null) {
                p.setProperty("password", fromPgpass);
            }
        }
        p.setProperty("ApplicationName", "lifeboat");
        p.setProperty("connectTimeout", "10");
        p.setProperty("tcpKeepAlive", "true");
        try {
            return new PgSession(s, DriverManager.getConnection(s.jdbcUrl(), p));
        } catch (SQLException e) {
            LifeboatException why = connectFailure(s, e, p.containsKey("password"));
            throw why != null ? why : translate(s, e);
        }
    }

    /**
     * What keeps a connection from opening when it is not the server: a host name that does not
     * resolve, or a server asking for a password when none was found (no PGPASSWORD, no matching
     * pgpass line). Null for anything else, which {@link #translate} explains.
     *
     * @param s            the settings, with the database the pgpass line is looked up for
     * @param hadPassword  whether a password was sent
     */
    static LifeboatException connectFailure(PgConnectionSettings s, SQLException e, boolean hadPassword) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof java.net.UnknownHostException) {
                return new LifeboatException(ErrorKind.DATABASE, "cannot resolve the PostgreSQL host name '" + s.host()
                        + "'", "check the host name (--pg-host, postgres.host or LIFEBOAT_PG_HOST) and DNS "
                        + "(`getent hosts " + s.host() + "`)", e);
            }
        }
        String msg = e.getMessage() == null ? "" : e.getMessage();
        if (!hadPassword && msg.contains("no password was provided")) {
            java.nio.file.Path file = Pgpass.file(s);
            return new LifeboatException(ErrorKind.DATABASE, "PostgreSQL at " + s.host() + ":" + s.port() + " asks for "
                    + "a password for '" + s.user() + "' and none was found: PGPASSWORD and LIFEBOAT_PGPASSWORD are not set "
                    + "and " + (java.nio.file.Files.isReadable(file) ? "pgpass file " + file + " has no line for "
                    + s.host() + ":" + s.port() + ":" + s.database() + ":" + s.user() : "there is no readable pgpass file ("
                    + file + ")"), "add the line `" + (s.isSocket() ? "localhost" : s.host()) + ":" + s.port() + ":"
                    + s.database() + ":" + s.user() + ":PASSWORD` to " + file + " (mode 0600; '*' matches any value), "
                    + "point postgres.password-file or --pg-password-file at the file that has it, or set "
                    + "LIFEBOAT_PGPASSWORD", e);
        }
        return null;
    }

    public Connection connection() {
        return connection;
    }

    public PgConnectionSettings settings() {
        return settings;
    }

    public static LifeboatException translate(PgConnectionSettings s, SQLException e) {
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        String msg = e.getMessage();
        if (state.equals("28P01") || state.equals("28000")) {
            return new LifeboatException(ErrorKind.DATABASE, "PostgreSQL refused login as '" + s.user() + "' at "
                    + s.host() + ":" + s.port() + ": " + msg,
                    "check the user and password (PGPASSWORD, LIFEBOAT_PGPASSWORD, postgres.password-file) and pg_hba.conf", e);
        }
        if (state.equals("3D000")) {
            return new LifeboatException(ErrorKind.NOT_FOUND, "database '" + s.database() + "' does not exist on "
                    + s.host() + ":" + s.port(), "check the database name; `psql -l` lists them", e);
        }
        if (state.startsWith("08")) {
            return new LifeboatException(ErrorKind.DATABASE, "cannot connect to PostgreSQL at " + s.host() + ":" + s.port()
                    + ": " + msg, "check that the server runs and accepts TCP connections (listen_addresses, port, firewall)", e);
        }
        if (state.equals("42501")) {
            return new LifeboatException(ErrorKind.DATABASE, "permission denied for '" + s.user() + "' on " + s.describe()
                    + ": " + msg, "grant the needed privileges to the backup user", e);
        }
        return new LifeboatException(ErrorKind.DATABASE, "query on " + s.describe() + " failed: " + msg, null, e);
    }

    public List<List<String>> query(String sql) {
        try (Statement st = connection.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            int n = rs.getMetaData().getColumnCount();
            List<List<String>> rows = new ArrayList<>();
            while (rs.next()) {
                List<String> row = new ArrayList<>(n);
                for (int i = 1; i <= n; i++) {
                    row.add(rs.getString(i));
                }
                rows.add(row);
            }
            return rows;
        } catch (SQLException e) {
            throw translate(settings, e);
        }
    }

    /** First column of the first row, or empty. */
    public Optional<String> queryValue(String sql) {
        List<List<String>> rows = query(sql);
        return rows.isEmpty() ? Optional.empty() : Optional.ofNullable(rows.get(0).get(0));
    }

    public void execute(String sql) {
        try (Statement st = connection.createStatement()) {
            st.execute(sql);
        } catch (SQLException e) {
            throw translate(settings, e);
        }
    }

    public PgVersion serverVersion() {
        return new PgVersion(Integer.parseInt(queryValue("SHOW server_version_num").orElseThrow()));
    }

    /** The cluster's system identifier, or empty when the role may not read pg_control_system(). */
    public Optional<String> systemIdentifier() {
        try (Statement st = connection.createStatement();
             ResultSet rs = st.executeQuery("SELECT system_identifier::text FROM pg_control_system()")) {
            return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
        } catch (SQLException e) {
            return Optional.empty();
        }
    }

    public static String quoteIdent(String name) {
        return "\"" + name.replace("\"", "\"\"") + "\"";
    }

    public static String quoteLiteral(String value) {
        return "'" + value.replace("'", "''") + "'";
    }

    @Override
    public void close() {
        try {
            connection.close();
        } catch (SQLException ignored) {
            // closing a broken connection has nothing left to tell us
        }
    }
}
