package io.lifeboat.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.Json;

import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The one JSON document a command run prints with --json: its result, the error it ended with, or
 * both in one object (a verify that found problems reports them and the error together). Printed
 * once, when the run ends, so that no path can print two documents or none.
 */
final class JsonDocument {
    private Object result;
    private Map<String, Object> error;

    void result(Object value) {
        result = value;
    }

    void error(LifeboatException e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kind", e.kind().name().toLowerCase(java.util.Locale.ROOT));
        m.put("exitCode", e.exitCode());
        m.put("message", e.getMessage());
        if (e.hint() != null) {
            m.put("hint", e.hint());
        }
        error = m;
    }

    /** @param exitCode the run's exit code, said when the command left no result (e.g. wal-fetch's "not there") */
    void print(PrintStream out, int exitCode) {
        Object doc;
        if (error == null) {
            doc = result != null ? result : exitCode == 0 ? Map.of("ok", true) : Map.of("ok", false, "exitCode", exitCode);
        } else {
            Map<String, Object> m = new LinkedHashMap<>();
            if (result != null) {
                Object tree = Json.MAPPER.convertValue(result, Object.class);
                if (tree instanceof Map<?, ?> fields) {
                    fields.forEach((k, v) -> m.put(String.valueOf(k), v));
                } else {
                    m.put("result", tree);
                }
            }
            // the process's code: wal-fetch exits 200 on a storage error, as restore_command must
            error.put("exitCode", exitCode);
            m.put("error", error);
            doc = m;
        }
        try {
            out.println(Json.MAPPER.writeValueAsString(doc));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
