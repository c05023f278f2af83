package io.lifeboat.engine.verify;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.BackupEntry;
import io.lifeboat.catalog.BackupId;
import io.lifeboat.catalog.BackupManifest;
import io.lifeboat.catalog.BackupType;
import io.lifeboat.engine.Progress;
import io.lifeboat.engine.RepositoryAccess;
import io.lifeboat.engine.archive.WalArchive;
import io.lifeboat.postgres.TimelineHistory;
import io.lifeboat.postgres.WalFileName;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * `verify` over every configured repository separately: each copy of each backup is read and
 * checked against its manifest, and each repository's WAL archive is checked for continuity from
 * every physical backup on (see {@link WalContinuity}). Problems name the repository they were
 * found in, so with several repositories a damaged copy is found even when reads would have been
 * served from a healthy one.
 */
public final class Verification {
    private final int jobs;
    private final Progress progress;

    public Verification(int jobs, Progress progress) {
        this.jobs = jobs;
        this.progress = progress;
    }

    /**
     * One backup in one repository.
     *
     * @param objectProblems damaged or missing objects
     * @param wal            the WAL continuity from this (physical) backup on; null for logical backups
     */
    public record BackupReport(BackupId id, BackupType type, int objects, List<String> objectProblems,
                               WalContinuity.Result wal) {
        /** Not restorable: an object is damaged, or the backup's own WAL is missing. */
        public boolean damaged() {
            return !objectProblems.isEmpty() || (wal != null && wal.damaged());
        }

        public boolean ok() {
            return objectProblems.isEmpty() && (wal == null || wal.ok());
        }

        public List<String> problems() {
            List<String> out = new ArrayList<>(objectProblems);
            if (wal != null) {
                out.addAll(wal.problems());
            }
            return out;
        }
    }

    /**
     * @param problems problems of the repository as a whole (unreachable, a backup the others have is
     *                 missing, a damaged timeline history file); backup problems are in {@code backups}
     */
    public record RepositoryReport(String name, String location, List<BackupReport> backups, List<String> problems,
                                   List<String> notes) {
        static final String UNREACHABLE = "not reachable: ";

        public String describe() {
            return "repository '" + name + "' (" + location + ")";
        }

        /** The repository could not be read at all: nothing in it was checked. */
        public boolean unreachable() {
            return backups.isEmpty() && !problems.isEmpty() && problems.stream().allMatch(p -> p.startsWith(UNREACHABLE));
        }

        /** Every problem, each naming this repository when {@code named}. */
        public List<String> allProblems(boolean named) {
            String prefix = named ? describe() + ": " : "";
            List<String> out = new ArrayList<>();
            problems.forEach(p -> out.add(prefix + p));
            backups.forEach(b -> b.problems().forEach(p -> out.add(prefix + p)));
            return out;
        }
    }

    /**
     * @param only one backup, or null for every complete backup
     * @return one report per repository, in configured order
     */
    public List<RepositoryReport> run(RepositoryAccess repo, BackupId only) {
        List<RepositoryAccess.Member> members = repo.members();
        Map<String, List<BackupEntry>> listings = new LinkedHashMap<>();
        Map<String, String> unreachable = new LinkedHashMap<>();
        TreeSet<BackupId> everywhere = new TreeSet<>();
        for (RepositoryAccess.Member m : members) {
            try {
                List<BackupEntry> entries = m.catalog().list();
                listings.put(m.name(), entries);
                entries.stream().filter(BackupEntry::complete).map(BackupEntry::id).forEach(everywhere::add);
            } catch (LifeboatException | java.io.UncheckedIOException e) {
                if (members.size() == 1) {
                    throw e;
                }
                unreachable.put(m.name(), e.getMessage());
            }
        }
        if (unreachable.size() == members.size()) {
            throw new LifeboatException(ErrorKind.STORAGE, "no repository could be read: " + unreachable,
                    "check that the repositories are reachable");
        }
        if (only != null) {
            if (!everywhere.contains(only)) {
                // The single-repository message (not found, or unfinished) is the most precise one.
                members.stream().filter(m -> listings.containsKey(m.name())).findFirst().orElseThrow()
                        .catalog().manifest(only);
            }
            everywhere.retainAll(List.of(only));
        }
        List<RepositoryReport> out = new ArrayList<>();
        for (RepositoryAccess.Member m : members) {
            if (unreachable.containsKey(m.name())) {
                out.add(new RepositoryReport(m.name(), m.location(), List.of(), List.of(RepositoryReport.UNREACHABLE + unreachable.get(m.name())), List.of()));
                continue;
            }
            out.add(verify(m, listings.get(m.name()), everywhere, members.size() > 1));
        }
        return out;
    }

