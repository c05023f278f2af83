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
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Optional;

/**
 * The records of scheduled runs in the repository: {@code <cluster>/jobs/<kind>/<start>.json}, one
 * per run (the newest {@value #KEEP} of each kind are kept), so `lifeboat status` and a second agent
 * host see what ran, when, for how long and how it ended.
 */
public final class JobRecords {
    static final int KEEP = 50;
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
            for (int i = 0; i < all.size() - KEEP; i++) {
                storage.delete(all.get(i).key());
            }
        } catch (IOException e) {
            throw new LifeboatException(ErrorKind.STORAGE, "cannot store the record of the " + r.kind() + " run: "
                    + e.getMessage(), "check the repository", e);
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
