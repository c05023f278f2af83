package io.lifeboat.engine.retention;

import io.lifeboat.config.RetentionPolicy;
import io.lifeboat.config.Durations;
import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.BackupEntry;
import io.lifeboat.catalog.BackupId;
import io.lifeboat.catalog.BackupManifest;
import io.lifeboat.catalog.BackupType;
import io.lifeboat.postgres.WalSegmentName;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Decides what retention deletes. Pure logic over a listing of the repository, so every rule is
 * unit-tested on generated catalogs.
 *
 * <p>WAL: every kept physical backup needs the segments from its own start onward, on its timeline
 * and on the timelines that branch from it later. Deleting only segments numbered below the
 * smallest start segment of all kept physical backups, on every timeline, satisfies that for any
 * timeline history, and keeps timeline history files always (they are tiny and PostgreSQL needs them
 * to follow a timeline). Without any kept physical backup no WAL is deleted: it may still serve a
 * standby, and deleting it would be irreversible.
 */
public final class RetentionPlanner {
    private RetentionPlanner() {
    }

    /**
     * @param entries  all backups, complete and unfinished
     * @param walNames file names (not keys) of archived WAL objects, with their codec suffixes
     */
    public static RetentionPlan plan(List<BackupEntry> entries, List<String> walNames, RetentionPolicy policy, Instant now) {
        Map<BackupId, RetentionPlan.Decision> decisions = new HashMap<>();
        List<BackupManifest> keptPhysical = new ArrayList<>();
        for (BackupType type : BackupType.values()) {
            List<BackupManifest> complete = entries.stream().filter(BackupEntry::complete).map(BackupEntry::manifest)
                    .filter(m -> m.type() == type).sorted(Comparator.comparing(BackupManifest::stopTime).reversed()).toList();
            boolean physical = type == BackupType.PHYSICAL;
            int count = physical ? policy.physicalCount() : policy.logicalCount();
            java.time.Duration window = physical ? policy.physicalWindow() : policy.logicalWindow();
            boolean governed = physical ? policy.governsPhysical() : policy.governsLogical();
            boolean windowAnchorTaken = false;
            for (int i = 0; i < complete.size(); i++) {
                BackupManifest m = complete.get(i);
                String reason = null;
                if (!governed) {
                    reason = "no retention rule for " + type.id() + " backups";
                } else if (count > 0 && i < count) {
                    reason = "one of the newest " + count;
                } else if (window != null && !m.stopTime().isBefore(now.minus(window))) {
                    reason = "inside the " + Durations.text(window) + " window";
                } else if (window != null && !windowAnchorTaken) {
                    // The newest backup older than the window is where recovery to the window's start begins.
                    reason = "the " + Durations.text(window) + " window starts from it";
                    windowAnchorTaken = true;
                }
                if (window != null && m.stopTime().isBefore(now.minus(window))) {
                    windowAnchorTaken = true;
                }
                decisions.put(m.id(), new RetentionPlan.Decision(m.id(), reason != null, reason != null ? reason : "expired"));
                if (reason != null && physical) {
                    keptPhysical.add(m);
                }
            }
            if (physical) {
                keepChains(complete, decisions, keptPhysical);
            }
            if (governed && !complete.isEmpty() && complete.stream().noneMatch(m -> decisions.get(m.id()).keep())) {
                throw new LifeboatException(ErrorKind.CONFIG, "the retention settings would delete every " + type.id() + " backup",
                        "keep at least one (e.g. retention count 1)");
            }
        }
        for (BackupEntry e : entries) {
            if (!e.complete()) {
                boolean abandoned = e.lastModified() != null && e.lastModified().isBefore(now.minus(policy.unfinishedGrace()));
                decisions.put(e.id(), new RetentionPlan.Decision(e.id(), !abandoned, abandoned
                        ? "unfinished, untouched for more than " + Durations.text(policy.unfinishedGrace())
                        : "unfinished, maybe still running (younger than " + Durations.text(policy.unfinishedGrace()) + ")"));
            }
        }
        List<RetentionPlan.Decision> ordered = entries.stream().map(e -> decisions.get(e.id())).toList();

        long oldest = -1;
        List<String> wal = new ArrayList<>();
        if (policy.governsPhysical() && !keptPhysical.isEmpty()) {
            oldest = Long.MAX_VALUE;
            for (BackupManifest m : keptPhysical) {
                if (m.physical() == null || m.physical().startWalSegment() == null) {
                    oldest = -1; // cannot tell what it needs: delete no WAL
                    break;
                }
                oldest = Math.min(oldest, WalSegmentName.parse(m.physical().startWalSegment()).segmentNumber());
            }
            if (oldest >= 0) {
                for (String name : walNames) {
                    if (name.length() >= 24 && WalSegmentName.looksLikeSegment(name.substring(0, 24))
                            && WalSegmentName.parse(name.substring(0, 24)).segmentNumber() < oldest) {
                        wal.add(name); // segments and .backup history files below the oldest need
                    }
                }
            }
        }
        wal.addAll(supersededPartials(walNames, wal));
        return new RetentionPlan(ordered, wal, oldest);
    }

    /**
     * An incremental backup restores only with every backup of its chain: each backup of the chain
     * of a kept backup is kept too (and its WAL, as of any kept backup), whatever the rules said.
     */
    private static void keepChains(List<BackupManifest> complete, Map<BackupId, RetentionPlan.Decision> decisions,
                                   List<BackupManifest> keptPhysical) {
        Map<BackupId, BackupManifest> byId = new HashMap<>();
        complete.forEach(m -> byId.put(m.id(), m));
        for (BackupManifest m : complete) {
            if (!decisions.get(m.id()).keep() || m.physical() == null || m.physical().files() == null
                    || m.physical().files().chain() == null) {
                continue;
            }
            for (BackupId ancestor : m.physical().files().chain()) {
                RetentionPlan.Decision d = decisions.get(ancestor);
                if (d != null && !d.keep()) {
                    decisions.put(ancestor, new RetentionPlan.Decision(ancestor, true, "in the chain of " + m.id()
                            + ", which is kept"));
                    keptPhysical.add(byId.get(ancestor));
                }
            }
        }
    }

    /**
     * Partial copies of segments that are archived whole (the agent deletes them itself once the
     * segment is stored; a stop between the two leaves them): never served, so deleted.
     */
    static List<String> supersededPartials(List<String> walNames, List<String> already) {
        java.util.Set<String> whole = new java.util.HashSet<>();
        for (String n : walNames) {
            int mark = n.indexOf(".sha256-");
            if (mark == 24 && WalSegmentName.looksLikeSegment(n.substring(0, 24))) {
                whole.add(n.substring(0, 24));
            }
        }
        List<String> out = new ArrayList<>();
        for (String n : walNames) {
            if (n.length() > 24 && n.startsWith(".partial.sha256-", 24) && whole.contains(n.substring(0, 24))
                    && !already.contains(n)) {
                out.add(n);
            }
        }
        return out;
    }

}
