package io.lifeboat.engine.verify;

import io.lifeboat.config.Durations;
import com.fasterxml.jackson.databind.JsonNode;
import io.lifeboat.catalog.BackupEntry;
import io.lifeboat.catalog.BackupId;
import io.lifeboat.catalog.Json;
import io.lifeboat.engine.retention.RetentionPlanner;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * What the backup listings of the repositories say about each other and about themselves: a
 * backup complete in one repository and unfinished or absent in another, manifests of one backup
 * that differ, and unfinished backups left longer than the grace time (an interrupted backup, or
 * a complete one whose manifest was lost: neither can be restored). Pure logic over listings.
 */
public final class CatalogAgreement {
    /** Problems and notes for one repository. */
    public record Findings(List<String> problems, List<String> notes) {
    }

    private CatalogAgreement() {
    }

    /**
     * @param listings what each repository holds, by repository name, in configured order (unreachable ones left out)
     * @param only     one backup, or null for all
     * @param grace    how long an unfinished backup may be still running (retention's unfinished-grace)
     * @return findings per repository name, for each one in {@code listings}
     */
    public static Map<String, Findings> check(Map<String, List<BackupEntry>> listings, BackupId only, Duration grace,
                                              Instant now) {
        Map<String, Findings> out = new LinkedHashMap<>();
        Map<String, Map<BackupId, BackupEntry>> byId = new LinkedHashMap<>();
        TreeSet<BackupId> ids = new TreeSet<>();
        listings.forEach((name, entries) -> {
            out.put(name, new Findings(new ArrayList<>(), new ArrayList<>()));
            Map<BackupId, BackupEntry> m = new LinkedHashMap<>();
            entries.forEach(e -> m.put(e.id(), e));
            byId.put(name, m);
            ids.addAll(m.keySet());
        });
        boolean several = listings.size() > 1;
        for (BackupId id : ids) {
            if (only != null && !only.equals(id)) {
                continue;
            }
            String completeIn = null;
            JsonNode reference = null;
            for (var r : byId.entrySet()) {
                BackupEntry e = r.getValue().get(id);
                if (e != null && e.complete()) {
                    if (completeIn == null) {
                        completeIn = r.getKey();
                        reference = Json.MAPPER.valueToTree(e.manifest());
                    } else {
                        List<String> fields = differences(reference, Json.MAPPER.valueToTree(e.manifest()));
                        if (!fields.isEmpty()) {
                            out.get(r.getKey()).problems().add("the manifest of backup " + id + " differs from the one in "
                                    + "repository '" + completeIn + "' (" + String.join(", ", fields) + "): one of "
                                    + "them was changed or replaced; a restore may read either");
                        }
                    }
                }
            }
            for (var r : byId.entrySet()) {
                BackupEntry e = r.getValue().get(id);
                Findings f = out.get(r.getKey());
                if (completeIn != null && e == null) {
                    f.problems().add("backup " + id + " is not in this repository" + (several ? " (repository '"
                            + completeIn + "' has it)" : ""));
                } else if (e != null && !e.complete() && completeIn != null) {
                    f.problems().add("backup " + id + " has no manifest here (unfinished) but is complete in repository '"
                            + completeIn + "': its manifest was lost here, so this copy cannot be restored");
                } else if (e != null && !e.complete()) {
                    unfinished(e, grace, now, f);
                }
            }
        }
        return out;
    }

    private static void unfinished(BackupEntry e, Duration grace, Instant now, Findings f) {
        Instant last = e.lastModified();
        Duration age = last == null ? null : Duration.between(last, now);
        if (age != null && age.compareTo(grace) <= 0) {
            f.notes().add("backup " + e.id() + " is unfinished (no manifest), last written " + human(age) + " ago: still "
                    + "running, or interrupted less than the unfinished-grace (" + Durations.text(grace) + ") ago");
            return;
        }
        f.problems().add("backup " + e.id() + " is unfinished (no manifest; " + e.objectCount() + (e.objectCount() == 1 ? " object" : " objects")
                + (age == null ? "" : ", last written " + human(age) + " ago, beyond the unfinished-grace of "
                + Durations.text(grace)) + "): an interrupted backup, or a complete one whose manifest was deleted; it cannot be "
                + "restored. Take a new backup and remove this one (`lifeboat delete " + e.id() + "` or `lifeboat expire`)");
    }

    /** Top-level fields of two manifests that differ, in the first one's order. */
    private static List<String> differences(JsonNode a, JsonNode b) {
        List<String> out = new ArrayList<>();
        for (Iterator<String> it = a.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!a.get(k).equals(b.get(k))) {
                out.add(k);
            }
        }
        for (Iterator<String> it = b.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!a.has(k)) {
                out.add(k);
            }
        }
        return out;
    }

    /** An age, roughly: 45 s, 12 min, 5 h, 3 d. */
    static String human(Duration d) {
        long s = d.toSeconds();
        if (s < 120) {
            return s + " s";
        }
        if (s < 7200) {
            return s / 60 + " min";
        }
        if (s < 172800) {
            return s / 3600 + " h";
        }
        return s / 86400 + " d";
    }
}
