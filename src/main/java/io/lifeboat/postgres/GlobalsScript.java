package io.lifeboat.postgres;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/** The roles and tablespaces script of pg_dumpall --globals-only, and what a restore needs to know of it. */
public final class GlobalsScript {
    private GlobalsScript() {
    }

    /** Tablespace name to original location, for every CREATE TABLESPACE in the script. */
    public static Map<String, String> tablespaces(String script) {
        Map<String, String> out = new LinkedHashMap<>();
        for (SqlScript.Statement s : SqlScript.parse(script)) {
            int at = locationIndex(s);
            if (at >= 0) {
                out.put(s.tokens().get(2).identifier(), s.tokens().get(at).stringValue());
            }
        }
        return out;
    }

    /**
     * The script with every tablespace placed where {@code location} says, and nothing else changed
     * (for scratch servers, which must never write to the original places).
     */
    public static String relocateTablespaces(String script, Function<String, Path> location) {
        List<String> out = new ArrayList<>();
        for (SqlScript.Statement s : SqlScript.parse(script)) {
            int at = locationIndex(s);
            out.add(at < 0 ? s.sql() : s.replace(at, at + 1,
                    PgSession.quoteLiteral(location.apply(s.tokens().get(2).identifier()).toString())).sql());
        }
        return String.join(";\n", out) + (out.isEmpty() ? "" : ";\n");
    }

    /** The index of the location literal of CREATE TABLESPACE name [OWNER x] LOCATION '...', or -1. */
    private static int locationIndex(SqlScript.Statement s) {
        if (!s.startsWith("CREATE", "TABLESPACE") || s.tokens().size() < 5 || !s.tokens().get(2).isIdentifier()) {
            return -1;
        }
        for (int i = 3; i + 1 < s.tokens().size(); i++) {
            if (s.tokens().get(i).isWord("LOCATION") && s.tokens().get(i + 1).kind() == SqlScript.Kind.STRING) {
                return i + 1;
            }
        }
        return -1;
    }
}
