package io.lifeboat.engine;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.StoredObject;
import io.lifeboat.codec.Compression;
import io.lifeboat.codec.Encryption;
import io.lifeboat.storage.MemoryStorage;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ObjectPipelineTest {
    private static byte[] data() {
        byte[] b = new byte[300_000];
        Random r = new Random(7);
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) (i % 1000 < 500 ? 'a' + (i % 7) : r.nextInt()); // half compressible
        }
        return b;
    }

    @ParameterizedTest
    @EnumSource(Compression.class)
    void roundTripRecordsSizesAndChecksum(Compression c) throws IOException {
        MemoryStorage st = new MemoryStorage();
        ObjectPipeline p = new ObjectPipeline(st, c, c.defaultLevel(), Encryption.NONE);
        byte[] raw = data();
        StoredObject o = p.store("k/obj" + c.suffix(), "obj" + c.suffix(), new ByteArrayInputStream(raw), 0);
        assertThat(o.rawSize()).isEqualTo(raw.length);
        assertThat(o.size()).isEqualTo(st.stat("k/obj" + c.suffix()).orElseThrow().size());
        assertThat(o.compression()).isEqualTo(c.id());
        if (c != Compression.NONE) {
            assertThat(o.size()).isLessThan(raw.length);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        p.fetch("k/obj" + c.suffix(), o, out);
        assertThat(out.toByteArray()).isEqualTo(raw);
        assertThat(ObjectPipeline.rawName(o)).isEqualTo("obj");
    }

    @ParameterizedTest
    @EnumSource(Compression.class)
    void aFlippedBitIsNamed(Compression c) throws IOException {
        MemoryStorage st = new MemoryStorage();
        ObjectPipeline p = new ObjectPipeline(st, c, 0, Encryption.NONE);
        StoredObject o = p.store("b/x", "x", new ByteArrayInputStream(data()), 0);
        byte[] stored = st.get("b/x");
        stored[stored.length / 2] ^= 0x10;
        st.overwriteRaw("b/x", stored);
        assertThatThrownBy(() -> p.fetch("b/x", o, new ByteArrayOutputStream()))
                .isInstanceOfSatisfying(LifeboatException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.CORRUPT);
                    assertThat(e.getMessage()).contains("b/x");
                });
        assertThatThrownBy(() -> p.verify("b/x", o)).hasMessageContaining("b/x");
    }

    @ParameterizedTest
    @EnumSource(Compression.class)
    void aTruncatedObjectIsNamed(Compression c) throws IOException {
        MemoryStorage st = new MemoryStorage();
        ObjectPipeline p = new ObjectPipeline(st, c, 0, Encryption.NONE);
        StoredObject o = p.store("b/y", "y", new ByteArrayInputStream(data()), 0);
        byte[] stored = st.get("b/y");
        st.overwriteRaw("b/y", Arrays.copyOf(stored, stored.length - 100));
        assertThatThrownBy(() -> p.fetch("b/y", o, new ByteArrayOutputStream()))
                .isInstanceOfSatisfying(LifeboatException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.CORRUPT);
                    assertThat(e.getMessage()).contains("b/y");
                });
    }

    /** The network breaking a read off is resumed, not taken for a damaged object. */
    @ParameterizedTest
    @EnumSource(Compression.class)
    void aReadThatBreaksOffIsResumed(Compression c) throws IOException {
        MemoryStorage st = new MemoryStorage();
        ObjectPipeline p = new ObjectPipeline(st, c, 0, Encryption.NONE);
        StoredObject o = p.store("n/x", "x", new ByteArrayInputStream(data()), 0);
        st.cutReads(3, o.size() / 4);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        p.fetch("n/x", o, out);
        assertThat(out.toByteArray()).isEqualTo(data());
        st.cutReads(3, o.size() / 4);
        byte[] into = new byte[(int) o.rawSize()];
        p.fetchInto("n/x", o, into, n -> new byte[n]);
        assertThat(into).isEqualTo(data());
        st.cutReads(3, o.size() / 4);
        p.verify("n/x", o);
    }

    /**
     * A transfer that keeps failing is the repository's (STORAGE, naming object and repository),
     * never "the stored copy is damaged": the object is intact.
     */
    @ParameterizedTest
    @EnumSource(Compression.class)
    void aTransferThatKeepsFailingIsAStorageErrorNotCorruption(Compression c) throws IOException {
        MemoryStorage st = new MemoryStorage();
        st.retryFor(java.time.Duration.ofMillis(300));
        ObjectPipeline p = new ObjectPipeline(st, c, 0, Encryption.NONE);
        StoredObject o = p.store("n/y", "y", new ByteArrayInputStream(data()), 0);
        java.util.List<org.assertj.core.api.ThrowableAssert.ThrowingCallable> reads = java.util.List.of(
                () -> p.fetch("n/y", o, new ByteArrayOutputStream()),
                () -> p.fetchInto("n/y", o, new byte[(int) o.rawSize()], n -> new byte[n]),
                () -> p.verify("n/y", o));
        for (var read : reads) {
            st.cutReads(1000, 0); // every attempt breaks before its first byte
            assertThatThrownBy(read).isInstanceOfSatisfying(LifeboatException.class, e -> {
                assertThat(e.kind()).isEqualTo(ErrorKind.STORAGE);
                assertThat(e.getMessage()).contains("n/y", st.describe(), "attempts");
            });
        }
        st.cutReads(0, 0);
        p.verify("n/y", o);
    }

    /** A full disk where the content is written is RESOURCE (exit 10), never a damaged stored copy. */
    @org.junit.jupiter.api.Test
    void aLocalWriteThatFailsIsAResourceErrorNotCorruption() throws IOException {
        MemoryStorage st = new MemoryStorage();
        ObjectPipeline p = new ObjectPipeline(st, Compression.ZSTD, 0, Encryption.NONE);
        StoredObject o = p.store("n/z", "z", new ByteArrayInputStream(data()), 0);
        java.io.OutputStream full = new java.io.OutputStream() {
            @Override
            public void write(int b) throws IOException {
                throw new IOException("No space left on device");
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                throw new IOException("No space left on device");
            }
        };
        assertThatThrownBy(() -> p.fetch("n/z", o, full)).isInstanceOfSatisfying(LifeboatException.class, e -> {
            assertThat(e.kind()).isEqualTo(ErrorKind.RESOURCE);
            assertThat(e.getMessage()).contains("n/z", "No space left on device");
        });
        java.nio.file.Path file = java.nio.file.Path.of("/restore/here/z");
        assertThatThrownBy(() -> p.fetch("n/z", o, LocalWrite.guard(file, full)))
                .isInstanceOfSatisfying(LifeboatException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.RESOURCE);
                    assertThat(e.getMessage()).contains("/restore/here/z", "No space left on device");
                    assertThat(e.hint()).contains("free space");
                });
    }

    /**
     * A read that ends at another length than the manifest's: corrupt when the repository holds
     * that length (stat says so), a transfer problem (STORAGE) when it holds the manifest's.
     */
    @org.junit.jupiter.api.Test
    void aShortReadIsCorruptOnlyWhenTheStoredObjectIsShort() throws IOException {
        MemoryStorage st = new MemoryStorage();
        ObjectPipeline p = new ObjectPipeline(st, Compression.ZSTD, 0, Encryption.NONE);
        StoredObject o = p.store("n/s", "s", new ByteArrayInputStream(data()), 0);
        byte[] stored = st.get("n/s");
        // a driver (or something in between) that hands out fewer bytes than it stores, without failing
        io.lifeboat.storage.Storage lying = new io.lifeboat.storage.ForwardingStorage(st) {
            @Override
            public java.io.InputStream read(String key, long offset) {
                return new ByteArrayInputStream(Arrays.copyOf(stored, stored.length - 10));
            }
        };
        ObjectPipeline viaLying = p.withStorage(lying);
        for (var read : java.util.List.<org.assertj.core.api.ThrowableAssert.ThrowingCallable>of(
                () -> viaLying.fetchInto("n/s", o, new byte[(int) o.rawSize()], n -> new byte[n]),
                () -> viaLying.verify("n/s", o))) {
            assertThatThrownBy(read).isInstanceOfSatisfying(LifeboatException.class, e -> {
                assertThat(e.kind()).isEqualTo(ErrorKind.STORAGE);
                assertThat(e.getMessage()).contains("n/s", "transfer went wrong");
            });
        }
        st.overwriteRaw("n/s", Arrays.copyOf(stored, stored.length - 10));
        for (var read : java.util.List.<org.assertj.core.api.ThrowableAssert.ThrowingCallable>of(
                () -> p.fetchInto("n/s", o, new byte[(int) o.rawSize()], n -> new byte[n]),
                () -> p.verify("n/s", o), () -> p.fetch("n/s", o, new ByteArrayOutputStream()))) {
            assertThatThrownBy(read).isInstanceOfSatisfying(LifeboatException.class, e -> {
                assertThat(e.kind()).isEqualTo(ErrorKind.CORRUPT);
                assertThat(e.getMessage()).contains("n/s", "bytes, the manifest says " + o.size());
            });
        }
    }

    @org.junit.jupiter.api.Test
    void anAbandonedUploadLeavesNothing() throws IOException {
        MemoryStorage st = new MemoryStorage();
        ObjectPipeline p = new ObjectPipeline(st, Compression.ZSTD, 0, Encryption.NONE);
        try (ObjectPipeline.Upload u = p.open("c/z", "z", 0)) {
            u.stream().write(data());
            // no finish(): the producer failed
        }
        assertThat(st.list("c/")).isEmpty();
    }

    @org.junit.jupiter.api.Test
    void aStoredObjectIsReadInSlicesSoNoReadAsksForAWholeChunk() throws IOException {
        byte[] data = new byte[3 * ObjectPipeline.READ_SLICE + 123];
        new Random(3).nextBytes(data);
        int[] largest = {0};
        java.io.InputStream in = new ByteArrayInputStream(data) {
            @Override
            public synchronized int read(byte[] b, int off, int len) {
                largest[0] = Math.max(largest[0], len);
                return super.read(b, off, len);
            }
        };
        byte[] into = new byte[data.length];
        assertThat(ObjectPipeline.readSliced(in, into, data.length)).isEqualTo(data.length);
        assertThat(into).isEqualTo(data);
        assertThat(largest[0]).isEqualTo(ObjectPipeline.READ_SLICE);
        // a source shorter than expected: what it had
        assertThat(ObjectPipeline.readSliced(new ByteArrayInputStream(data, 0, 10), new byte[100], 100)).isEqualTo(10);
    }
}
