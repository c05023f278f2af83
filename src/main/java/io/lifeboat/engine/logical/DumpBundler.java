package io.lifeboat.engine.logical;

import io.lifeboat.catalog.StoredObject;
import io.lifeboat.engine.ObjectPipeline;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Stores the small files of a dump in tar bundles instead of one object each: a dump of thousands
 * of tables is thousands of files of a few KiB, and one object per file costs a request (S3) or two
 * fsyncs (a file repository) per file, which kept the uploads seconds behind pg_dump. A bundle is a
 * plain tar of the files under their own names ({@code tar -xf bundle-1.tar -C db1-app} puts them
 * back), compressed and checksummed as one object like any other; it is written as the files
 * complete and closed at {@value #BUNDLE_BYTES} bytes, so it streams up while pg_dump runs.
 *
 * <p>Not thread-safe: one thread adds files (in completion order) and finishes.
 */
final class DumpBundler implements AutoCloseable {
    /** Files up to this size go into bundles; larger ones are stored on their own, in parallel. */
    static final long SMALL_FILE = 1024 * 1024;
    static final long BUNDLE_BYTES = 64L * 1024 * 1024;

    /** Opens the object for a bundle: (raw name relative to the dump directory) → upload. */
    interface Opener {
        ObjectPipeline.Upload open(String rawName) throws IOException;
    }

    private final Opener opener;
    private final String prefix;
    private final Consumer<Long> progress;
    private final long bundleBytes;
    private final List<StoredObject> stored = new ArrayList<>();
    private final byte[] buf = new byte[128 * 1024];
    private int count;
    private ObjectPipeline.Upload current;
    private TarArchiveOutputStream tar;
    private long currentBytes;

    /**
     * @param prefix   distinguishes bundles of different codecs in one directory ("" or "z"), so names never clash
     * @param progress receives the raw bytes added
     */
    DumpBundler(Opener opener, String prefix, Consumer<Long> progress) {
        this(opener, prefix, progress, BUNDLE_BYTES);
    }

    DumpBundler(Opener opener, String prefix, Consumer<Long> progress, long bundleBytes) {
        this.opener = opener;
        this.prefix = prefix;
        this.progress = progress;
        this.bundleBytes = bundleBytes;
    }

    static String bundleName(String prefix, int n) {
        return "bundle-" + prefix + n + ".tar";
    }

    /** Appends a complete file (it must not change any more). */
    void add(Path file) throws IOException {
        if (tar == null) {
            current = opener.open(bundleName(prefix, ++count));
            // closing the tar leaves the upload open: it commits in finish()
            tar = new TarArchiveOutputStream(current.stream(), 128 * 1024);
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
            currentBytes = 0;
        }
        long size = Files.size(file);
        TarArchiveEntry e = new TarArchiveEntry(file.getFileName().toString());
        e.setSize(size);
        e.setMode(0600);
        e.setModTime(Files.getLastModifiedTime(file).toMillis());
        tar.putArchiveEntry(e);
        long copied = 0;
        try (InputStream in = Files.newInputStream(file)) {
            while (copied < size) {
                int n = in.read(buf, 0, (int) Math.min(buf.length, size - copied));
                if (n < 0) {
                    throw new IOException(file + " shrank while it was being stored (" + copied + " of " + size + " bytes)");
                }
                tar.write(buf, 0, n);
                copied += n;
            }
        }
        tar.closeArchiveEntry();
        progress.accept(size);
        currentBytes += size + 512;
        if (currentBytes >= bundleBytes) {
            closeBundle();
        }
    }

    private void closeBundle() throws IOException {
        tar.finish();
        tar.close();
        stored.add(current.finish());
        current.close();
        tar = null;
        current = null;
    }

    /** Closes the open bundle; the bundles stored, in order. */
    List<StoredObject> finish() throws IOException {
        if (tar != null) {
            closeBundle();
        }
        return List.copyOf(stored);
    }

    /** Discards an unfinished bundle (a failed backup). */
    @Override
    public void close() {
        if (current != null) {
            current.close();
            current = null;
            tar = null;
        }
    }
}
