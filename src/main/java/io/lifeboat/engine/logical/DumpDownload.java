package io.lifeboat.engine.logical;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.BackupManifest;
import io.lifeboat.catalog.Catalog;
import io.lifeboat.catalog.StoredObject;
import io.lifeboat.engine.LocalWrite;
import io.lifeboat.engine.ObjectPipeline;
import io.lifeboat.engine.Parallel;
import io.lifeboat.engine.Progress;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Brings a logical backup's objects into a local directory, each verified (size and SHA-256)
 * before anything reads it: plain objects become their dump file; a bundle (see {@link DumpBundler})
 * is fetched and verified whole, then its members are written into the dump directory.
 */
final class DumpDownload {
    private final Catalog catalog;
    private final ObjectPipeline pipeline;
    private final Progress progress;

    DumpDownload(Catalog catalog, ObjectPipeline pipeline, Progress progress) {
        this.catalog = catalog;
        this.pipeline = pipeline;
        this.progress = progress;
    }

    /** Downloads {@code objects} of backup {@code m} into {@code dir}, {@code jobs} at a time. */
    void run(BackupManifest m, List<StoredObject> objects, Path dir, int jobs) {
        progress.start("download " + m.id(), objects.stream().mapToLong(StoredObject::size).sum());
        try {
            List<Parallel.Task<Void>> tasks = new ArrayList<>();
            // bundles first (they are unpacked after their download), then the largest: the shortest critical path
            List<StoredObject> order = objects.stream().sorted(java.util.Comparator
                    .comparing((StoredObject o) -> !BackupManifest.isBundle(ObjectPipeline.rawName(o)))
                    .thenComparing(StoredObject::size, java.util.Comparator.reverseOrder())).toList();
            for (StoredObject o : order) {
                tasks.add(() -> {
                    String raw = ObjectPipeline.rawName(o);
                    Path file = dir.resolve(raw);
                    fetchTo(m, o, file);
                    if (BackupManifest.isBundle(raw)) {
                        try {
                            extract(file, file.getParent(), m.id() + "/" + o.path());
                        } finally {
                            Files.deleteIfExists(file);
                        }
                    }
                    progress.advance(o.size());
                    return null;
                });
            }
            Parallel.run(jobs, tasks);
        } finally {
            progress.finish();
        }
    }

    /** Fetches one object, verified, into {@code file}. */
    void fetchTo(BackupManifest m, StoredObject o, Path file) {
        // a local write that fails is RESOURCE naming the file; the repository's failures keep their own kind
        LocalWrite.run(file.getParent(), () -> Files.createDirectories(file.getParent()));
        try (OutputStream out = LocalWrite.guard(file, LocalWrite.at(file, () -> Files.newOutputStream(file)))) {
            pipeline.fetch(catalog.layout().backupObject(m.id(), o.path()), o, out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes a verified bundle's members into {@code into}: plain files with plain names only. */
    static void extract(Path bundle, Path into, String what) throws IOException {
        try (InputStream in = Files.newInputStream(bundle);
             TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
            TarArchiveEntry e;
            while ((e = tar.getNextEntry()) != null) {
                String name = e.getName();
                if (!e.isFile() || name.isEmpty() || name.contains("/") || name.startsWith(".")) {
                    throw new LifeboatException(ErrorKind.CORRUPT, "bundle " + what + " holds '" + name
                            + "', which is not a plain dump file", "the backup was not written by Lifeboat, or damaged "
                            + "before it was checksummed; restore from another backup");
                }
                Path member = into.resolve(name);
                try (OutputStream out = LocalWrite.guard(member, LocalWrite.at(member, () -> Files.newOutputStream(member,
                        StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)))) {
                    tar.transferTo(out);
                }
            }
        }
    }
}
