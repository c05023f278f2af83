package io.lifeboat.engine.logical;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.postgres.PgConnectionSettings;
import io.lifeboat.postgres.PgSession;
import io.lifeboat.postgres.PgVersion;
import io.lifeboat.postgres.SessionSource;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The server a logical restore writes to, reached through a maintenance database as createdb and
 * pg_restore --create do (postgres, else template1), so that the databases to restore need not
 * exist; the configured database is only the last resort.
 */
final class RestoreTarget implements AutoCloseable {
    private final PgConnectionSettings admin;
    private final PgVersion version;
    /** The maintenance database's session for the restore's questions and definitions (a connection costs tens of ms). */
    private final PgSession shared;

    private RestoreTarget(PgConnectionSettings admin, PgVersion version, PgSession shared) {
        this.admin = admin;
        this.version = version;
        this.shared = shared;
    }

    static RestoreTarget connect(PgConnectionSettings server) {
        return connect(server, SessionSource.DIRECT);
    }

    /** @param sessions where the maintenance database's session comes from */
    static RestoreTarget connect(PgConnectionSettings server, SessionSource sessions) {
        Set<String> candidates = new LinkedHashSet<>(List.of("postgres", "template1", server.database()));
        LifeboatException first = null;
        for (String db : candidates) {
            PgConnectionSettings c = server.withDatabase(db);
            PgSession s = null;
            try {
                s = sessions.open(c);
                return new RestoreTarget(c, s.serverVersion(), s);
            } catch (LifeboatException e) {
                if (s != null) {
                    s.close();
                }
                if (e.kind() != ErrorKind.NOT_FOUND) {
                    throw e; // the server said no to us, not to the database: trying others would say the same
                }
                first = first == null ? e : first;
            }
        }
        throw new LifeboatException(ErrorKind.NOT_FOUND, "no maintenance database to connect to on " + server.host() + ":"
                + server.port() + " (tried " + String.join(", ", candidates) + ")", "create the postgres database", first);
    }

    PgConnectionSettings admin() {
        return admin;
    }

    PgVersion version() {
        return version;
    }

    String where() {
        return admin.host() + ":" + admin.port();
    }

    /** A session of its own (for statements that change the session, such as SET SESSION AUTHORIZATION). */
    PgSession session() {
        return PgSession.open(admin);
    }

    /** The restore's session on the maintenance database, for statements that leave the session as it was; not to be closed. */
    PgSession shared() {
        return shared;
    }

    @Override
    public void close() {
        shared.close();
    }

    boolean exists(String db) {
        return shared.queryValue("SELECT 1 FROM pg_database WHERE datname = " + PgSession.quoteLiteral(db)).isPresent();
    }

    Set<String> tablespaces() {
        Set<String> names = new TreeSet<>();
        shared.query("SELECT spcname FROM pg_tablespace").forEach(r -> names.add(r.get(0)));
        return names;
    }

    /**
     * Where an existing database differs from the definition in the archive in what only CREATE
     * DATABASE sets (encoding, locale provider, collation, character classification), e.g.
     * "encoding UTF8 (the backup's: LATIN1)"; empty when they agree.
     */
    List<String> differences(String db, java.util.Map<String, String> dumped) {
        List<String> out = new java.util.ArrayList<>();
        List<String> r = shared.query("SELECT pg_encoding_to_char(encoding), CASE datlocprovider WHEN 'i' THEN 'icu' "
                + "WHEN 'b' THEN 'builtin' ELSE 'libc' END, datcollate, datctype FROM pg_database WHERE datname = "
                + PgSession.quoteLiteral(db)).get(0);
        String[] names = {"encoding", "locale provider", "collation", "ctype"};
        String[] keys = {"ENCODING", "LOCALE_PROVIDER", "LC_COLLATE", "LC_CTYPE"};
        for (int i = 0; i < names.length; i++) {
            String want = dumped.getOrDefault(keys[i], i >= 2 ? dumped.get("LOCALE") : null);
            if (want != null && !want.equalsIgnoreCase(r.get(i))) {
                out.add(names[i] + " " + r.get(i) + " (the backup's: " + want + ")");
            }
        }
        return out;
    }

    /** No user objects and no large objects (a fresh database, or one createdb just made). */
    boolean isEmpty(String db) {
        try (PgSession s = PgSession.open(admin.withDatabase(db))) {
            long n = Long.parseLong(s.queryValue("SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n "
                    + "ON n.oid = c.relnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') "
                    + "AND n.nspname NOT LIKE 'pg_toast%') + (SELECT count(*) FROM pg_largeobject_metadata)").orElse("0"));
            return n == 0;
        }
    }
}
