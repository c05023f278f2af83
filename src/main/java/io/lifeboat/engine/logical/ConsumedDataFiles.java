package io.lifeboat.engine.logical;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Removes a table's data file from the spool once pg_restore -j says it finished the table's data
 * ({@code --verbose}: "finished item 3358 TABLE DATA t1"), while the restore goes on: removing
 * thousands of files after the restore took seconds on a busy disk. A directory archive names a
 * table's data {@code <dump id>.dat} (plus the compression's suffix); each is read once. Removal
 * runs on its own thread, so that pg_restore's output is never held up by the disk.
 */
final class ConsumedDataFiles implements Consumer<String>, AutoCloseable {
    private static final Pattern FINISHED = Pattern.compile("^pg_restore: finished item (\\d+) TABLE DATA .*");
    private static final String[] SUFFIXES = {".dat", ".dat.gz", ".dat.lz4", ".dat.zst"};

    private final Path dir;
    private final ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "lifeboat-spool-cleaner");
        t.setDaemon(true);
        return t;
    });

    ConsumedDataFiles(Path dir) {
        this.dir = dir;
    }

    @Override
    public void accept(String line) {
        Matcher m = FINISHED.matcher(line);
        if (m.matches()) {
            String id = m.group(1);
            thread.execute(() -> {
                for (String suffix : SUFFIXES) {
                    try {
                        Files.deleteIfExists(dir.resolve(id + suffix));
                    } catch (IOException ignored) {
                        // the spool's removal at the end takes what is left
                    }
                }
            });
        }
    }

    /** Waits for the removals asked for so far. */
    @Override
    public void close() {
        thread.shutdown();
        try {
            thread.awaitTermination(1, TimeUnit.MINUTES);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
