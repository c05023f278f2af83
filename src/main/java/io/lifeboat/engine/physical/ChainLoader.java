package io.lifeboat.engine.physical;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.BackupId;
import io.lifeboat.catalog.BackupManifest;
import io.lifeboat.catalog.Catalog;
import io.lifeboat.catalog.FileIndex;
import io.lifeboat.catalog.StoredObject;
import io.lifeboat.engine.ObjectPipeline;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Loads a chain of backups from the repository: the manifests of a backup's full backup and of
 * every incremental up to it, each checked to be complete and to belong with the others, and their
 * file indexes, each verified by its SHA-256 before it is read.
 */
final class ChainLoader {
    private ChainLoader() {
    }

    /** The chain that ends with {@code newest}, the full backup first. */
    static ChainView load(Catalog catalog, ObjectPipeline pipeline, BackupManifest newest) {
        BackupManifest.IndexedFiles files = newest.physical() == null ? null : newest.physical().files();
        if (files == null) {
            throw new LifeboatException(ErrorKind.USAGE, "backup " + newest.id() + " has no file index",
                    "it was taken over the replication protocol and restores from its tar archives alone");
        }
        List<BackupManifest> manifests = new ArrayList<>();
        for (BackupId id : files.chain() == null ? List.<BackupId>of() : files.chain()) {
            manifests.add(member(catalog, newest, id));
        }
        manifests.add(newest);
        for (int i = 0; i < manifests.size(); i++) {
            BackupManifest m = manifests.get(i);
            BackupManifest.IndexedFiles f = m.physical() == null ? null : m.physical().files();
            BackupId expectedParent = i == 0 ? null : manifests.get(i - 1).id();
            if (f == null || (expectedParent == null ? f.parent() != null : !expectedParent.equals(f.parent()))) {
                throw new LifeboatException(ErrorKind.CORRUPT, "backup " + newest.id() + " names " + m.id() + " in its "
                        + "chain, but " + m.id() + (f == null ? " has no file index" : f.parent() == null
                        ? " is a full backup" : " is an incremental of " + f.parent()),
                        "the manifests do not agree; restore another backup");
            }
            if (!m.systemIdentifier().equals(newest.systemIdentifier())) {
                throw new LifeboatException(ErrorKind.CORRUPT, "backup " + m.id() + " in the chain of " + newest.id()
                        + " is of another cluster (system " + m.systemIdentifier() + ")", "restore another backup");
            }
        }
        List<ChainView.Link> links = new ArrayList<>();
        for (BackupManifest m : manifests) {
            links.add(ChainView.Link.of(m, index(catalog, pipeline, m)));
        }
        return new ChainView(links);
    }

    /** A backup the chain needs: it must be there and complete, or the chain is broken. */
    private static BackupManifest member(Catalog catalog, BackupManifest newest, BackupId id) {
        try {
            return catalog.manifest(id);
        } catch (LifeboatException e) {
            if (e.kind() == ErrorKind.NOT_FOUND || e.kind() == ErrorKind.CONFLICT) {
                throw new LifeboatException(ErrorKind.CONFLICT, "backup " + newest.id() + " is an incremental backup "
                        + "that needs " + id + ", and " + id + (e.kind() == ErrorKind.NOT_FOUND ? " is not in the repository"
                        : " is unfinished") + " (" + e.getMessage() + ")", "restore an older backup whose chain is whole "
                        + "(`lifeboat list` shows chains), and take a full backup (backup --type physical --full)", e);
            }
            throw e;
        }
    }

    /** A backup's file index, verified and parsed. */
    static FileIndex index(Catalog catalog, ObjectPipeline pipeline, BackupManifest m) {
        String path = m.physical().files().index();
        StoredObject o = m.objects().stream().filter(x -> x.path().equals(path)).findFirst()
                .orElseThrow(() -> new LifeboatException(ErrorKind.CORRUPT, "the manifest of backup " + m.id()
                        + " refers to its file index " + path + " but does not list it", "the manifest is damaged"));
        String key = catalog.layout().backupObject(m.id(), o.path());
        ByteArrayOutputStream out = new ByteArrayOutputStream((int) Math.min(Integer.MAX_VALUE - 16, o.rawSize()));
        try {
            pipeline.fetch(key, o, out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return FileIndex.parse(out.toByteArray(), "the file index of backup " + m.id() + " (" + key + ")");
    }
}
