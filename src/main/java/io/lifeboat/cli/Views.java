package io.lifeboat.cli;

import io.lifeboat.catalog.BackupEntry;
import io.lifeboat.catalog.BackupManifest;
import io.lifeboat.engine.Spool;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** How backups look to people (text) and machines (JSON maps). */
final class Views {
    private Views() {
    }

    static Map<String, Object> summary(BackupManifest m) {
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("id", m.id().toString());
        j.put("type", m.type().id());
        j.put("status", "complete");
        j.put("startTime", m.startTime().toString());
        j.put("stopTime", m.stopTime().toString());
        j.put("durationSeconds", Duration.between(m.startTime(), m.stopTime()).toMillis() / 1000.0);
        j.put("pgVersionNum", m.pgVersionNum());
        j.put("rawBytes", m.rawBytes());
        j.put("storedBytes", m.storedBytes());
        j.put("objects", m.objects().size());
        j.put("compression", m.compression());
        j.put("encryption", m.encryption());
        if (m.logical() != null) {
            j.put("databases", m.logical().databases().stream().map(BackupManifest.DumpedDatabase::name).toList());
            j.put("globals", m.logical().globals() != null);
        }
        if (m.physical() != null) {
            j.put("startLsn", m.physical().startLsn());
            j.put("stopLsn", m.physical().stopLsn());
            j.put("timeline", m.physical().timeline());
            j.put("walIncluded", m.physical().walIncluded());
            BackupManifest.IndexedFiles f = m.physical().files();
            if (f != null) {
                j.put("source", f.source());
                j.put("incremental", f.parent() != null);
                if (f.parent() != null) {
                    j.put("parent", f.parent().toString());
                    j.put("chain", f.chain().stream().map(Object::toString).toList());
                }
                j.put("dataBytes", f.dataBytes());
                j.put("filesStoredWhole", f.storedFiles());
                j.put("filesStoredInPart", f.blockFiles());
                j.put("blocksStored", f.storedBlocks());
                if (m.extra() != null && m.extra().get("filesNotRead") != null) {
                    j.put("filesNotRead", Long.parseLong(m.extra().get("filesNotRead")));
                }
                if (m.extra() != null && m.extra().get("notes") != null) {
                    j.put("notes", m.extra().get("notes"));
                }
                if (m.extra() != null && m.extra().get("filesResumed") != null) {
                    j.put("filesResumed", Long.parseLong(m.extra().get("filesResumed")));
                }
            }
        }
        return j;
    }

    static Map<String, Object> entry(BackupEntry e, io.lifeboat.engine.verify.DrillRecord drill) {
        if (e.complete()) {
            Map<String, Object> j = summary(e.manifest());
            if (drill != null) {
                j.put("restoreDrill", drill(drill));
            }
            return j;
        }
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("id", e.id().toString());
        j.put("type", e.id().type().id());
        j.put("status", "unfinished");
        j.put("storedBytes", e.storedBytes());
        j.put("objects", e.objectCount());
        if (e.lastModified() != null) {
            j.put("lastModified", e.lastModified().toString());
        }
        return j;
    }

    /** "proven restorable at T, restore took D" (and for physical drills, how far recovery got). */
    static String proof(io.lifeboat.engine.verify.DrillRecord d) {
        if (!d.ok()) {
            return "RESTORE DRILL FAILED at " + d.time().truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
        }
        return "proven restorable at " + d.time().truncatedTo(java.time.temporal.ChronoUnit.SECONDS) + ", restore took "
                + Math.round(d.restoreSeconds()) + " s" + (d.recoveredTo() != null ? ", recovered to " + d.recoveredTo() : "");
    }

    static Map<String, Object> drill(io.lifeboat.engine.verify.DrillRecord d) {
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("time", d.time().toString());
        j.put("ok", d.ok());
        j.put("seconds", d.restoreSeconds());
        if (d.recoveredTo() != null) {
            j.put("recoveredTo", d.recoveredTo());
        }
        if (d.lastTransaction() != null) {
            j.put("lastTransaction", d.lastTransaction());
        }
        if (!d.problems().isEmpty()) {
            j.put("problems", d.problems());
        }
        return j;
    }

    /** "full, " or "incremental of ID (chain of N), " for backups with a file index; "" for the others. */
    static String chain(BackupManifest m) {
        BackupManifest.IndexedFiles f = m.physical().files();
        if (f == null) {
            return "";
        }
        return f.parent() == null ? "full, " : "incremental of " + f.parent() + " (chain of " + (f.chain().size() + 1) + "), ";
    }

    static List<String> table(List<BackupEntry> entries, Map<io.lifeboat.catalog.BackupId, io.lifeboat.engine.verify.DrillRecord> drills) {
        List<String> lines = new java.util.ArrayList<>();
        lines.add(String.format("%-20s %-9s %-10s %10s %10s %8s  %s", "ID", "TYPE", "STATUS", "SIZE", "STORED", "TIME", "CONTENT"));
        for (BackupEntry e : entries) {
            if (e.complete()) {
                BackupManifest m = e.manifest();
                String content = m.logical() != null
                        ? String.join(",", m.logical().databases().stream().map(BackupManifest.DumpedDatabase::name).toList())
                        : m.physical() != null ? chain(m) + "lsn " + m.physical().startLsn() + ".." + m.physical().stopLsn()
                        + " tli " + m.physical().timeline() : "";
                io.lifeboat.engine.verify.DrillRecord d = drills.get(m.id());
                String proof = d == null ? "" : "; " + proof(d);
                lines.add(String.format("%-20s %-9s %-10s %10s %10s %7.1fs  %s", m.id(), m.type().id(), "complete",
                        Spool.human(m.rawBytes()), Spool.human(m.storedBytes()),
                        Duration.between(m.startTime(), m.stopTime()).toMillis() / 1000.0, content + proof));
            } else {
                lines.add(String.format("%-20s %-9s %-10s %10s %10s %8s  %s", e.id(), e.id().type().id(), "unfinished", "-",
                        Spool.human(e.storedBytes()), "-", e.objectCount() + " objects, no manifest"));
            }
        }
        return lines;
    }
}
