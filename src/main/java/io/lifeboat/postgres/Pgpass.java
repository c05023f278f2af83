package io.lifeboat.postgres;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a pgpass file (https://www.postgresql.org/docs/current/libpq-pgpass.html) for our JDBC
 * sessions, so that one password file serves both pgjdbc and the libpq tools.
 */
final class Pgpass {
    private Pgpass() {
    }

    /** The pgpass file consulted for these settings: the configured one, PGPASSFILE, or ~/.pgpass. */
    static Path file(PgConnectionSettings s) {
        if (s.passwordFile() != null) {
            return s.passwordFile();
        }
        String env = System.getenv("PGPASSFILE");
        return env != null ? Path.of(env) : Path.of(System.getProperty("user.home"), ".pgpass");
    }

    static String lookup(PgConnectionSettings s) {
        Path file = file(s);
        if (!Files.isReadable(file)) {
            return null;
        }
        try {
            for (String line : Files.readAllLines(file)) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                List<String> f = fields(line);
                if (f.size() == 5 && matches(f.get(0), s.host()) && matches(f.get(1), Integer.toString(s.port()))
                        && matches(f.get(2), s.database()) && matches(f.get(3), s.user())) {
                    return f.get(4);
                }
            }
        } catch (IOException ignored) {
            // unreadable: behave as libpq does, as if there were no file
        }
        return null;
    }

    private static boolean matches(String pattern, String value) {
        return pattern.equals("*") || pattern.equals(value)
                || (pattern.equals("localhost") && value.startsWith("/"));
    }

    private static List<String> fields(String line) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c == '\\' && i + 1 < line.length()) {
                cur.append(line.charAt(++i));
            } else if (c == ':') {
                out.add(cur.toString());
                cur.setLength(0);
            } else {
                cur.append(c);
            }
        }
        out.add(cur.toString());
        return out;
    }
}
