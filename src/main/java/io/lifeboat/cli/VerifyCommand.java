package io.lifeboat.cli;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.BackupEntry;
import io.lifeboat.catalog.BackupId;
import io.lifeboat.catalog.BackupManifest;
import io.lifeboat.catalog.BackupType;
import io.lifeboat.config.ClusterConfig;
import io.lifeboat.engine.RepositoryAccess;
import io.lifeboat.config.RetentionPolicy;
import io.lifeboat.engine.verify.ArchivedWalCheck;
import io.lifeboat.engine.verify.DrillRecord;
import io.lifeboat.engine.verify.RestoreDrill;
import io.lifeboat.engine.verify.Verification;
import io.lifeboat.engine.verify.WalContinuity;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

@Command(name = "verify", mixinStandardHelpOptions = true,
        description = {"Check every stored object of the backups against their manifests, in every repository; read "
                + "every archived WAL copy and check it against its checksum; check that the WAL archive is complete "
                + "from each physical backup on (following timeline switches); compare the repositories' backups "
                + "and report unfinished ones older than the unfinished-grace.",
                "With --restore-test, also restore backups into a scratch cluster, check them, and record the result "
                        + "in the repository."})
final class VerifyCommand implements Callable<Integer> {
    @ParentCommand
    LifeboatCommand root;

    @Mixin
    ClusterOptions cluster;

    @Option(names = {"-b", "--backup"}, paramLabel = "ID", description = "Only this backup (default: every complete backup).")
    String backup;

    @Option(names = "--restore-test", description = "Restore the backup (default: the newest complete backup of each "
            + "type, logical and physical) into a scratch cluster on this machine and check it.")
    boolean restoreTest;

    @Option(names = "--scratch-directory", paramLabel = "DIR", description = "Where the scratch cluster goes (default: temp).")
    Path scratch;

    @Option(names = "--wal-sample", paramLabel = "N", description = "Read and check only N archived WAL copies, "
            + "chosen at random, in each repository (default: every one; 0: none, only the listing's continuity).")
    Integer walSample;

    @Override
    public Integer call() {
        Interrupts.handleInThisThread();
        Output out = root.output();
        if (walSample != null && walSample < 0) {
            throw new LifeboatException(ErrorKind.USAGE, "--wal-sample must be 0 or more, not " + walSample,
                    "leave it out to check every archived WAL copy");
        }
        ClusterConfig cfg = cluster.load();
        BackupId only = backup == null ? null : BackupId.parse(backup);
        Duration grace = RetentionPolicy.unfinishedGraceOf(cfg.retention());
        Map<String, Object> result = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        boolean onlyUnreachable = true; // every problem is something that could not be read (a repository, a WAL copy)
        Set<String> hints = new LinkedHashSet<>();
        try (RepositoryAccess repo = RepositoryAccess.open(cfg, out::warn)) {
            List<Verification.RepositoryReport> reports = new Verification(cfg.jobs(), out.progress(), grace, walSample,
                    Instant.now()).run(repo, only);
            boolean several = reports.size() > 1;
            List<Map<String, Object>> repos = new ArrayList<>();
            for (Verification.RepositoryReport r : reports) {
                if (several) {
                    out.text(r.describe() + ":");
                }
                if (r.walCheck() != null) {
                    out.text(walCheckSummary(r.walCheck()));
                }
                r.problems().forEach(p -> out.text("        " + p));
                r.storageProblems().forEach(p -> out.text("        " + p));
                r.notes().forEach(n -> out.text("        note: " + n));
                if (r.walCheck() != null && r.walCheck().bad().stream()
                        .anyMatch(b -> b.verdict() != ArchivedWalCheck.Verdict.UNREADABLE)) {
                    hints.add("recovery stops at a corrupt archived WAL segment: recover only up to the LSN given for "
                            + "each backup above, or from a repository whose copy is good; take a new physical backup so "
                            + "that later changes are covered");
                }
                if (r.walCheck() != null && r.walCheck().bad().stream()
                        .anyMatch(b -> b.verdict() == ArchivedWalCheck.Verdict.UNREADABLE)) {
                    hints.add("verify again once " + r.describe() + " answers: some archived WAL could not be read");
                }
                List<Map<String, Object>> checked = new ArrayList<>();
                for (Verification.BackupReport b : r.backups()) {
                    out.text(status(b) + b.id() + "  " + b.objects() + " objects" + walSummary(b.wal()));
                    b.problems().forEach(p -> out.text("        " + p));
                    if (b.wal() != null) {
                        b.wal().notes().forEach(n -> out.text("        note: " + n));
                        if (!b.wal().ok()) {
                            out.text("        " + b.wal().hint());
                            hints.add(b.wal().hint());
                        }
                    }
                    if (!b.objectProblems().isEmpty()) {
                        hints.add("restore " + b.id() + " from another repository or another backup; take a new backup");
                    }
                    checked.add(backupJson(r, b));
                }
                problems.addAll(r.allProblems(several));
                if (r.unreachable()) {
                    hints.add("bring " + r.describe() + " back and verify again; the other repositories were checked");
                } else if (r.damageFound()) {
                    onlyUnreachable = false;
                }
                Map<String, Object> j = new LinkedHashMap<>();
                j.put("name", r.name());
                j.put("location", r.location());
                j.put("ok", r.allProblems(false).isEmpty());
                j.put("problems", r.allProblems(several));
                j.put("notes", r.notes());
                if (r.walCheck() != null) {
                    j.put("walCheck", r.walCheck());
                }
                j.put("backups", checked);
                repos.add(j);
            }
            result.put("repositories", repos);
            result.put("backups", repos.stream().flatMap(r -> ((List<?>) r.get("backups")).stream()).toList());
            if (restoreTest) {
                List<DrillRecord> drills = new ArrayList<>();
                RestoreDrill drill = new RestoreDrill(cfg, repo.catalog(), repo.pipeline(), out::info,
                        WalFetchCommandLine.of(cfg, cluster));
                for (BackupManifest m : drillTargets(repo, only)) {
                    DrillRecord d = drill.run(m, scratch);
                    d.checks().forEach((k, v) -> out.text("  " + k + ": " + v));
                    out.text((d.ok() ? "proven restorable: " : "RESTORE DRILL FAILED: ") + m.id() + " restored in "
                            + d.restoreSeconds() + " s onto " + d.restoredOnto());
                    d.problems().forEach(p -> out.text("        " + p));
                    problems.addAll(d.problems());
                    if (!d.ok()) {
                        onlyUnreachable = false;
                        hints.add("the restore drill of " + m.id() + " failed: see the problems above");
                    }
                    drills.add(d);
                }
                result.put("restoreTests", drills);
                result.put("restoreTest", drills.get(0));
            }
        }
        result.put("ok", problems.isEmpty());
        result.put("problems", problems);
        out.result(result);
        if (!problems.isEmpty()) {
            // A repository that is down is a storage problem, not damage: monitoring tells them apart by the exit code.
            throw new LifeboatException(onlyUnreachable ? ErrorKind.STORAGE : ErrorKind.CORRUPT,
                    problems.size() + " problem(s) found: " + problems.get(0),
                    String.join("; ", hints.isEmpty() ? Set.of("restore from another backup or repository; take a new backup")
                            : hints));
        }
        return 0;
    }

