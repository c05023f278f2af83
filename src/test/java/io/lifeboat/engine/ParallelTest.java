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
}
