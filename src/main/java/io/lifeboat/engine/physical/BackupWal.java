package io.lifeboat.engine.physical;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.BackupId;
import io.lifeboat.catalog.Catalog;
import io.lifeboat.engine.ObjectPipeline;
import io.lifeboat.engine.archive.WalArchive;
import io.lifeboat.postgres.Lsn;
import io.lifeboat.postgres.TimelineId;
import io.lifeboat.postgres.WalFileName;
import io.lifeboat.postgres.WalSegmentName;

import java.io.IOException;
import java.util.List;
import java.util.function.Consumer;

/** The WAL a physical backup needs, for both ways of taking one (over the replication protocol, or local). */
final class BackupWal {
    private BackupWal() {
    }

    /**
     * The backup is restorable only with the WAL from its start to its stop in the archive: wait
     * until the segment holding its stop point is in this repository (archive_command stores it
     * there), so the manifest is never written for a backup whose WAL went nowhere.
     */
    static void awaitArchived(Catalog catalog, ObjectPipeline pipeline, Consumer<String> log, BackupId id,
                              WalSegmentName last, int timeoutSeconds) {
        WalArchive archive = new WalArchive(catalog.storage(), catalog.layout(), pipeline);
        WalFileName name = WalFileName.parse(last.toString());
        long started = System.nanoTime();
        long deadline = started + timeoutSeconds * 1_000_000_000L;
        long nextReport = started + 30_000_000_000L;
        log.accept("backup " + id + ": waiting for WAL segment " + last + " to reach the repository through archive_command");
        while (true) {
            try {
                if (!archive.find(name).isEmpty()) {
                    return;
                }
            } catch (IOException e) {
                throw new LifeboatException(ErrorKind.STORAGE, "cannot look for WAL segment " + last + " in "
                        + catalog.storage().describe() + ": " + e.getMessage(), "check the repository", e);
            }
            long now = System.nanoTime();
            if (now > deadline) {
                throw new LifeboatException(ErrorKind.DATABASE, "backup " + id + ": WAL segment " + last + ", which the backup "
                        + "needs, did not reach " + catalog.storage().describe() + " within " + timeoutSeconds + " s",
                        "archive_command is failing or slow: see the server log and run `lifeboat check`; raise "
                        + "--archive-timeout, or take the backup with --include-wal");
            }
            if (now > nextReport) {
                log.accept("backup " + id + ": still waiting for " + last + " (" + (now - started) / 1_000_000_000L
                        + " s of " + timeoutSeconds + " s); is archive_command working? `lifeboat check` tests it");
                nextReport = now + 30_000_000_000L;
            }
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new LifeboatException(ErrorKind.INTERRUPTED, "backup " + id + " interrupted", null);
            }
        }
    }

    /** With the WAL stored in the backup: every segment from the start's to the stop's must be there. */
    static void checkComplete(ObjectPipeline pipeline, Lsn start, long startTimeline, Lsn stop, long stopTimeline,
                              long segmentSize, List<String> walSegments) {
        long first = start.segmentNumber(segmentSize);
        long last = WalSegmentName.endingAt(TimelineId.of(stopTimeline), stop, segmentSize).segmentNumber();
        for (long s = first; s <= last; s++) {
            String name = pipeline.storedName("pg_wal/" + new WalSegmentName(TimelineId.of(startTimeline), s, segmentSize));
            String onStop = pipeline.storedName("pg_wal/" + new WalSegmentName(TimelineId.of(stopTimeline), s, segmentSize));
            if (!walSegments.contains(name) && !walSegments.contains(onStop)) {
                throw new LifeboatException(ErrorKind.DATABASE, "the WAL stream did not deliver segment " + name
                        + " (needed from " + start + " to " + stop + ")", "run the backup again");
            }
        }
    }
}
