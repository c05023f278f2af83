package io.lifeboat.engine.plan;

import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.BackupId;
import io.lifeboat.catalog.BackupManifest;
import io.lifeboat.catalog.BackupType;
import io.lifeboat.catalog.RepositoryLayout;
import io.lifeboat.catalog.StoredObject;
import io.lifeboat.engine.Spool;
import io.lifeboat.engine.verify.DrillRecord;
import io.lifeboat.engine.verify.WalContinuity;
import io.lifeboat.postgres.Lsn;
import io.lifeboat.postgres.RecoveryTarget;
import io.lifeboat.postgres.TimelineId;
import io.lifeboat.postgres.WalSegmentName;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Plans a point-in-time restore to one moment (a time, an LSN, an xid, a restore point, or
 * "immediate"), without restoring anything: the backup is the one `restore` would take
 * ({@link BackupChoice}, shared), the WAL is read along the timeline `restore` follows
 * ({@link WalContinuity}'s lineage), and each repository's listing says whether it holds every
 * object. Pure logic over listings already made.
 */
public final class RestorePlanner {
    /** How many drills the restore rate is taken from (the newest ones). */
    static final int RATE_DRILLS = 5;
    /** The command's placeholder when no data directory is given. */
    public static final String NEW_DATA_DIRECTORY = "NEW_EMPTY_DATA_DIRECTORY";

    private RestorePlanner() {
    }

    /**
     * One repository as listed.
     *
     * @param keys     the keys under the cluster's backups prefix
     * @param walNames the WAL file names archived there (as {@link ArchiveIndex#names()})
     * @param error    why it could not be listed, or null
     */
    public record Member(String name, String location, Set<String> keys, Set<String> walNames, String error) {
    }

    /**
     * How the command is written.
     *
     * @param launcher      the lifeboat launcher (absolute path where known)
     * @param configFile    the lifeboat.yml the agent reads
     * @param dataDirectory where to restore; null for a placeholder
     * @param port          start the restored server on this port (--start --port); null: leave it stopped
     * @param production    the cluster's own data directory (postgres.data-directory), never a target
     */
    public record Options(String launcher, Path configFile, Path dataDirectory, Integer port, Path production) {
    }

    public static RestorePlan plan(String cluster, RecoveryTarget target, List<BackupManifest> complete, ArchiveIndex archive,
                                   Map<TimelineId, String> histories, List<Member> members,
                                   Map<BackupId, List<DrillRecord>> drills, Options options) {
        RestorePlan.Target t = new RestorePlan.Target(target.kind().name().toLowerCase(java.util.Locale.ROOT),
                target.value(), target.kind() == RecoveryTarget.Kind.TIME ? target.instant() : null);
        BackupChoice.Choice choice = BackupChoice.forTarget(complete, "the repository of cluster '" + cluster + "'", target);
        BackupManifest m = choice.backup();
        List<String> problems = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        WalContinuity.BackupWal need = WalContinuity.BackupWal.of(m);
        if (need == null) {
            throw new LifeboatException(io.lifeboat.ErrorKind.CORRUPT, "the manifest of " + m.id() + " does not say where "
                    + "its WAL starts and stops", "take a new physical backup");
        }
        long size = need.start().segmentSize();
        WalContinuity.Result r = WalContinuity.check(need, archive.names(), histories);
        notes.addAll(r.notes());
        if (r.damaged()) {
            problems.add("backup " + m.id() + " is DAMAGED: WAL between its start and stop segments is missing from the "
                    + "archive (" + r.gaps().get(0) + ")");
        }
        BackupChain chain = BackupChain.of(m, complete);
        if (!chain.complete()) {
            problems.add("backup " + m.id() + " is an incremental whose chain is incomplete: " + chain.missing()
                    + " is not a complete backup in the repository, and the restore needs every backup of the chain");
        }
        RestorePlan.Wal wal = wal(target, need, r, archive, size, problems);
        RepositoryLayout layout = new RepositoryLayout(cluster);
        List<String> objects = objectKeys(chain, layout);
        RestorePlan.Backup backup = new RestorePlan.Backup(m.id().toString(), m.startTime(), m.stopTime(),
                m.physical().startLsn(), m.physical().stopLsn(), need.start().timeline().value(), m.storedBytes(),
                m.rawBytes(), need.walIncluded(), objects.size(),
                chain.parents().stream().map(b -> b.id().toString()).toList());
        List<RestorePlan.Coverage> coverage = new ArrayList<>();
        for (Member mb : members) {
            coverage.add(coverage(mb, m.id(), objects, layout, wal.segments()));
        }
        if (!members.isEmpty() && coverage.stream().noneMatch(RestorePlan.Coverage::complete)) {
            boolean eachPart = covered(objects, members, wal.segments());
            if (eachPart) {
                notes.add("no single repository holds everything, but together they do: restore reads each object "
                        + "from the first repository that has it");
            } else {
                problems.add("some objects the restore needs are in no repository (see each repository's missing objects)");
            }
        }
        if (options.dataDirectory() != null && options.production() != null
                && options.dataDirectory().toAbsolutePath().normalize().equals(options.production().toAbsolutePath().normalize())) {
            problems.add(options.dataDirectory() + " is the production data directory of cluster '" + cluster + "': "
                    + "restore into a new, empty directory");
        }
        RestorePlan.Estimate estimate = estimate(chain, wal, size, complete, drills);
        String command = command(cluster, target, m.id(), options);
        if (options.dataDirectory() == null) {
            notes.add("replace " + NEW_DATA_DIRECTORY + " with a new or empty directory (restore refuses any other, and "
                    + "never the production data directory)");
        }
        if (choice.note() != null) {
            notes.add(0, choice.note());
        }
        return new RestorePlan(cluster, t, backup, choice.note(), wal, coverage, estimate,
                problems.isEmpty(), problems, notes, command);
    }

    /** The segments from the backup on to where recovery stops, with the timeline each is read from. */
    private static RestorePlan.Wal wal(RecoveryTarget target, WalContinuity.BackupWal need, WalContinuity.Result r,
                                       ArchiveIndex archive, long size, List<String> problems) {
        long start = need.start().segmentNumber();
        long stop = need.stop().segmentNumber();
        long firstFromArchive = need.walIncluded() ? stop + 1 : start;
        long end = r.newest() == null ? stop : Math.max(stop, r.newest().segmentNumber());
        Long through;
        boolean atLeast = false;
        String basis;
        String partial = null;
        switch (target.kind()) {
            case IMMEDIATE -> {
                through = stop;
                basis = "recovery stops as soon as the backup is consistent: at its stop segment";
            }
            case LSN -> {
                through = Math.max(stop, Lsn.parse(target.value()).segmentNumber(size));
                basis = "the segment holding LSN " + target.value();
            }
            case TIME -> {
                Instant at = target.instant();
                through = null;
                for (long s = Math.max(firstFromArchive, stop); s <= end; s++) {
                    ArchiveIndex.Entry e = archive.segment(segmentOn(r, s, size));
                    if (e != null && e.stored() != null && !e.stored().isBefore(at)) {
                        through = s;
                        break;
                    }
                }
                WalSegmentName after = new WalSegmentName(r.timeline(), end + 1, size);
                ArchiveIndex.Entry p = archive.partial(after);
                if (through == null && p != null && p.stored() != null && !p.stored().isBefore(at)) {
                    through = end + 1;
                    partial = after + PARTIAL;
                }
                if (through == null) {
                    Instant newest = newestStored(archive, r, end, size);
                    problems.add("the target is after the newest archived WAL" + (newest == null ? ""
                            : " (stored " + newest + ")") + ": recovery would end before reaching it (PostgreSQL stops "
                            + "with 'recovery ended before configured recovery target was reached'); choose an earlier "
                            + "moment or wait for the WAL to be archived");
                    through = end;
                }
                atLeast = true;
                basis = "the first segment stored after the target: every segment before it was stored before the "
                        + "target, so it holds only earlier WAL; recovery stops at the first commit after the target, in "
                        + "this segment or, if none committed in it after the target, a later one";
            }
            default -> { // XID, NAME: where they are is not recorded
                through = end;
                atLeast = false;
                basis = "where transaction or restore point is in the WAL is not recorded: recovery reads on until it "
                        + "meets it, at most to the end of the archive";
            }
        }
        List<String> names = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        long bytes = 0;
        for (long s = firstFromArchive; s <= through; s++) {
            WalSegmentName seg = segmentOn(r, s, size);
            String name = partial != null && s == through ? partial : seg.toString();
            ArchiveIndex.Entry e = partial != null && s == through ? archive.partial(seg) : archive.segment(seg);
            names.add(name);
            if (e == null) {
                missing.add(name);
            } else {
                bytes += e.storedBytes();
            }
        }
        if (!missing.isEmpty() && !r.damaged()) {
            problems.add(missing.size() + " WAL segment(s) the restore needs are in no repository, from " + missing.get(0)
                    + ": recovery stops there, before the target");
        }
        if (target.kind() == RecoveryTarget.Kind.XID || target.kind() == RecoveryTarget.Kind.NAME) {
            if (!r.gaps().isEmpty() && missing.isEmpty()) {
                problems.add("recovery cannot get past the gap " + r.gaps().get(0) + ": the target is reachable only if "
                        + "it lies before " + r.gaps().get(0).first().startLsn());
            }
        }
        return new RestorePlan.Wal(names.isEmpty() ? null : names.get(0), names.isEmpty() ? null : names.get(names.size() - 1),
                names.size(), bytes, atLeast, basis, names, missing);
    }

    private static final String PARTIAL = io.lifeboat.engine.archive.WalArchive.PARTIAL_SUFFIX;

    /** Segment {@code s} on the timeline recovery reads it from. */
    private static WalSegmentName segmentOn(WalContinuity.Result r, long s, long size) {
        for (WalContinuity.Stretch st : r.lineage()) {
            if (s >= st.from() && s < st.until()) {
                return new WalSegmentName(st.timeline(), s, size);
            }
        }
        return new WalSegmentName(r.timeline(), s, size);
    }

    private static Instant newestStored(ArchiveIndex archive, WalContinuity.Result r, long end, long size) {
        ArchiveIndex.Entry e = archive.segment(segmentOn(r, end, size));
        return e == null ? null : e.stored();
    }

    /**
     * @param objects the keys of every object the restore reads (each backup of the chain: its manifest and objects);
     *                those missing are named by their path in the backup, or for a parent's, "parent id/path"
     */
    private static RestorePlan.Coverage coverage(Member mb, BackupId own, List<String> objects, RepositoryLayout layout,
                                                 List<String> wal) {
        if (mb.error() != null) {
            return new RestorePlan.Coverage(mb.name(), mb.location(), objects.size(), 0, List.of(), wal.size(), 0, List.of(),
                    false, mb.error());
        }
        List<String> missingObjects = objects.stream().filter(k -> !mb.keys().contains(k))
                .map(k -> k.startsWith(layout.backupDir(own) + "/") ? k.substring(layout.backupDir(own).length() + 1)
                        : k.substring(layout.backupsPrefix().length())).toList();
        List<String> missingWal = wal.stream().filter(n -> !mb.walNames().contains(n)).toList();
        return new RestorePlan.Coverage(mb.name(), mb.location(), objects.size(), objects.size() - missingObjects.size(),
                first(missingObjects), wal.size(), wal.size() - missingWal.size(), first(missingWal),
                missingObjects.isEmpty() && missingWal.isEmpty(), null);
    }

    /** Whether every object needed is in at least one repository. */
    private static boolean covered(List<String> objects, List<Member> members, List<String> wal) {
        for (String k : objects) {
            if (members.stream().noneMatch(mb -> mb.error() == null && mb.keys().contains(k))) {
                return false;
            }
        }
        for (String n : wal) {
            if (members.stream().noneMatch(mb -> mb.error() == null && mb.walNames().contains(n))) {
                return false;
            }
        }
        return true;
    }

    private static List<String> objectKeys(BackupChain chain, RepositoryLayout layout) {
        List<String> keys = new ArrayList<>();
        for (BackupManifest m : chain.members()) {
            keys.add(layout.manifest(m.id()));
            for (StoredObject o : m.objects()) {
                keys.add(layout.backupObject(m.id(), o.path()));
            }
        }
        return keys;
    }

    private static List<String> first(List<String> all) {
        return all.size() <= 20 ? all : List.copyOf(all.subList(0, 20));
    }

    /**
     * Expected restore time: the bytes to restore (the backup's files and the WAL to replay, 16 MiB
     * or the configured size per segment) at the median rate the newest successful physical drills
     * measured (their backup's files plus the WAL they replayed, over the time until the copy took connections).
     */
    static RestorePlan.Estimate estimate(BackupChain chain, RestorePlan.Wal wal, long size, List<BackupManifest> complete,
                                         Map<BackupId, List<DrillRecord>> drills) {
        Map<BackupId, BackupManifest> byId = new HashMap<>();
        complete.forEach(b -> byId.put(b.id(), b));
        List<DrillRecord> measured = new ArrayList<>();
        drills.values().forEach(list -> list.stream().filter(d -> d.ok() && d.restoreSeconds() > 0
                && byId.containsKey(d.backup()) && byId.get(d.backup()).type() == BackupType.PHYSICAL).forEach(measured::add));
        measured.sort(Comparator.comparing(DrillRecord::time).reversed());
        List<Double> rates = new ArrayList<>();
        for (DrillRecord d : measured.subList(0, Math.min(RATE_DRILLS, measured.size()))) {
            rates.add(drillBytes(byId.get(d.backup()), complete, d) / d.restoreSeconds());
        }
        long bytes = chain.rawBytes() + wal.count() * size;
        String what = Spool.human(chain.rawBytes()) + " of files" + (chain.members().size() > 1 ? " (at most: the "
                + chain.members().size() + " backups of its chain)" : "") + " and " + wal.count() + " WAL segment(s) ("
                + Spool.human(wal.count() * size) + ") to replay";
        if (rates.isEmpty()) {
            return new RestorePlan.Estimate(null, null, 0, "no successful physical drill has measured a restore rate yet: "
                    + "run one (the drill button) to know; this restore: " + what);
        }
        rates.sort(Double::compare);
        double rate = rates.get(rates.size() / 2);
        if (rates.size() % 2 == 0) {
            rate = (rates.get(rates.size() / 2 - 1) + rate) / 2;
        }
        double seconds = bytes / rate;
        return new RestorePlan.Estimate(seconds, rate, rates.size(), "the median rate of the newest " + rates.size()
                + " successful drill(s), " + Spool.human((long) rate) + "/s (restored files and replayed WAL, until the "
                + "server took connections); this restore: " + what);
    }

    /** What a drill restored and replayed: its backup's files and the WAL from the backup's start to where replay ended. */
    private static double drillBytes(BackupManifest b, List<BackupManifest> complete, DrillRecord d) {
        long size = b.physical().segmentSize();
        long segments = 0;
        WalContinuity.BackupWal w = WalContinuity.BackupWal.of(b);
        if (w != null && d.recoveredTo() != null) {
            try {
                segments = Math.max(0, Lsn.parse(d.recoveredTo()).segmentNumber(size) - w.start().segmentNumber() + 1);
            } catch (LifeboatException e) {
                segments = 0;
            }
        }
        return BackupChain.of(b, complete).rawBytes() + (double) segments * size;
    }

    /** The `lifeboat restore` command for this plan, each argument shell-quoted. */
    static String command(String cluster, RecoveryTarget target, BackupId backup, Options o) {
        List<String> a = new ArrayList<>(List.of(o.launcher() == null ? "lifeboat" : o.launcher(), "restore"));
        if (o.configFile() != null) {
            a.addAll(List.of("--config", o.configFile().toAbsolutePath().toString()));
        }
        a.addAll(List.of("--cluster", cluster, "--backup", backup.toString()));
        switch (target.kind()) {
            case TIME -> a.addAll(List.of("--target-time", target.value()));
            case LSN -> a.addAll(List.of("--target-lsn", target.value()));
            case XID -> a.addAll(List.of("--target-xid", target.value()));
            case NAME -> a.addAll(List.of("--target-name", target.value()));
            case IMMEDIATE -> a.addAll(List.of("--target", "immediate"));
        }
        a.addAll(List.of("--data-directory", o.dataDirectory() == null ? NEW_DATA_DIRECTORY
                : o.dataDirectory().toAbsolutePath().toString()));
        if (o.port() != null) {
            a.addAll(List.of("--start", "--port", Integer.toString(o.port())));
        }
        StringBuilder sb = new StringBuilder();
        for (String s : a) {
            sb.append(sb.length() == 0 ? "" : " ").append(quote(s));
        }
        return sb.toString();
    }

    /** A word for a POSIX shell: as it is when it holds only safe characters, else in single quotes. */
    public static String quote(String s) {
        if (s.matches("[A-Za-z0-9_./:=@%+-]+")) {
            return s;
        }
        return "'" + s.replace("'", "'\\''") + "'";
    }
}
