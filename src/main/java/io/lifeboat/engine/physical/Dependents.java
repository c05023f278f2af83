package io.lifeboat.engine.physical;

import io.lifeboat.catalog.BackupId;
import io.lifeboat.catalog.BackupManifest;

import java.util.Comparator;
import java.util.List;

/** The incremental backups put together from a backup: those with it in their chain. */
public final class Dependents {
    private Dependents() {
    }

    /** Newest first (the order to delete them in). */
    public static List<BackupId> of(List<BackupManifest> complete, BackupId id) {
        return complete.stream().filter(m -> m.physical() != null && m.physical().files() != null
                        && m.physical().files().chain() != null && m.physical().files().chain().contains(id))
                .map(BackupManifest::id).sorted(Comparator.reverseOrder()).toList();
    }
}
