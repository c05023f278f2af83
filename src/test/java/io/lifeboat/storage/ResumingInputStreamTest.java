package io.lifeboat.storage;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What the one resuming stream every driver reads through does with the answers a storage may give. */
class ResumingInputStreamTest {
    static final byte[] DATA = StorageContract.bytes(100_000, 1);
    final Retry retry = new Retry(Duration.ofMillis(300));
    final List<Long> opened = new ArrayList<>();

    /** A body of DATA from {@code from} that ends (without an error) after {@code limit} bytes. */
    static InputStream part(long from, int limit) {
        return new ByteArrayInputStream(DATA, (int) from, (int) Math.min(limit, DATA.length - from));
    }

    @Test
    void aBodyThatEndsEarlyIsResumedNotTakenForTheEnd() throws IOException {
        ResumingInputStream in = new ResumingInputStream("k", "test://", 0, (from, v) -> {
            opened.add(from);
            return new ResumingInputStream.Body(part(from, 30_000), from, DATA.length, "v1");
        }, retry);
        assertThat(in.readAllBytes()).isEqualTo(DATA);
        assertThat(opened).containsExactly(0L, 30_000L, 60_000L, 90_000L);
    }

    @Test
    void aServerThatIgnoresTheRangeHasTheBytesBeforeTheOffsetSkipped() throws IOException {
        ResumingInputStream in = new ResumingInputStream("k", "test://", 12_345, (from, v) ->
                new ResumingInputStream.Body(part(0, DATA.length), 0, DATA.length, "v1"), retry);
        assertThat(in.readAllBytes()).isEqualTo(Arrays.copyOfRange(DATA, 12_345, DATA.length));
    }

    @Test
    void anotherVersionOnReopeningFailsTheRead() throws IOException {
        ResumingInputStream in = new ResumingInputStream("k", "test://", 0, (from, v) ->
                new ResumingInputStream.Body(part(from, 1000), from, DATA.length, from == 0 ? "v1" : "v2"), retry);
        assertThat(in.readNBytes(1000)).isEqualTo(Arrays.copyOf(DATA, 1000));
        assertThatThrownBy(in::readAllBytes).isInstanceOfSatisfying(LifeboatException.class, e -> {
            assertThat(e.kind()).isEqualTo(ErrorKind.STORAGE);
            assertThat(e.getMessage()).contains("'k' in test://", "changed while it was being read", "1000 of 100000");
        });
    }

    @Test
    void anObjectGoneOnReopeningIsAStorageErrorNotNotFound() throws IOException {
        ResumingInputStream in = new ResumingInputStream("k", "test://", 0, (from, v) -> {
            if (from > 0) {
                throw new LifeboatException(ErrorKind.NOT_FOUND, "object 'k' not found");
            }
            return new ResumingInputStream.Body(part(from, 1000), from, DATA.length, "v1");
        }, retry);
        assertThatThrownBy(in::readAllBytes).isInstanceOfSatisfying(LifeboatException.class, e -> {
            assertThat(e.kind()).isEqualTo(ErrorKind.STORAGE);
            assertThat(e.getMessage()).contains("disappeared while it was being read");
        });
    }

    @Test
    void notFoundAtFirstAndDefinitiveRefusalsAreThrownAsTheyAreWithoutRetrying() {
        assertThatThrownBy(() -> new ResumingInputStream("k", "test://", 0, (from, v) -> {
            opened.add(from);
            throw new LifeboatException(ErrorKind.NOT_FOUND, "object 'k' not found");
        }, retry)).isInstanceOfSatisfying(LifeboatException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.NOT_FOUND));
        assertThat(opened).hasSize(1);
    }

    @Test
    void transientFailuresAreRetriedForTheBudgetAndAtLeastThreeTimes() {
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> new ResumingInputStream("k", "test://", 0, (from, v) -> {
            opened.add(from);
            throw new TransientFailure("503 SlowDown");
        }, retry)).isInstanceOfSatisfying(LifeboatException.class, e -> {
            assertThat(e.kind()).isEqualTo(ErrorKind.STORAGE);
            assertThat(e.getMessage()).contains("reading 'k' from test://", "attempts", "503 SlowDown");
        });
        assertThat(opened.size()).isGreaterThanOrEqualTo(Retry.MIN_ATTEMPTS);
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThanOrEqualTo(Duration.ofMillis(300));
    }

    @Test
    void progressStartsTheRetryTimeAgain() throws IOException {
        // every body breaks after 5000 bytes, with a failure: 20 breaks in a row, far beyond the budget's few attempts
        ResumingInputStream in = new ResumingInputStream("k", "test://", 0, (from, v) -> new ResumingInputStream.Body(
                new java.io.SequenceInputStream(part(from, 5000), new InputStream() {
                    @Override
                    public int read() throws IOException {
                        throw new IOException("Connection reset");
                    }
                }), from, DATA.length, "v1"), retry);
        assertThat(in.readAllBytes()).isEqualTo(DATA);
    }
}
