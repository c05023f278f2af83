package io.lifeboat.engine.plan;

import io.lifeboat.catalog.BackupId;
import io.lifeboat.catalog.BackupManifest;
import io.lifeboat.catalog.BackupType;
import io.lifeboat.catalog.StoredObject;
import io.lifeboat.postgres.TimelineId;
import io.lifeboat.postgres.WalSegmentName;
import io.lifeboat.storage.ObjectInfo;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Generated repositories for the timeline and planner tests: backups and a WAL listing with stored times. */
final class PlanFixture {
    static final long MB16 = WalSegmentName.DEFAULT_SEGMENT_SIZE;
    static final Instant T0 = Instant.parse("2026-11-24T10:00:00Z");
    final List<BackupManifest> backups = new ArrayList<>();
    final List<ObjectInfo> wal = new ArrayList<>();

    static String seg(long tli, long n) {
        return new WalSegmentName(TimelineId.of(tli), n, MB16).toString();
    }

    /** The moment segment {@code n} is stored: T0 + n minutes. */
    static Instant at(long n) {
        return T0.plusSeconds(60 * n);
    }

    /** A physical backup of timeline 1 from segment start to stop, ending when segment stop is stored. */
    BackupManifest physical(long start, long stop) {
        return physical(start, stop, at(stop).minusSeconds(30), 1_000_000_000L);
    }

    BackupManifest physical(long start, long stop, Instant end, long rawBytes) {
        return physical(start, stop, end, rawBytes, Map.of());
    }

    /** A block-level incremental of {@code parent}, as incremental backups describe themselves in the manifest. */
    BackupManifest incremental(BackupManifest parent, long start, long stop, long rawBytes) {
        return physical(start, stop, at(stop).minusSeconds(30), rawBytes, Map.of("kind", "incremental of " + parent.id()));
    }

    BackupManifest physical(long start, long stop, Instant end, long rawBytes, Map<String, String> extra) {
        String startLsn = new WalSegmentName(TimelineId.of(1), start, MB16).startLsn().plus(0x28).toString();
        String stopLsn = new WalSegmentName(TimelineId.of(1), stop, MB16).startLsn().plus(0x100).toString();
        BackupManifest.PhysicalDetails d = new BackupManifest.PhysicalDetails(startLsn, stopLsn, 1, seg(1, start),
                seg(1, stop), "label", false, Map.of(), startLsn, 1, MB16, List.of(), List.of(), null, 0, null);
        Instant begin = end.minusSeconds(20);
        BackupId id = BackupId.of(begin, BackupType.PHYSICAL);
        BackupManifest m = new BackupManifest(1, id, BackupType.PHYSICAL, "c", begin, end, 150000, "1", "zstd", "none",
                List.of(new StoredObject("base.tar.0001.zst", rawBytes / 4, "aa", rawBytes, "zstd", "none"),
                        new StoredObject("pg_manifest.zst", 1000, "bb", 5000, "zstd", "none")),
                null, d, extra);
        backups.add(m);
        return m;
    }

    /** Archives segments first..last of a timeline, each stored at {@link #at}. */
    PlanFixture archived(long tli, long first, long last) {
        for (long n = first; n <= last; n++) {
            store(seg(tli, n), 4_000_000, at(n));
        }
        return this;
    }

    PlanFixture store(String name, long size, Instant when) {
        String dir = name.length() >= 16 ? name.substring(0, 16) + "/" : "";
        wal.add(new ObjectInfo("c/wal/" + dir + name + ".sha256-" + "0".repeat(64) + ".zst", size, when));
        return this;
    }

    ArchiveIndex index() {
        return ArchiveIndex.of(wal, MB16);
    }

    RecoverabilityTimeline.Timeline timeline() {
        return RecoverabilityTimeline.build(backups, index(), Map.of(), Map.of());
    }
}
