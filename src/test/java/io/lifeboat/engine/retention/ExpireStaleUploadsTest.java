package io.lifeboat.engine.retention;

import io.lifeboat.catalog.Catalog;
import io.lifeboat.catalog.RepositoryLayout;
import io.lifeboat.config.RetentionPolicy;
import io.lifeboat.storage.ForwardingStorage;
import io.lifeboat.storage.MemoryStorage;
import io.lifeboat.storage.StaleUpload;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** expire asks the storage to abort killed writers' uploads under the cluster's prefix, a day back, and says which. */
class ExpireStaleUploadsTest {
    private final Instant now = Instant.parse("2026-12-02T12:00:00Z");
    private final List<String> asked = new ArrayList<>();
    private final List<String> log = new ArrayList<>();

    private Catalog catalog(boolean fails) {
        return new Catalog(new ForwardingStorage(new MemoryStorage()) {
            @Override
            public List<StaleUpload> staleUploads(String prefix, Instant startedBefore, boolean abort) throws IOException {
                asked.add(prefix + " " + startedBefore + (abort ? " abort" : " list"));
                if (fails) {
                    throw new IOException("listing refused");
                }
                return List.of(new StaleUpload("c1/backups/x/base.tar.000001.zst", now.minus(Duration.ofDays(3))));
            }
        }, new RepositoryLayout("c1"));
    }

    private static RetentionPolicy policy() {
        return new RetentionPolicy(2, null, 0, null, RetentionPolicy.DEFAULT_UNFINISHED_GRACE);
    }

    @Test
    void theAbortedUploadsAreNamed() {
        new Expire(catalog(false), log::add).run(policy(), false, now);
        assertThat(asked).containsExactly("c1/ 2026-12-01T12:00:00Z abort");
        assertThat(log).anySatisfy(l -> assertThat(l).contains("aborted the unfinished upload of "
                + "c1/backups/x/base.tar.000001.zst", "2026-11-29T12:00:00Z"));
    }

    @Test
    void aFailedListingIsAWarningAndADryRunAbortsNothing() {
        new Expire(catalog(true), log::add).run(policy(), false, now);
        assertThat(log).anySatisfy(l -> assertThat(l).startsWith("warning: could not abort").contains("listing refused"));
        asked.clear();
        log.clear();
        new Expire(catalog(false), log::add).run(policy(), true, now);
        assertThat(asked).as("a dry run lists, never aborts").containsExactly("c1/ 2026-12-01T12:00:00Z list");
        assertThat(log).anySatisfy(l -> assertThat(l).startsWith("would abort the unfinished upload of "
                + "c1/backups/x/base.tar.000001.zst"));
    }
}
