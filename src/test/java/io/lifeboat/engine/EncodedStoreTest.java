package io.lifeboat.engine;

import io.lifeboat.catalog.StoredObject;
import io.lifeboat.codec.AgeEncryption;
import io.lifeboat.codec.AgeScrypt;
import io.lifeboat.codec.Compression;
import io.lifeboat.codec.Digest;
import io.lifeboat.codec.Encryption;
import io.lifeboat.codec.Passphrase;
import io.lifeboat.storage.ForwardingStorage;
import io.lifeboat.storage.MemoryStorage;
import io.lifeboat.storage.ObjectWriter;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** A piece encoded whole: handed to the storage as the encode buffer's own array, and readable like a streamed one. */
class EncodedStoreTest {
    /** Counts how objects arrive: from an array (putFrom) or through a writer. */
    static final class Counting extends ForwardingStorage {
        final AtomicInteger fromArray = new AtomicInteger();
        final AtomicInteger writers = new AtomicInteger();
        byte[] lastArray;

        Counting() {
            super(new MemoryStorage());
        }

        @Override
        public ObjectWriter create(String key) throws IOException {
            writers.incrementAndGet();
            return inner.create(key);
        }

        @Override
        public boolean putFrom(String key, byte[] data, int off, int len) throws IOException {
            fromArray.incrementAndGet();
            lastArray = data;
            assertThat(off).isZero();
            return inner.putFrom(key, data, off, len);
        }
    }

    private static byte[] chunk(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        for (int i = 0; i < n; i += 4096) {
            java.util.Arrays.fill(b, i, Math.min(n, i + 2048), (byte) 'x'); // half compressible
        }
        return b;
    }

    @ParameterizedTest
    @EnumSource(Compression.class)
    void aPieceGoesToTheStorageFromTheBufferAndDecodesBack(Compression c) throws IOException {
        check(c, Encryption.NONE);
    }

    @ParameterizedTest
    @EnumSource(Compression.class)
    void encryptedToo(Compression c) throws IOException {
        check(c, new AgeEncryption(List.of(), null, Passphrase.ofEnvironment("horse"), AgeScrypt.MIN_WORK_FACTOR));
    }

    private void check(Compression c, Encryption e) throws IOException {
        Counting st = new Counting();
        ObjectPipeline p = new ObjectPipeline(st, c, c.defaultLevel(), e);
        ObjectPipeline.EncodeBuffer buffer = new ObjectPipeline.EncodeBuffer();
        byte[] first = chunk(1 << 20, 1);
        StoredObject o1 = p.store("k/1", "1", first, first.length, buffer);
        byte[] array = st.lastArray;
        byte[] second = chunk(1 << 20, 2);
        StoredObject o2 = p.store("k/2", "2", second, 1000, buffer); // a shorter piece in a longer array
        assertThat(st.fromArray).hasValue(2);
        assertThat(st.writers).as("no writer, so no part buffer").hasValue(0);
        assertThat(st.lastArray).as("the same array, reused").isSameAs(array);

        for (var t : List.of(new Object[] {o1, first, first.length}, new Object[] {o2, second, 1000})) {
            StoredObject o = (StoredObject) t[0];
            byte[] raw = (byte[]) t[1];
            int len = (int) t[2];
            byte[] stored = st.get("k/" + o.path());
            assertThat(o.size()).isEqualTo(stored.length);
            assertThat(o.sha256()).isEqualTo(Digest.sha256(stored, 0, stored.length));
            assertThat(o.rawSize()).isEqualTo(len);
            byte[] back = new byte[len];
            p.fetchInto("k/" + o.path(), o, back, byte[]::new);
            assertThat(back).isEqualTo(java.util.Arrays.copyOf(raw, len));
        }
    }

    @ParameterizedTest
    @EnumSource(Compression.class)
    void anIncompressiblePieceGrowsTheBufferWithinTheBudgetsBound(Compression c) throws IOException {
        Counting st = new Counting();
        ObjectPipeline p = new ObjectPipeline(st, c, c.defaultLevel(), Encryption.NONE);
        ObjectPipeline.EncodeBuffer buffer = new ObjectPipeline.EncodeBuffer();
        byte[] data = new byte[4 << 20];
        new Random(3).nextBytes(data);
        StoredObject o = p.store("k/r", "r", data, data.length, buffer);
        assertThat(st.lastArray.length).isGreaterThanOrEqualTo((int) o.size())
                .isLessThanOrEqualTo((int) MemoryBudget.encodedBound(data.length));
        byte[] back = new byte[data.length];
        p.fetchInto("k/r", o, back, byte[]::new);
        assertThat(back).isEqualTo(data);
    }
}
