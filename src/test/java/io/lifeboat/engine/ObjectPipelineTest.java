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
}
