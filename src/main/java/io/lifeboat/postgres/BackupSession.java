package io.lifeboat.postgres;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Optional;

/**
 * A non-exclusive base backup over SQL: {@code pg_backup_start} and {@code pg_backup_stop} in one
 * session, which must stay open in between (the server aborts the backup when the session ends, so
 * a killed backup leaves nothing behind on the server), plus the server facts a backup that reads
 * the data directory itself needs. PostgreSQL 15 and later.
 */
public final class BackupSession implements AutoCloseable {
    private final PgSession session;
    private volatile Statement running;
    private boolean inBackup;

    /**
     * What the backup needs to know of the server.
     *
     * @param dataDirectory  the server's data_directory
     * @param catalogVersion catalog_version_no (names the tablespace version directory)
     */
    public record Facts(PgVersion version, String systemIdentifier, String dataDirectory, int blockSize,
                        long walSegmentSize, long catalogVersion, boolean dataChecksums, boolean walLogHints,
                        boolean fullPageWrites, String archiveMode, boolean inRecovery) {
        /** Whether a page's LSN moves with every change of the page, hint bits included. */
        public boolean hintsMoveLsn() {
            return (dataChecksums || walLogHints) && fullPageWrites;
        }
    }

    /** What pg_backup_stop answered. */
    public record Stop(Lsn lsn, String backupLabel, String tablespaceMap) {
    }

    private BackupSession(PgSession session) {
        this.session = session;
    }

    public static BackupSession open(PgConnectionSettings settings) {
        PgSession s = PgSession.open(settings);
        try {
            // A spread checkpoint can take minutes: no statement timeout may cut pg_backup_start short,
            // and an idle session timeout must not end the backup while files are read.
            s.execute("SET statement_timeout = 0");
            s.execute("SET idle_in_transaction_session_timeout = 0");
            return new BackupSession(s);
        } catch (RuntimeException e) {
            s.close();
            throw e;
        }
    }

    public Facts facts() {
        PgVersion v = session.serverVersion();
        if (v.major() < 15) {
            throw new LifeboatException(ErrorKind.DATABASE, "backups with --source local need PostgreSQL 15 or newer "
                    + "(pg_backup_start); the server at " + session.settings().host() + ":" + session.settings().port()
                    + " is " + v, "take logical backups of this server until it is upgraded");
        }
        List<String> row = session.query("SELECT current_setting('data_directory'), current_setting('block_size'), "
                + "current_setting('wal_segment_size'), current_setting('data_checksums'), current_setting('wal_log_hints'), "
                + "current_setting('full_page_writes'), current_setting('archive_mode'), pg_is_in_recovery()::text").get(0);
        List<String> control = session.query("SELECT system_identifier::text, catalog_version_no::text FROM "
                + "pg_control_system()").get(0);
        return new Facts(v, control.get(0), row.get(0), Integer.parseInt(row.get(1)), size(row.get(2)),
                Long.parseLong(control.get(1)), "on".equals(row.get(3)), "on".equals(row.get(4)), "on".equals(row.get(5)),
                row.get(6), "true".equals(row.get(7)));
    }

    /** The timeline of the latest checkpoint (or restartpoint): the one a backup started now starts on. */
    public long checkpointTimeline() {
        return Long.parseLong(session.queryValue("SELECT timeline_id::text FROM pg_control_checkpoint()").orElseThrow());
    }

    /** Starts the backup (after a checkpoint, fast or spread); returns where its WAL starts. */
    public Lsn start(String label, boolean fast) {
        String lsn = single("SELECT pg_backup_start(" + PgSession.quoteLiteral(label) + ", " + fast + ")::text");
        inBackup = true;
        return Lsn.parse(lsn);
    }

    /** Ends the backup without waiting for archiving (Lifeboat waits for the stop segment itself). */
    public Stop stop() {
        try (Statement st = session.connection().createStatement()) {
            running = st;
            try (ResultSet rs = st.executeQuery("SELECT lsn::text, labelfile, spcmapfile FROM pg_backup_stop(false)")) {
                rs.next();
                inBackup = false;
                return new Stop(Lsn.parse(rs.getString(1)), rs.getString(2), rs.getString(3));
            }
        } catch (SQLException e) {
            throw PgSession.translate(session.settings(), e);
        } finally {
            running = null;
        }
    }

    /**
     * The timeline the WAL at {@code stop} is on: a primary's current one (from the segment name it
     * writes), a standby's the one its minimum recovery point is on, which is where its pg_backup_stop
     * took the stop point from.
     */
    public long stopTimeline(Lsn stop, boolean inRecovery) {
        if (inRecovery) {
            return Long.parseLong(session.queryValue("SELECT min_recovery_end_timeline::text FROM pg_control_recovery()")
                    .orElseThrow());
        }
        String file = session.queryValue("SELECT pg_walfile_name(" + PgSession.quoteLiteral(stop.toString()) + "::pg_lsn)")
                .orElseThrow();
        return Long.parseLong(file.substring(0, 8), 16);
    }

    /** pg_current_snapshot() (primary) or the standby's snapshot: which transactions had finished. */
    public Optional<String> snapshot() {
        try {
            return session.queryValue("SELECT pg_current_snapshot()::text");
        } catch (LifeboatException e) {
            return Optional.empty();
        }
    }

    /** Cancels what the session is doing (pg_backup_start waiting for a checkpoint), from another thread. */
    public void cancel() {
        Statement st = running;
        if (st != null) {
            try {
                st.cancel();
            } catch (SQLException ignored) {
                // the statement ended meanwhile
            }
        }
    }

    /** "pid/start" of this session's server process, for another process to ask whether it still runs. */
    public String backendIdentity() {
        return single("SELECT pid || '/' || extract(epoch FROM backend_start)::text FROM pg_stat_activity "
                + "WHERE pid = pg_backend_pid()");
    }

    /** Whether the server process {@link #backendIdentity} named (in another session) still runs. */
    public boolean backendAlive(String identity) {
        if (identity == null || !identity.matches("\\d{1,10}/\\d{1,12}(\\.\\d{1,9})?")) {
            return false;
        }
        String[] p = identity.split("/");
        return !"0".equals(single("SELECT count(*) FROM pg_stat_activity WHERE pid = " + p[0]
                + " AND extract(epoch FROM backend_start)::text = '" + p[1] + "'"));
    }

    public boolean inBackup() {
        return inBackup;
    }

    private String single(String sql) {
        try (Statement st = session.connection().createStatement()) {
            running = st;
            try (ResultSet rs = st.executeQuery(sql)) {
                rs.next();
                return rs.getString(1);
            }
        } catch (SQLException e) {
            throw PgSession.translate(session.settings(), e);
        } finally {
            running = null;
        }
    }

    static long size(String s) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+)\\s*(B|kB|MB|GB|TB)?").matcher(s.trim());
        if (!m.matches()) {
            throw new LifeboatException(ErrorKind.DATABASE, "cannot read the size '" + s + "'", null);
        }
        long v = Long.parseLong(m.group(1));
        return switch (m.group(2) == null ? "B" : m.group(2)) {
            case "kB" -> v << 10;
            case "MB" -> v << 20;
            case "GB" -> v << 30;
            case "TB" -> v << 40;
            default -> v;
        };
    }

    /** Ends the session; a backup still running is aborted by the server. */
    @Override
    public void close() {
        session.close();
    }
}
