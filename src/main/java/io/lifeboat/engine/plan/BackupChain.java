package io.lifeboat.engine.plan;

import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.BackupId;
import io.lifeboat.catalog.BackupManifest;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The backups a restore of one backup reads: the backup alone when it is full; for a block-level
 * incremental, its parents back to the full backup, which must all be complete.
 *
 * <p>The parent is the physical details' file index {@code parent}; the manifest's {@code kind} fact
 * ("incremental of ID"), written next to it, is read only when that field is absent. A backup with
 * neither is full.
 *
 * @param members the backups restored, the full backup first and this one last; up to the first missing one
 * @param missing the first parent that is not a complete backup in the repository, or null
 */
public record BackupChain(List<BackupManifest> members, BackupId missing) {
    private static final Pattern INCREMENTAL = Pattern.compile("incremental of (\\S+)");

    /** The backup {@code m} is an incremental of, or null for a full one. */
    public static BackupId parent(BackupManifest m) {
        if (m.physical() != null && m.physical().files() != null && m.physical().files().parent() != null) {
            return m.physical().files().parent();
        }
        String kind = m.extra() == null ? null : m.extra().get("kind");
        Matcher x = kind == null ? null : INCREMENTAL.matcher(kind.trim());
        if (x == null || !x.matches()) {
            return null;
        }
        try {
            return BackupId.parse(x.group(1));
        } catch (LifeboatException e) {
            return null;
        }
    }

    /** The chain of {@code m} among the complete backups. */
    public static BackupChain of(BackupManifest m, Collection<BackupManifest> complete) {
        Map<BackupId, BackupManifest> byId = new HashMap<>();
        complete.forEach(b -> byId.put(b.id(), b));
        List<BackupManifest> members = new ArrayList<>();
        Set<BackupId> seen = new HashSet<>();
        BackupManifest at = m;
        BackupId missing = null;
        while (at != null) {
            members.add(0, at);
            seen.add(at.id());
            BackupId p = parent(at);
            if (p == null) {
                break;
            }
            BackupManifest next = byId.get(p);
            if (next == null || seen.contains(p) || !next.id().time().isBefore(at.id().time())) {
                missing = p; // not there, or a loop: a chain goes back in time
                break;
            }
            at = next;
        }
        return new BackupChain(List.copyOf(members), missing);
    }

    public boolean incremental() {
        return members.size() > 1 || missing != null;
    }

    public boolean complete() {
        return missing == null;
    }

    /** The parents, the full backup first (empty for a full backup). */
    public List<BackupManifest> parents() {
        return members.subList(0, members.size() - 1);
    }

    /** What the chain's files hold when restored in full, an upper bound of what the restore reads. */
    public long rawBytes() {
        return members.stream().mapToLong(BackupManifest::rawBytes).sum();
    }

    public long storedBytes() {
        return members.stream().mapToLong(BackupManifest::storedBytes).sum();
    }
}
