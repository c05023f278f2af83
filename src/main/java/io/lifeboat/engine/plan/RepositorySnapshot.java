package io.lifeboat.engine.plan;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.SecretMask;
import io.lifeboat.catalog.BackupEntry;
import io.lifeboat.catalog.BackupId;
import io.lifeboat.catalog.BackupManifest;
import io.lifeboat.catalog.BackupType;
import io.lifeboat.catalog.Json;
import io.lifeboat.catalog.RepositoryLayout;
import io.lifeboat.codec.AgeEncryption;
import io.lifeboat.codec.Compression;
import io.lifeboat.engine.ObjectPipeline;
import io.lifeboat.engine.RepositoryAccess;
import io.lifeboat.engine.archive.WalArchive;
import io.lifeboat.engine.verify.DrillRecord;
import io.lifeboat.engine.verify.RestoreDrill;
import io.lifeboat.postgres.TimelineId;
import io.lifeboat.postgres.WalFileName;
import io.lifeboat.postgres.WalSegmentName;
import io.lifeboat.storage.ObjectInfo;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One look at a cluster's repositories, for the timeline and the planner: the backups, the WAL
 * archive listing, the timeline history files, the drills, and each repository's own listing
 * (what it holds, how much it takes). Never reads a secret: history files are decoded without the
 * identity (an encrypted one is left out and noted), so only a drill reads the identity file.
 *
 * @param usage   per repository, in configured order
 * @param members per repository, what the planner checks coverage against
 */
