package io.lifeboat.engine.physical;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.BackupId;
import io.lifeboat.catalog.BackupType;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RepositoryClaimTest {
    static final BackupId ID = BackupId.of(Instant.parse("2026-11-25T10:00:00Z"), BackupType.PHYSICAL);

    @Test
    void theCheckAndTheIdRunAtOnceAndTheIdIsAwaited() throws Exception {
        // each waits for the other to have started: this only finishes if they run at the same time
        CountDownLatch both = new CountDownLatch(2);
        AtomicInteger stopped = new AtomicInteger();
        try (RepositoryClaim c = RepositoryClaim.start(() -> meet(both), () -> {
            meet(both);
            return ID;
        }, stopped::incrementAndGet)) {
            assertThat(c.await()).isEqualTo(ID);
            RuntimeException streamFailure = new IllegalStateException("stream lost");
            assertThat(c.explain(streamFailure)).isSameAs(streamFailure);
        }
        assertThat(stopped).hasValue(0);
    }

    @Test
    void aRefusalStopsTheStreamAndIsWhatIsReportedOnceTheIdIsDone() throws Exception {
        CountDownLatch stopped = new CountDownLatch(1);
        AtomicBoolean idDone = new AtomicBoolean();
        AtomicBoolean idDoneWhenStopped = new AtomicBoolean();
        LifeboatException refused = new LifeboatException(ErrorKind.CONFLICT, "belongs to another cluster", null);
        try (RepositoryClaim c = RepositoryClaim.start(() -> {
            throw refused;
        }, () -> {
            Thread.sleep(200);
            idDone.set(true);
            return ID;
        }, () -> {
            idDoneWhenStopped.set(idDone.get());
            stopped.countDown();
        })) {
            // the stream's reader is still waiting for the checkpoint: only onFailure can stop it
            assertThat(stopped.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(idDoneWhenStopped).as("the id's round trip ended before the storage may close").isTrue();
            assertThat(c.explain(new IllegalStateException("connection closed"))).isSameAs(refused);
            assertThatThrownBy(c::await).isSameAs(refused);
        }
    }

    @Test
    void aFailedIdIsReportedUnchecked() {
        AtomicInteger stopped = new AtomicInteger();
        try (RepositoryClaim c = RepositoryClaim.start(() -> { }, () -> {
            throw new IOException("disk gone");
        }, stopped::incrementAndGet)) {
            assertThatThrownBy(c::await).isInstanceOf(UncheckedIOException.class).hasMessageContaining("disk gone");
        }
        assertThat(stopped).hasValue(1);
    }

    private static void meet(CountDownLatch both) {
        both.countDown();
        try {
            if (!both.await(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the other half of the claim never started");
            }
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }
}
