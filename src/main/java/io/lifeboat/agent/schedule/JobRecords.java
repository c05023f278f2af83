package io.lifeboat.agent.schedule;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.agent.JobRecord;
import io.lifeboat.catalog.Json;
import io.lifeboat.catalog.RepositoryLayout;
import io.lifeboat.storage.Keys;
import io.lifeboat.storage.ObjectInfo;
import io.lifeboat.storage.Storage;

import java.io.IOException;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The records of scheduled runs in the repository: {@code <cluster>/jobs/<kind>/<start>.json}, one
 * per run, so `lifeboat status` and a second agent host see what ran, when, for how long and how it
 * ended, and the dashboard plots the last 30 days. Of each kind, the records of the last
 * {@link #KEEP_DAYS} days are kept, and always the newest {@value #KEEP}, but never more than
 * {@value #MAX} (a schedule every minute would otherwise keep 43,200).
 */
public final class JobRecords {
    static final int KEEP = 50;
    static final int MAX = 1000;
    static final Duration KEEP_DAYS = Duration.ofDays(30);
    private static final DateTimeFormatter NAME = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss.SSS'Z'")
            .withZone(ZoneOffset.UTC);
    private final Storage storage;
    private final RepositoryLayout layout;

    public JobRecords(Storage storage, RepositoryLayout layout) {
        this.storage = storage;
        this.layout = layout;
    }

    private String prefix(String kind) {
        return layout.jobsPrefix() + kind + "/";
    }

    public void write(JobRecord r) {
        try {
            storage.put(Keys.join(layout.jobsPrefix() + r.kind(), NAME.format(r.started()) + ".json"),
                    Json.MAPPER.writeValueAsBytes(r));
            List<ObjectInfo> all = storage.list(prefix(r.kind()));
            Instant keepFrom = r.started().minus(KEEP_DAYS);
            for (int i = 0; i < all.size() - KEEP; i++) {
                Instant started = started(all.get(i).key());
                if (i < all.size() - MAX || started == null || started.isBefore(keepFrom)) {
                    storage.delete(all.get(i).key());
                }
            }
        } catch (IOException e) {
            throw new LifeboatException(ErrorKind.STORAGE, "cannot store the record of the " + r.kind() + " run: "
                    + e.getMessage(), "check the repository", e);
        }
    }

    /** When the run of a record started, from its name; null for a name this class did not write. */
    static Instant started(String key) {
        String file = key.substring(key.lastIndexOf('/') + 1);
        if (!file.endsWith(".json")) {
            return null;
        }
        try {
            return Instant.from(NAME.parse(file.substring(0, file.length() - ".json".length())));
        } catch (DateTimeException e) {
            return null;
        }
    }

    /**
     * The records of a kind, oldest first; damaged ones are left out. A record never changes once
     * written, so {@code known} (key to record, kept by the caller between calls) saves reading it
     * again: only new records are read, and those no longer listed are dropped from it.
     */
    public List<JobRecord> history(String kind, Map<String, JobRecord> known) {
        try {
            List<JobRecord> out = new ArrayList<>();
            Set<String> listed = new HashSet<>();
            for (ObjectInfo o : storage.list(prefix(kind))) {
                listed.add(o.key());
                JobRecord r = known.get(o.key());
                if (r == null) {
                    try {
                        r = Json.MAPPER.readValue(storage.get(o.key()), JobRecord.class);
                        known.put(o.key(), r);
                    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                        continue; // a damaged record: the others still count
                    }
                }
                out.add(r);
            }
            known.keySet().removeIf(k -> k.startsWith(prefix(kind)) && !listed.contains(k));
            return out;
        } catch (IOException e) {
            throw new LifeboatException(ErrorKind.STORAGE, "cannot read the job records of cluster '" + layout.cluster()
                    + "': " + e.getMessage(), "check the repository", e);
        }
    }

    /** The newest record of a kind (names sort by start time). */
    public Optional<JobRecord> latest(String kind) {
        try {
            List<ObjectInfo> all = storage.list(prefix(kind));
            for (int i = all.size() - 1; i >= 0; i--) {
                try {
                    return Optional.of(Json.MAPPER.readValue(storage.get(all.get(i).key()), JobRecord.class));
                } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                    // a damaged record: look at the one before
                }
            }
            return Optional.empty();
        } catch (IOException e) {
            throw new LifeboatException(ErrorKind.STORAGE, "cannot read the job records of cluster '" + layout.cluster()
                    + "': " + e.getMessage(), "check the repository", e);
        }
    }
}