    private RepositoryReport verify(RepositoryAccess.Member m, List<BackupEntry> entries, TreeSet<BackupId> expected,
                                    boolean several) {
        List<String> problems = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        Map<BackupId, BackupManifest> here = new LinkedHashMap<>();
        entries.stream().filter(BackupEntry::complete).forEach(e -> here.put(e.id(), e.manifest()));
        for (BackupId id : expected) {
            if (!here.containsKey(id)) {
                problems.add("backup " + id + " is not in this repository" + (several ? " (another repository has it)" : ""));
            }
        }
        WalListing wal = null;
        if (expected.stream().anyMatch(id -> here.containsKey(id) && here.get(id).type() == BackupType.PHYSICAL)) {
            wal = walListing(m, problems, notes);
        }
        BackupVerifier verifier = new BackupVerifier(m.catalog(), m.pipeline(), progress);
        List<BackupReport> reports = new ArrayList<>();
        for (BackupId id : expected) {
            BackupManifest manifest = here.get(id);
            if (manifest == null) {
                continue;
            }
            List<String> objectProblems = verifier.verify(manifest, jobs);
            WalContinuity.Result continuity = null;
            WalContinuity.BackupWal need = manifest.type() == BackupType.PHYSICAL ? WalContinuity.BackupWal.of(manifest) : null;
            if (need != null && wal != null) {
                continuity = WalContinuity.check(need, wal.names(), wal.histories());
            }
            reports.add(new BackupReport(id, manifest.type(), manifest.objects().size(), objectProblems, continuity));
        }
        return new RepositoryReport(m.name(), m.location(), reports, problems, notes);
    }

    private record WalListing(List<String> names, Map<io.lifeboat.postgres.TimelineId, String> histories) {
    }

    /** The archive's file names and its (readable, well-formed) timeline history files; damaged ones become problems. */
    private static WalListing walListing(RepositoryAccess.Member m, List<String> problems, List<String> notes) {
        WalArchive archive = new WalArchive(m.storage(), m.catalog().layout(), m.pipeline());
        try {
            List<String> names = archive.names();
            Map<io.lifeboat.postgres.TimelineId, String> histories = new LinkedHashMap<>();
            for (String n : new TreeSet<>(names)) {
                if (!n.endsWith(".history")) {
                    continue;
                }
                try {
                    WalFileName f = WalFileName.parse(n);
                    Optional<byte[]> text = archive.read(f);
                    if (text.isPresent()) {
                        String s = new String(text.get(), StandardCharsets.UTF_8);
                        TimelineHistory.parse(f.timeline(), s); // refuse a damaged one here, naming it
                        histories.put(f.timeline(), s);
                    }
                } catch (LifeboatException e) {
                    if (e.kind() == ErrorKind.KEY) {
                        notes.add("timeline history file " + n + " is encrypted and no identity is configured: WAL "
                                + "continuity is checked without following timeline " + n.substring(0, 8) + " (set the identity to follow it)");
                        continue;
                    }
                    problems.add("timeline history file " + n + ": " + e.getMessage());
                }
            }
            return new WalListing(names, histories);
        } catch (java.io.IOException e) {
            throw new LifeboatException(ErrorKind.STORAGE, "cannot list the WAL archive in " + m.describe() + ": "
                    + e.getMessage(), "check that the repository is reachable", e);
        }
    }
}
