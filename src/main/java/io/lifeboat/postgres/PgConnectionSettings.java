package io.lifeboat.postgres;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * How to reach one PostgreSQL server. The password is kept in memory only and handed to child
 * processes through the environment (PGPASSWORD), never on a command line, in a log or a manifest.
 *
 * @param host         host name, IP address, or a Unix socket directory (absolute path)
 * @param passwordFile a pgpass file passed as PGPASSFILE, or null
 */
public record PgConnectionSettings(String host, int port, String user, String database, String password,
                                   Path passwordFile) {

    public PgConnectionSettings {
        if (host == null || host.isBlank()) {
            host = "localhost";
        }
        if (port <= 0) {
            port = 5432;
        }
        if (user == null || user.isBlank()) {
            user = System.getProperty("user.name");
        }
        if (database == null || database.isBlank()) {
            database = "postgres";
        }
    }

    public PgConnectionSettings withDatabase(String db) {
        return new PgConnectionSettings(host, port, user, db, password, passwordFile);
    }

    public PgConnectionSettings withUser(String u) {
        return new PgConnectionSettings(host, port, u, database, password, passwordFile);
    }

    public boolean isSocket() {
        return host.startsWith("/");
    }

    /** host:port/database as user, for messages. */
    public String describe() {
        return user + "@" + host + ":" + port + "/" + database;
    }

    /** libpq environment for pg_dump, pg_restore, psql and friends (no secret ever goes in argv). */
    public Map<String, String> libpqEnvironment() {
        Map<String, String> env = new HashMap<>();
        env.put("PGHOST", host);
        env.put("PGPORT", Integer.toString(port));
        env.put("PGUSER", user);
        env.put("PGDATABASE", database);
        env.put("PGAPPNAME", "lifeboat");
        env.put("PGCONNECT_TIMEOUT", "10");
        if (password != null) {
            env.put("PGPASSWORD", password);
        }
        if (passwordFile != null) {
            env.put("PGPASSFILE", passwordFile.toString());
        }
        return env;
    }

    /** JDBC URL for pgjdbc. Unix sockets go through the junixsocket-free "socketFactory"-less path: TCP only. */
    public String jdbcUrl() {
        String h = isSocket() ? "localhost" : (host.contains(":") ? "[" + host + "]" : host);
        return "jdbc:postgresql://" + h + ":" + port + "/" + database;
    }

    @Override
    public String toString() {
        return "PgConnectionSettings[" + describe() + (password != null ? ", password=***" : "") + "]";
    }
}
