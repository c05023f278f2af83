package io.lifeboat.engine.verify;

import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.BackupManifest;
import io.lifeboat.catalog.Catalog;
import io.lifeboat.catalog.StoredObject;
import io.lifeboat.engine.ObjectPipeline;
import io.lifeboat.engine.Parallel;
import io.lifeboat.engine.Progress;

import java.util.ArrayList;
import java.util.List;

/** Reads every object of a backup and checks size and checksum against the manifest (invariant 4). */
public final class BackupVerifier {
    private final Catalog catalog;
    private final ObjectPipeline pipeline;
    private final Progress progress;

    public BackupVerifier(Catalog catalog, ObjectPipeline pipeline, Progress progress) {
        this.catalog = catalog;
        this.pipeline = pipeline;
        this.progress = progress;
    }

    /** @return the problems found, one line per damaged or missing object; empty when all is well */
    public List<String> verify(BackupManifest m, int jobs) {
        progress.start("verify " + m.id(), m.storedBytes());
        try {
            List<Parallel.Task<String>> tasks = new ArrayList<>();
            for (StoredObject o : m.objects()) {
                tasks.add(() -> {
                    try {
                        pipeline.verify(catalog.layout().backupObject(m.id(), o.path()), o);
                        return null;
                    } catch (LifeboatException e) {
                        return e.getMessage();
                    } finally {
                        progress.advance(o.size());
                    }
                });
            }
            return Parallel.run(jobs, tasks).stream().filter(p -> p != null).toList();
        } finally {
            progress.finish();
        }
    }
}
