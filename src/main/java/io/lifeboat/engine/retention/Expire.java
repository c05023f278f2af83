package io.lifeboat.engine.retention;

import io.lifeboat.config.RetentionPolicy;
import io.lifeboat.catalog.BackupEntry;
import io.lifeboat.catalog.BackupId;
import io.lifeboat.catalog.Catalog;
import io.lifeboat.storage.ObjectInfo;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/** Applies a retention policy to a repository: backups first (manifest first each), then WAL. */
public final class Expire {
    private final Catalog catalog;
    private final Consumer<String> log;

    public Expire(Catalog catalog, Consumer<String> log) {
        this.catalog = catalog;
        this.log = log;
    }

    public record Result(RetentionPlan plan, boolean dryRun, int backupsDeleted, int walDeleted) {
    }

    public Result run(RetentionPolicy policy, boolean dryRun, Instant now) {
        List<BackupEntry> entries = catalog.list();
        Map<String, String> walKeys = new HashMap<>();
        try {
            for (ObjectInfo o : catalog.storage().list(catalog.layout().walPrefix())) {
                walKeys.put(o.key().substring(o.key().lastIndexOf('/') + 1), o.key());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        RetentionPlan plan = RetentionPlanner.plan(entries, List.copyOf(walKeys.keySet()), policy, now);
        int backups = 0;
        int wal = 0;
        for (RetentionPlan.Decision d : plan.backups()) {
            log.accept((d.keep() ? "keep   " : dryRun ? "would delete " : "delete ") + d.id() + "  (" + d.reason() + ")");
        }
        if (!plan.walToDelete().isEmpty()) {
            log.accept((dryRun ? "would delete " : "delete ") + plan.walToDelete().size() + " WAL objects below segment number "
                    + Long.toHexString(plan.oldestNeededSegment()).toUpperCase(java.util.Locale.ROOT));
        }
        if (dryRun) {
            staleUploads(now, false);
            return new Result(plan, true, 0, 0);
        }
        // Newest first: an incremental goes before the backups of its chain, so an interrupted expire
        // never leaves a complete incremental whose parent is gone.
        List<BackupId> doomed = new java.util.ArrayList<>(plan.backupsToDelete());
        java.util.Collections.reverse(doomed);
        for (BackupId id : doomed) {
            catalog.delete(id);
            backups++;
        }
        int abandoned = catalog.removeAbandonedWrites();
        if (abandoned > 0) {
            log.accept("removed " + abandoned + " temporary files that killed backups left unfinished");
        }
        staleUploads(now, true);
        try {
            for (String name : plan.walToDelete()) {
                catalog.storage().delete(walKeys.get(name));
                wal++;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new Result(plan, false, backups, wal);
    }

    /**
     * Aborts the S3 multipart uploads that killed writers left (S3 keeps, and bills, their parts
     * until told), or in a dry run only lists them, and says which. A failure here is only a
     * warning: it does not undo the expiry.
     */
    private void staleUploads(Instant now, boolean abort) {
        try {
            for (io.lifeboat.storage.StaleUpload u : catalog.staleUploads(now, abort)) {
                log.accept((abort ? "aborted" : "would abort") + " the unfinished upload of " + u.key() + " (begun "
                        + u.started() + ", its writer was killed)");
            }
        } catch (RuntimeException e) {
            log.accept("warning: could not " + (abort ? "abort" : "list") + " the unfinished uploads of killed writers: "
                    + e.getMessage());
        }
    }
}
