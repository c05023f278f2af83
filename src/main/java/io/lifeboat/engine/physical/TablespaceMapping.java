package io.lifeboat.engine.physical;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where a tablespace goes at restore: {@code OID=DIR} or {@code OLDDIR=NEWDIR} (as pg_basebackup
 * -T; a '=' inside a directory name is written '\='). Unmapped tablespaces go back where they were.
 */
public record TablespaceMapping(String from, Path to) {

    public static TablespaceMapping parse(String spec) {
        int split = -1;
        for (int i = 0; i < spec.length(); i++) {
            if (spec.charAt(i) == '\\' && i + 1 < spec.length() && spec.charAt(i + 1) == '=') {
                i++;
            } else if (spec.charAt(i) == '=') {
                if (split >= 0) {
                    throw bad(spec, "has more than one '='");
                }
                split = i;
            }
        }
        if (split <= 0 || split == spec.length() - 1) {
            throw bad(spec, "is not OID=DIR or OLDDIR=NEWDIR");
        }
        String from = spec.substring(0, split).replace("\\=", "=");
        String to = spec.substring(split + 1).replace("\\=", "=");
        if (!from.matches("\\d+") && !from.startsWith("/")) {
            throw bad(spec, "must name a tablespace by OID or by its old absolute directory");
        }
        if (!to.startsWith("/")) {
            throw bad(spec, "must map to an absolute directory");
        }
        return new TablespaceMapping(from.matches("\\d+") ? from : Path.of(from).normalize().toString(),
                Path.of(to).normalize());
    }

    private static LifeboatException bad(String spec, String why) {
        return new LifeboatException(ErrorKind.USAGE, "--tablespace-map '" + spec + "' " + why,
                "write OID=/new/dir or /old/dir=/new/dir; `lifeboat show ID` lists the tablespaces");
    }

    /**
     * Where each tablespace of a backup goes.
     *
     * @param tablespaces OID → original location, from the manifest
     */
    public static Map<String, Path> targets(Map<String, String> tablespaces, List<TablespaceMapping> mappings) {
        Map<String, Path> out = new LinkedHashMap<>();
        tablespaces.forEach((oid, loc) -> out.put(oid, Path.of(loc)));
        for (TablespaceMapping m : mappings) {
            String oid = m.from().matches("\\d+") ? m.from() : tablespaces.entrySet().stream()
                    .filter(e -> Path.of(e.getValue()).normalize().toString().equals(m.from()))
                    .map(Map.Entry::getKey).findFirst().orElse(null);
            if (oid == null || !tablespaces.containsKey(oid)) {
                throw new LifeboatException(ErrorKind.USAGE, "--tablespace-map names " + m.from()
                        + ", which is not a tablespace of this backup",
                        tablespaces.isEmpty() ? "the backup has no tablespaces besides the data directory"
                                : "its tablespaces: " + tablespaces);
            }
            out.put(oid, m.to());
        }
        return out;
    }
}