    private static String walCheckSummary(ArchivedWalCheck.Result w) {
        long corrupt = w.bad().stream().filter(b -> b.verdict() != ArchivedWalCheck.Verdict.UNREADABLE).count();
        long unreadable = w.bad().size() - corrupt;
        return (w.bad().isEmpty() ? "ok      " : corrupt > 0 ? "DAMAGED " : "UNREAD  ") + "archived WAL: " + w.checked()
                + (w.sampled() ? " of " + w.copies() + " copies (a random sample)" : " copies") + " read and checked ("
                + io.lifeboat.engine.Spool.human(w.rawBytes()) + ", " + io.lifeboat.engine.Spool.human(w.storedBytes())
                + " stored) in " + w.seconds() + " s" + (corrupt > 0 ? "; " + corrupt + " damaged" : "")
                + (unreadable > 0 ? "; " + unreadable + " could not be read" : "");
    }

    private static String status(Verification.BackupReport b) {
        return b.damaged() ? "DAMAGED " : b.ok() ? "ok      " : "WAL GAP ";
    }

    private static String walSummary(WalContinuity.Result w) {
        if (w == null || !w.ok()) {
            return "";
        }
        if (w.newest() == null) {
            return "; WAL stored with the backup, none archived after it";
        }
        return "; WAL " + (w.walIncluded() ? "stored with it, archive complete after it" : "complete from " + w.start())
                + " to " + w.newest() + " (timeline " + w.timeline() + "), recovers up to " + w.recoverableTo();
    }

    private static Map<String, Object> backupJson(Verification.RepositoryReport r, Verification.BackupReport b) {
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("id", b.id().toString());
        j.put("repository", r.name());
        j.put("type", b.type().id());
        j.put("ok", b.ok());
        j.put("damaged", b.damaged());
        j.put("objects", b.objects());
        j.put("problems", b.problems());
        if (b.wal() != null) {
            j.put("wal", b.wal().toMap());
        }
        return j;
    }

    /** --backup, or the newest complete backup of each type present. */
    private static List<BackupManifest> drillTargets(RepositoryAccess repo, BackupId only) {
        if (only != null) {
            return List.of(repo.catalog().manifest(only));
        }
        List<BackupManifest> all = repo.catalog().list().stream().filter(BackupEntry::complete).map(BackupEntry::manifest).toList();
        List<BackupManifest> out = new ArrayList<>();
        for (BackupType t : List.of(BackupType.LOGICAL, BackupType.PHYSICAL)) {
            all.stream().filter(m -> m.type() == t).reduce((a, b) -> b).ifPresent(out::add);
        }
        if (out.isEmpty()) {
            throw new LifeboatException(ErrorKind.NOT_FOUND, "no complete backup to drill",
                    "take one with `lifeboat backup --type logical` or `--type physical`");
        }
        return out;
    }
}
