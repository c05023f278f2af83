package io.lifeboat.storage;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The S3 driver's part buffers stay within half the heap, whatever part size and concurrency say. */
class S3PartBuffersTest {
    private static final long MIB = 1 << 20;

    @Test
    void theDefaultsKeepConcurrencyPlusTwo() {
        assertThat(S3Storage.partBuffers(8, 16 << 20, 371 * MIB)).isEqualTo(10);
    }

    @Test
    void largePartsOrHighConcurrencyGetFewerBuffers() {
        assertThat(S3Storage.partBuffers(64, 16 << 20, 371 * MIB)).isEqualTo(11);
        assertThat(S3Storage.partBuffers(8, 100 << 20, 371 * MIB)).isEqualTo(1);
        int n = S3Storage.partBuffers(32, 64 << 20, 1024 * MIB);
        assertThat((long) n * (64 << 20)).isLessThanOrEqualTo(512 * MIB);
    }

    @Test
    void aPartLargerThanHalfTheHeapIsAConfigurationError() {
        assertThatThrownBy(() -> S3Storage.partBuffers(8, 256 << 20, 371 * MIB))
                .isInstanceOfSatisfying(LifeboatException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.CONFIG);
                    assertThat(e.hint()).contains("part-size-mib");
                })
                .hasMessageContaining("256 MiB");
    }
}
