package io.lifeboat.engine.plan;

import java.time.Instant;
import java.util.List;

/**
 * What a point-in-time restore to one moment takes: the backup it starts from (as `restore`
 * chooses it), the WAL segments recovery reads, which repository holds every object, how long it
 * should take (from the drills' measured rates), and the exact command.
 *
 * @param restorable whether every object needed is in at least one repository and the target lies within the archive
 * @param problems   why not, each with what it means
 * @param command    the `lifeboat restore` command line (shell-quoted)
 */
public record RestorePlan(String cluster, Target target, Backup backup, String choiceNote, Wal wal,
                          List<Coverage> repositories, Estimate estimate, boolean restorable, List<String> problems,
                          List<String> notes, String command) {

    /** @param time the moment, for a time target; null otherwise */
    public record Target(String kind, String value, Instant time) {
    }

    /**
     * @param objects the objects the restore reads (manifests included), of every backup of the chain
     * @param chain   for an incremental, the backups it is put together from, the full backup first; else empty
     */
    public record Backup(String id, Instant start, Instant stop, String startLsn, String stopLsn, long timeline,
                         long storedBytes, long rawBytes, boolean walIncluded, int objects, List<String> chain) {
    }

    /**
     * The archived WAL recovery reads, in order.
     *
     * @param first           the first segment taken from the archive (after the backup's own WAL, if it holds it)
     * @param through         the last one
     * @param throughIsAtLeast the end is a lower bound (a time target: recovery reads on to the first commit after it)
     * @param basis           how {@code through} was found
     * @param segments        every segment name, first to through
     * @param missing         those no repository holds
     */
    public record Wal(String first, String through, long count, long storedBytes, boolean throughIsAtLeast, String basis,
                      List<String> segments, List<String> missing) {
    }

    /**
     * One repository's copy of what the restore needs.
     *
     * @param error why it could not be listed (it is then not counted as holding anything)
     */
    public record Coverage(String name, String location, int backupObjects, int backupObjectsPresent,
                           List<String> missingObjects, int walSegments, int walPresent, List<String> missingWal,
                           boolean complete, String error) {
    }

    /**
     * @param seconds        the expected restore time (files and replay, until the server accepts connections); null
     *                       when no drill measured a rate yet
     * @param bytesPerSecond the rate used
     * @param drills         how many drills the rate comes from
     */
    public record Estimate(Double seconds, Double bytesPerSecond, int drills, String basis) {
    }
}
