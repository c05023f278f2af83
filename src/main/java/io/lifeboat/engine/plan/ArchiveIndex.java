package io.lifeboat.engine.plan;

import io.lifeboat.LifeboatException;
import io.lifeboat.engine.archive.WalArchive;
import io.lifeboat.postgres.TimelineId;
import io.lifeboat.postgres.WalFileName;
import io.lifeboat.postgres.WalSegmentName;
import io.lifeboat.storage.ObjectInfo;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * The WAL archive as one listing shows it: each archived segment of each timeline with its stored
 * size and when it was stored (the object's modification time), and the partial segments the
 * agent's stream stored. A segment is stored only after every record in it was written, so its
 * stored time bounds the time of every commit in it from above: that is how the timeline places
 * WAL in time and how the planner finds the segments a time target needs, without reading WAL.
 */
public final class ArchiveIndex {
    /** One archived segment, or a partial one: every stored piece of it counted, dated by its newest. */
    public record Entry(WalSegmentName segment, long storedBytes, Instant stored) {
    }

    private final long segmentSize;
    private final List<String> names;
    private final Map<TimelineId, NavigableMap<Long, Entry>> segments = new TreeMap<>();
    private final Map<TimelineId, NavigableMap<Long, Entry>> partials = new TreeMap<>();
    private final List<TimelineId> histories = new ArrayList<>();

    private ArchiveIndex(long segmentSize, List<String> names) {
        this.segmentSize = segmentSize;
        this.names = names;
    }

    /** @param objects the listing of the cluster's WAL prefix; objects that are not Lifeboat's are left out */
    public static ArchiveIndex of(List<ObjectInfo> objects, long segmentSize) {
        List<String> names = new ArrayList<>();
        ArchiveIndex ix = new ArchiveIndex(segmentSize, Collections.unmodifiableList(names));
        for (ObjectInfo o : objects) {
            String name = WalArchive.fileName(o.key());
            if (name == null) {
                continue;
            }
            names.add(name);
            WalFileName f;
            try {
                f = WalFileName.parse(name);
            } catch (LifeboatException e) {
                continue;
            }
            switch (f.kind()) {
                case SEGMENT, PARTIAL -> {
                    WalSegmentName s;
                    try {
                        s = WalSegmentName.parse(f.kind() == WalFileName.Kind.PARTIAL
                                ? name.substring(0, name.length() - WalArchive.PARTIAL_SUFFIX.length()) : name, segmentSize);
                    } catch (LifeboatException e) {
                        continue; // a name for another segment size: WalContinuity notes it
                    }
                    Entry e = new Entry(s, o.size(), o.lastModified());
                    Map<TimelineId, NavigableMap<Long, Entry>> into = f.kind() == WalFileName.Kind.SEGMENT ? ix.segments
                            : ix.partials;
                    // two copies of one segment (archive_command and the stream): the first stored dates it;
                    // a partial is stored in pieces (one per flush), all of which take space
                    into.computeIfAbsent(s.timeline(), t -> new TreeMap<>()).merge(s.segmentNumber(), e,
                            (a, b) -> f.kind() == WalFileName.Kind.PARTIAL ? pieces(a, b) : older(a, b));
                }
                case TIMELINE_HISTORY -> ix.histories.add(f.timeline());
                default -> { }
            }
        }
        return ix;
    }

    private static Entry older(Entry a, Entry b) {
        return a.stored() == null || b.stored() != null && b.stored().isBefore(a.stored()) ? b : a;
    }

    private static Entry pieces(Entry a, Entry b) {
        Instant newest = a.stored() == null || b.stored() != null && b.stored().isAfter(a.stored()) ? b.stored() : a.stored();
        return new Entry(a.segment(), a.storedBytes() + b.storedBytes(), newest);
    }

    public long segmentSize() {
        return segmentSize;
    }

    /** Every file name in the archive, without checksum and codec suffixes (what WalContinuity reads). */
    public List<String> names() {
        return names;
    }

    /** Timelines with archived segments or partials, oldest first. */
    public List<TimelineId> timelines() {
        TreeMap<TimelineId, Boolean> all = new TreeMap<>();
        segments.keySet().forEach(t -> all.put(t, true));
        partials.keySet().forEach(t -> all.put(t, true));
        return List.copyOf(all.keySet());
    }

    /** Timelines whose history file is archived. */
    public List<TimelineId> histories() {
        return List.copyOf(histories);
    }

    /** The archived segments of a timeline, by segment number. */
    public NavigableMap<Long, Entry> segments(TimelineId t) {
        return Collections.unmodifiableNavigableMap(segments.getOrDefault(t, new TreeMap<>()));
    }

    /** The partial segments of a timeline (all pieces of each together), by segment number. */
    public NavigableMap<Long, Entry> partials(TimelineId t) {
        return Collections.unmodifiableNavigableMap(partials.getOrDefault(t, new TreeMap<>()));
    }

    public Entry segment(WalSegmentName s) {
        return segments.getOrDefault(s.timeline(), new TreeMap<>()).get(s.segmentNumber());
    }

    public Entry partial(WalSegmentName s) {
        return partials.getOrDefault(s.timeline(), new TreeMap<>()).get(s.segmentNumber());
    }

    /** Stored bytes of every segment and partial. */
    public long storedBytes() {
        long n = 0;
        for (var m : segments.values()) {
            n += m.values().stream().mapToLong(Entry::storedBytes).sum();
        }
        for (var m : partials.values()) {
            n += m.values().stream().mapToLong(Entry::storedBytes).sum();
        }
        return n;
    }
}