public record RepositorySnapshot(Instant taken, List<BackupManifest> complete, List<BackupEntry> entries,
                                 ArchiveIndex archive, Map<TimelineId, String> histories,
                                 Map<BackupId, List<DrillRecord>> drills, List<Usage> usage,
                                 List<RestorePlanner.Member> members, List<String> notes) {

    /** @param error why it could not be listed (secrets masked), or null */
    public record Usage(String name, String location, long backupBytes, long walBytes, long otherBytes, long objects,
                        String error) {
        public long totalBytes() {
            return backupBytes + walBytes + otherBytes;
        }
    }

    /** How many drill records of each backup are read (the newest). */
    static final int DRILLS_PER_BACKUP = 10;

    /**
     * What one reader remembers between looks: drill records never change once written, so each is
     * read once. Not thread-safe: one reader at a time.
     */
    public static final class Memory {
        private final Map<String, DrillRecord> drills = new HashMap<>();
    }

    public static RepositorySnapshot read(RepositoryAccess repo) throws IOException {
        return read(repo, new Memory());
    }

    /**
     * Reads the repositories: one listing of the cluster's prefix per repository (the first one
     * that answers also names the drill records, of which only those not in {@code memory} are
     * read), the WAL listing, the manifests and the history files.
     */
    public static RepositorySnapshot read(RepositoryAccess repo, Memory memory) throws IOException {
        Instant now = Instant.now();
        List<String> notes = new ArrayList<>();
        RepositoryLayout layout = repo.catalog().layout();
        List<BackupEntry> entries = repo.catalog().list();
        List<BackupManifest> complete = entries.stream().filter(BackupEntry::complete).map(BackupEntry::manifest).toList();
        long segmentSize = complete.stream().filter(m -> m.type() == BackupType.PHYSICAL && m.physical() != null)
                .map(m -> m.physical().segmentSize()).reduce((a, b) -> b).orElse(WalSegmentName.DEFAULT_SEGMENT_SIZE);

        // Each repository on its own: what it holds and takes (one listing of the cluster's prefix each).
        List<Usage> usage = new ArrayList<>();
        List<RestorePlanner.Member> members = new ArrayList<>();
        List<ObjectInfo> onlyWal = null;
        List<ObjectInfo> firstListing = null;
        for (RepositoryAccess.Member mb : repo.members()) {
            String location = SecretMask.uri(mb.location());
            try {
                List<ObjectInfo> all = mb.storage().list(layout.cluster() + "/");
                firstListing = firstListing == null ? all : firstListing;
                List<ObjectInfo> backups = all.stream().filter(o -> o.key().startsWith(layout.backupsPrefix())).toList();
                List<ObjectInfo> memberWal = all.stream().filter(o -> o.key().startsWith(layout.walPrefix())).toList();
                long b = backups.stream().mapToLong(ObjectInfo::size).sum();
                long w = memberWal.stream().mapToLong(ObjectInfo::size).sum();
                long total = all.stream().mapToLong(ObjectInfo::size).sum();
                usage.add(new Usage(mb.name(), location, b, w, total - b - w, all.size(), null));
                Set<String> keys = new HashSet<>();
                backups.forEach(o -> keys.add(o.key()));
                Set<String> names = new HashSet<>();
                for (ObjectInfo o : memberWal) {
                    String n = WalArchive.fileName(o.key());
                    if (n != null) {
                        names.add(n);
                    }
                }
                members.add(new RestorePlanner.Member(mb.name(), location, keys, names, null));
                onlyWal = memberWal;
            } catch (LifeboatException | IOException e) {
                String why = SecretMask.uri(e.getMessage());
                usage.add(new Usage(mb.name(), location, 0, 0, 0, 0, why));
                members.add(new RestorePlanner.Member(mb.name(), location, Set.of(), Set.of(), why));
            }
        }
        List<ObjectInfo> wal = repo.members().size() == 1 && onlyWal != null ? onlyWal
                : repo.storage().list(layout.walPrefix());
        ArchiveIndex archive = ArchiveIndex.of(wal, segmentSize);

        // Without the identity: the web process reads no secret for a history file.
        ObjectPipeline noSecrets = new ObjectPipeline(repo.storage(), Compression.ZSTD, 3, new AgeEncryption(List.of(), null));
        WalArchive reader = new WalArchive(repo.storage(), layout, noSecrets);
        Map<TimelineId, String> histories = new LinkedHashMap<>();
        for (TimelineId t : archive.histories()) {
            try {
                reader.read(WalFileName.parse(t.hex() + ".history"))
                        .ifPresent(b -> histories.put(t, new String(b, StandardCharsets.UTF_8)));
            } catch (LifeboatException | IOException e) {
                notes.add("the history file of timeline " + t + " was not read (" + (e instanceof LifeboatException le
                        && le.kind() == ErrorKind.KEY ? "it is encrypted, and the dashboard does not read the "
                        + "identity" : SecretMask.uri(e.getMessage())) + "): timelines after it are followed by name only");
            }
        }
        Map<BackupId, List<DrillRecord>> drills = new LinkedHashMap<>();
        Set<String> listed = new HashSet<>();
        for (BackupManifest m : complete) {
            List<DrillRecord> d = firstListing == null ? RestoreDrill.history(repo.catalog(), m.id(), DRILLS_PER_BACKUP)
                    : drills(repo, firstListing, layout.drillsDir(m.id()) + "/", memory, listed);
            if (!d.isEmpty()) {
                drills.put(m.id(), d);
            }
        }
        if (firstListing != null) {
            memory.drills.keySet().retainAll(listed);
        }
        return new RepositorySnapshot(now, complete, entries, archive, histories, drills, usage, members, notes);
    }

    /** The newest drill records of one backup, as {@link RestoreDrill#history} reads them, from a listing made already. */
    private static List<DrillRecord> drills(RepositoryAccess repo, List<ObjectInfo> listing, String dir, Memory memory,
                                            Set<String> listed) throws IOException {
        List<String> keys = listing.stream().map(ObjectInfo::key).filter(k -> k.startsWith(dir)).sorted().toList();
        List<DrillRecord> out = new ArrayList<>();
        for (String k : keys.subList(Math.max(0, keys.size() - DRILLS_PER_BACKUP), keys.size())) {
            listed.add(k);
            DrillRecord r = memory.drills.get(k);
            if (r == null) {
                try {
                    r = Json.MAPPER.readValue(repo.storage().get(k), DrillRecord.class);
                    memory.drills.put(k, r);
                } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                    continue; // a damaged record: the others still count
                } catch (LifeboatException e) {
                    if (e.kind() != ErrorKind.NOT_FOUND) {
                        throw e;
                    }
                    continue; // removed since the listing (retention)
                }
            }
            out.add(r);
        }
        return out;
    }
}
