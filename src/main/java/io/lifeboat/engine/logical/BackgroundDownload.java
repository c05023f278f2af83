package io.lifeboat.engine.logical;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.engine.Parallel;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * A database's dump files downloading (and verifying) on their own thread while the restore goes on
 * with what needs only the table of contents: reading the database's definition, creating it, and
 * pg_restore's pre-data section. {@link #await} is where the restore needs every file; {@link
 * #close} stops a download nobody will wait for (a failed restore) and waits until it has let go of
 * the spool, so that the spool can be removed.
 */
final class BackgroundDownload implements AutoCloseable {
    private final ExecutorService thread;
    private final Future<?> download;

    BackgroundDownload(String what, Runnable download) {
        this.thread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "lifeboat-download " + what);
            t.setDaemon(true);
            return t;
        });
        this.download = thread.submit(download);
    }

    /** Waits for the download; its failure is thrown here, as it was thrown there. */
    void await() {
        try {
            download.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LifeboatException(ErrorKind.INTERRUPTED, "interrupted while downloading the dump");
        } catch (ExecutionException e) {
            throw Parallel.unchecked(e.getCause());
        }
    }

    @Override
    public void close() {
        download.cancel(true);
        thread.shutdownNow();
        try {
            // a cancelled download ends at its next read or write (interrupted); it never takes long
            thread.awaitTermination(1, TimeUnit.MINUTES);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
