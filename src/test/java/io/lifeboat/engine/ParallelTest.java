package io.lifeboat.engine;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ParallelTest {
    @Test
    void aFailureIsThrownOnlyAfterTheOtherTasksHaveStopped() {
        CountDownLatch started = new CountDownLatch(1);
        AtomicBoolean stillWriting = new AtomicBoolean();
        AtomicBoolean finished = new AtomicBoolean();
        Parallel.Task<Void> slow = () -> {
            started.countDown();
            stillWriting.set(true);
            // a write that does not notice the interrupt at once (as a blocking socket read)
            long until = System.nanoTime() + 300_000_000L;
            while (System.nanoTime() < until) {
                Thread.onSpinWait();
            }
            stillWriting.set(false);
            finished.set(true);
            return null;
        };
        Parallel.Task<Void> failing = () -> {
            started.await();
            throw new LifeboatException(ErrorKind.STORAGE, "read failed");
        };

        assertThatThrownBy(() -> Parallel.run(2, List.of(slow, failing))).hasMessageContaining("read failed");
        assertThat(stillWriting).isFalse();
        assertThat(finished).isTrue();
    }

    @Test
    void joinThrowsWhatTheFutureFailedWithNotItsWrapper() {
        LifeboatException failure = new LifeboatException(ErrorKind.STORAGE, "listing failed");
        java.util.concurrent.CompletableFuture<String> failed = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            throw failure;
        });
        assertThatThrownBy(() -> Parallel.join(failed)).isSameAs(failure);
        java.util.concurrent.CompletableFuture<String> io = new java.util.concurrent.CompletableFuture<>();
        io.completeExceptionally(new java.io.IOException("disk gone"));
        assertThatThrownBy(() -> Parallel.join(io)).isInstanceOf(java.io.UncheckedIOException.class).hasMessageContaining("disk gone");
        assertThat(Parallel.join(java.util.concurrent.CompletableFuture.completedFuture("id"))).isEqualTo("id");
    }

    @Test
    void settleWaitsForTheEndWhateverTheOutcome() {
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean ended = new AtomicBoolean();
        java.util.concurrent.CompletableFuture<Void> f = java.util.concurrent.CompletableFuture.runAsync(() -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            ended.set(true);
            throw new IllegalStateException("failed after the wait");
        });
        new Thread(release::countDown).start();
        Parallel.settle(f);
        assertThat(ended).isTrue();
        assertThat(f).isCompletedExceptionally();
    }
}
