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
import io.lifeboat.postgres.WalSegmentName;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * `verify` over every configured repository separately: each copy of each backup is read and
 * checked against its manifest; each repository's archived WAL is read and checked against the
 * checksums its object names carry (see {@link ArchivedWalCheck}), and checked for continuity from
 * every physical backup on (see {@link WalContinuity}), a corrupt segment counting as a gap; the
 * repositories' listings are compared (see {@link CatalogAgreement}). Problems name the repository
 * they were found in, so with several repositories a damaged copy is found even when reads would
 * have been served from a healthy one.
 */
public final class Verification {
    private final int jobs;
    private final Progress progress;
    private final Duration unfinishedGrace;
    private final Integer walSample;
    private final Instant now;

    /**
     * @param unfinishedGrace an unfinished backup older than this is a problem (retention's unfinished-grace)
     * @param walSample       read at most this many archived WAL copies, chosen at random; null for all, 0 for none
     * @param now             the time ages are measured against
     */
    public Verification(int jobs, Progress progress, Duration unfinishedGrace, Integer walSample, Instant now) {
        this.jobs = jobs;
        this.progress = progress;
        this.unfinishedGrace = unfinishedGrace;
        this.walSample = walSample;
        this.now = now;
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
     * @param problems        damage found in the repository as a whole (a backup the others have is
     *                        missing or has lost its manifest, an old unfinished backup, a damaged timeline
     *                        history file, a corrupt archived WAL copy); backup problems are in {@code backups}
     * @param storageProblems what could not be read (the repository, an archived WAL copy): not damage, unknown
     * @param walCheck        the archived WAL that was read and checked; null when none was
     */
    public record RepositoryReport(String name, String location, List<BackupReport> backups, List<String> problems,
                                   List<String> storageProblems, List<String> notes, ArchivedWalCheck.Result walCheck) {
        static final String UNREACHABLE = "not reachable: ";

        public String describe() {
            return "repository '" + name + "' (" + location + ")";
        }

        /** The repository could not be read at all: nothing in it was checked. */
        public boolean unreachable() {
            return backups.isEmpty() && problems.isEmpty() && !storageProblems.isEmpty()
                    && storageProblems.stream().allMatch(p -> p.startsWith(UNREACHABLE));
        }

        /** Damage was found (not only things that could not be read). */
        public boolean damageFound() {
            return !problems.isEmpty() || backups.stream().anyMatch(b -> !b.problems().isEmpty());
        }

        /** Every problem, each naming this repository when {@code named}. */
        public List<String> allProblems(boolean named) {
            String prefix = named ? describe() + ": " : "";
            List<String> out = new ArrayList<>();
            problems.forEach(p -> out.add(prefix + p));
            storageProblems.forEach(p -> out.add(prefix + p));
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
            // An incremental backup is checked with every backup it is put together from.
            Set<BackupId> wanted = new java.util.HashSet<>(List.of(only));
            listings.values().stream().flatMap(List::stream).filter(e -> e.complete() && e.id().equals(only))
                    .map(BackupEntry::manifest).filter(m -> m.physical() != null && m.physical().files() != null)
                    .forEach(m -> wanted.addAll(m.physical().files().chain()));
            everywhere.retainAll(wanted);
        }
        Map<String, CatalogAgreement.Findings> catalog = CatalogAgreement.check(listings, only, unfinishedGrace, now);
        List<RepositoryReport> out = new ArrayList<>();
        for (RepositoryAccess.Member m : members) {
            if (unreachable.containsKey(m.name())) {
                out.add(new RepositoryReport(m.name(), m.location(), List.of(), List.of(),
                        List.of(RepositoryReport.UNREACHABLE + unreachable.get(m.name())), List.of(), null));
                continue;
            }
            out.add(verify(m, listings.get(m.name()), everywhere, only != null, catalog.get(m.name())));
        }
        return out;
    }

    /** @param one whether one backup was asked for (its WAL only is read) */
    private RepositoryReport verify(RepositoryAccess.Member m, List<BackupEntry> entries, TreeSet<BackupId> expected,
                                    boolean one, CatalogAgreement.Findings catalog) {
        List<String> problems = new ArrayList<>(catalog.problems());
        List<String> storageProblems = new ArrayList<>();
        List<String> notes = new ArrayList<>(catalog.notes());
        Map<BackupId, BackupManifest> here = new LinkedHashMap<>();
        entries.stream().filter(BackupEntry::complete).forEach(e -> here.put(e.id(), e.manifest()));
        List<BackupManifest> physical = expected.stream().map(here::get)
                .filter(b -> b != null && b.type() == BackupType.PHYSICAL).toList();
        boolean noWal = one && physical.isEmpty(); // one logical backup: no WAL to check
        WalArchive archive = new WalArchive(m.storage(), m.catalog().layout(), m.pipeline());
        List<WalArchive.StoredCopy> copies = noWal ? List.of() : copies(archive, m);
        ArchivedWalCheck.Result walCheck = null;
        if (!noWal && (walSample == null || walSample > 0) && !copies.isEmpty()) {
            walCheck = walCheck(archive, copies, one ? physical : null, !physical.isEmpty());
            Set<String> neededByNone = neededByNone(walCheck, here.values());
            for (ArchivedWalCheck.Bad b : walCheck.bad()) {
                String what = switch (b.verdict()) {
                    case UNREADABLE -> " could not be read, so it was not checked: ";
                    case CONFLICT -> " has conflicting copies: ";
                    case CORRUPT -> " is corrupt: ";
                    case INCOMPLETE -> " has a hole: ";
                };
                String line = "archived WAL " + b.name() + what + b.message() + (neededByNone.contains(b.name())
                        ? " (no backup in this repository needs it)" : "");
                (b.verdict() == ArchivedWalCheck.Verdict.UNREADABLE ? storageProblems : problems).add(line);
            }
            if (walCheck.encrypted() > 0) {
                notes.add(walCheck.encrypted() + " archived WAL copies are encrypted and no identity is configured: only "
                        + "their presence was checked (set the identity to read them)");
            }
        }
        WalListing wal = physical.isEmpty() ? null : walListing(archive, copies, problems, notes);
        BackupVerifier verifier = new BackupVerifier(m.catalog(), m.pipeline(), progress);
        Map<String, String> unusable = walCheck == null ? Map.of() : walCheck.unusable();
        List<BackupReport> reports = new ArrayList<>();
        for (BackupId id : expected) {
            BackupManifest manifest = here.get(id);
            if (manifest == null) {
                continue;
            }
            List<String> objectProblems = new ArrayList<>(verifier.verify(manifest, jobs));
            BackupManifest.IndexedFiles files = manifest.physical() == null ? null : manifest.physical().files();
            for (BackupId ancestor : files == null || files.chain() == null ? List.<BackupId>of() : files.chain()) {
                if (!here.containsKey(ancestor)) {
                    objectProblems.add("backup " + id + " is an incremental backup that needs " + ancestor + ", which is "
                            + "not complete in this repository: it cannot be restored");
                }
            }
            WalContinuity.Result continuity = null;
            WalContinuity.BackupWal need = manifest.type() == BackupType.PHYSICAL ? WalContinuity.BackupWal.of(manifest) : null;
            if (need != null && wal != null) {
                continuity = WalContinuity.check(need, wal.names(), wal.histories(), unusable);
            }
            reports.add(new BackupReport(id, manifest.type(), manifest.objects().size(), objectProblems, continuity));
        }
        return new RepositoryReport(m.name(), m.location(), reports, problems, storageProblems, notes, walCheck);
    }

    private static List<WalArchive.StoredCopy> copies(WalArchive archive, RepositoryAccess.Member m) {
        try {
            return archive.copies();
        } catch (java.io.IOException e) {
            throw new LifeboatException(ErrorKind.STORAGE, "cannot list the WAL archive in " + m.describe() + ": "
                    + e.getMessage(), "check that the repository is reachable", e);
        }
    }

    /**
     * Reads the archived WAL: every copy, or with one physical backup asked for, those from its start
     * segment on; timeline history files only when {@link #walListing} does not read them anyway.
     */
    private ArchivedWalCheck.Result walCheck(WalArchive archive, List<WalArchive.StoredCopy> copies,
                                             List<BackupManifest> onlyThese, boolean historiesReadElsewhere) {
        String from = onlyThese == null || onlyThese.isEmpty() ? null : startPosition(onlyThese.get(0));
        Predicate<String> wanted = name -> !(historiesReadElsewhere && name.endsWith(".history"))
                && (from == null || name.length() < 24 || name.substring(8, 24).compareTo(from) >= 0);
        return ArchivedWalCheck.run(archive, copies.stream().filter(c -> wanted.test(c.archived().fileName())).toList(),
                walSample, jobs, progress);
    }

    /** Log and segment of the WAL a physical backup starts in (16 hex: comparable across timelines), or null. */
    private static String startPosition(BackupManifest m) {
        WalContinuity.BackupWal need = WalContinuity.BackupWal.of(m);
        return need == null ? null : need.start().toString().substring(8);
    }

    /** Bad segments older than every physical backup's start: recovery from none of them reads those. */
    private static Set<String> neededByNone(ArchivedWalCheck.Result check, java.util.Collection<BackupManifest> here) {
        String oldest = here.stream().filter(b -> b.type() == BackupType.PHYSICAL).map(Verification::startPosition)
                .filter(p -> p != null).min(String::compareTo).orElse(null);
        Set<String> out = new java.util.HashSet<>();
        for (ArchivedWalCheck.Bad b : check.bad()) {
            if (oldest != null && WalSegmentName.looksLikeSegment(b.name()) && b.name().substring(8).compareTo(oldest) < 0) {
                out.add(b.name());
            }
        }
        return out;
    }

    private record WalListing(List<String> names, Map<io.lifeboat.postgres.TimelineId, String> histories) {
    }

    /** The archive's file names and its (readable, well-formed) timeline history files; damaged ones become problems. */
    private static WalListing walListing(WalArchive archive, List<WalArchive.StoredCopy> copies, List<String> problems,
                                         List<String> notes) {
        try {
            List<String> names = copies.stream().map(c -> c.archived().fileName()).toList();
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
            throw new LifeboatException(ErrorKind.STORAGE, "cannot read the WAL archive's history files: "
                    + e.getMessage(), "check that the repository is reachable", e);
        }
    }
}
