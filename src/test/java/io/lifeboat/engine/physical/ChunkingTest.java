package io.lifeboat.engine.physical;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.StoredObject;
import io.lifeboat.codec.Compression;
import io.lifeboat.codec.Encryption;
import io.lifeboat.engine.ObjectPipeline;
import io.lifeboat.storage.ForwardingStorage;
import io.lifeboat.storage.MemoryStorage;
import io.lifeboat.storage.ObjectWriter;
import io.lifeboat.storage.Storage;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Cutting an archive stream into independently compressed chunks, and reading it back verified. */
class ChunkingTest {
    private static final int CHUNK = 64 * 1024;

    private static byte[] data(int size) {
        byte[] b = new byte[size];
        Random r = new Random(size);
        for (int i = 0; i < size; i++) {
            b[i] = (byte) (i % 4096 < 2048 ? 'x' : r.nextInt()); // half compressible
        }
        return b;
    }

    record Stored(MemoryStorage storage, ObjectPipeline pipeline, List<StoredObject> objects, List<String> chunks) {
    }

    private static Stored store(byte[] raw, int jobs) throws IOException {
        MemoryStorage st = new MemoryStorage();
        ObjectPipeline p = new ObjectPipeline(st, Compression.ZSTD, 3, Encryption.NONE);
        ChunkedArchive.BufferPool pool = new ChunkedArchive.BufferPool(CHUNK, jobs + 2);
        try (ParallelUploader up = new ParallelUploader(p, path -> "b/" + path, jobs)) {
            List<Integer> tapped = new ArrayList<>();
            ChunkedArchive a = new ChunkedArchive("base.tar", up, pool, (b, off, len) -> tapped.add(len));
            Random r = new Random(3);
            int pos = 0;
            while (pos < raw.length) {
                int n = Math.min(raw.length - pos, 1 + r.nextInt(3 * CHUNK));
                a.write(raw, pos, n);
                pos += n;
            }
            List<String> chunks = a.close();
            assertThat(tapped.stream().mapToInt(Integer::intValue).sum()).isEqualTo(raw.length);
            assertThat(a.rawBytes()).isEqualTo(raw.length);
            return new Stored(st, p, up.finish(), chunks);
        }
    }

    @Test
    void chunksAreIndependentFramesInOrder() throws IOException {
        byte[] raw = data(CHUNK * 5 + 1234);
        Stored s = store(raw, 2);
        assertThat(s.chunks()).containsExactly("base.tar.000001", "base.tar.000002", "base.tar.000003", "base.tar.000004",
                "base.tar.000005", "base.tar.000006");
        assertThat(s.objects()).extracting(StoredObject::path).containsExactly("base.tar.000001.zst", "base.tar.000002.zst",
                "base.tar.000003.zst", "base.tar.000004.zst", "base.tar.000005.zst", "base.tar.000006.zst");
        assertThat(s.objects()).extracting(StoredObject::rawSize).containsExactly((long) CHUNK, (long) CHUNK, (long) CHUNK,
                (long) CHUNK, (long) CHUNK, 1234L);
        // `cat base.tar.*.zst | zstd -d` gives the archive back: concatenated frames decode as one stream.
        ByteArrayOutputStream concat = new ByteArrayOutputStream();
        for (StoredObject o : s.objects()) {
            concat.writeBytes(s.storage().get("b/" + o.path()));
        }
        try (InputStream in = Compression.ZSTD.decompress(new java.io.ByteArrayInputStream(concat.toByteArray()))) {
            assertThat(in.readAllBytes()).isEqualTo(raw);
        }
    }

    @Test
    void anEmptyArchiveStillHasOneChunk() throws IOException {
        Stored s = store(new byte[0], 1);
        assertThat(s.chunks()).containsExactly("base.tar.000001");
        assertThat(s.objects()).singleElement().satisfies(o -> assertThat(o.rawSize()).isZero());
    }

    private static byte[] readBack(Stored s, int window) throws IOException {
        return readBack(s, s.objects(), window);
    }

    private static byte[] readBack(Stored s, java.util.List<StoredObject> objects, int window) throws IOException {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try (ChunkStream in = new ChunkStream(objects, (o, into) -> s.pipeline().fetchInto("b/" + o.path(), o, into, byte[]::new),
                pool, window)) {
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            byte[] buf = new byte[777];
            int n;
            while ((n = in.read(buf, 0, buf.length)) >= 0) {
                all.write(buf, 0, n);
            }
            return all.toByteArray();
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void chunkStreamReadsEverythingBackInOrder() throws IOException {
        byte[] raw = data(CHUNK * 7 + 99);
        Stored s = store(raw, 3);
        for (int window = 1; window <= 4; window++) {
            assertThat(readBack(s, window)).isEqualTo(raw);
        }
    }

    @Test
    void aDamagedChunkFailsTheReadNamingIt() throws IOException {
        byte[] raw = data(CHUNK * 4);
        Stored s = store(raw, 2);
        String key = "b/base.tar.000003.zst";
        byte[] stored = s.storage().get(key);
        byte[] flipped = stored.clone();
        flipped[flipped.length / 2] ^= 0x01;
        s.storage().overwriteRaw(key, flipped);
        assertCorrupt(() -> readBack(s, 2), key, "checksum");
        // Truncated or extended: caught by the size, before anything is decoded.
        for (byte[] damaged : new byte[][] {java.util.Arrays.copyOf(stored, stored.length - 1),
                java.util.Arrays.copyOf(stored, stored.length + 1)}) {
            s.storage().overwriteRaw(key, damaged);
            assertCorrupt(() -> readBack(s, 1), key, "bytes, the manifest says " + stored.length);
        }
    }

    /** The read fails as CORRUPT, and the message names what it should. */
    private static void assertCorrupt(org.assertj.core.api.ThrowableAssert.ThrowingCallable read, String... named) {
        assertThatThrownBy(read).isInstanceOfSatisfying(LifeboatException.class, e -> {
            assertThat(e.kind()).isEqualTo(ErrorKind.CORRUPT);
            assertThat(e.getMessage()).contains(named);
        });
    }

    @Test
    void aChunkDecodingToOtherThanItsRecordedSizeFailsTheRead() throws IOException {
        byte[] raw = data(CHUNK * 3 + 10);
        Stored s = store(raw, 2);
        for (long claimed : new long[] {CHUNK - 1, CHUNK + 1}) {
            java.util.List<StoredObject> lying = new java.util.ArrayList<>(s.objects());
            StoredObject o = lying.get(1);
            lying.set(1, new StoredObject(o.path(), o.size(), o.sha256(), claimed, o.compression(), o.encryption()));
            assertCorrupt(() -> readBack(s, lying, 2), "base.tar.000002.zst",
                    claimed < CHUNK ? "decodes to more than " + claimed + " bytes" : "decodes to " + CHUNK + " bytes");
        }
    }

    @Test
    void aChunkThatIsNoZstdFrameFailsTheReadNamingIt() throws IOException {
        Stored s = store(data(CHUNK * 2), 2);
        String key = "b/base.tar.000002.zst";
        byte[] garbage = data(5000);
        s.storage().overwriteRaw(key, garbage);
        // the manifest entry matches the garbage: only decoding can tell
        java.util.List<StoredObject> lying = new java.util.ArrayList<>(s.objects());
        StoredObject o = lying.get(1);
        lying.set(1, new StoredObject(o.path(), garbage.length, io.lifeboat.codec.Digest.sha256(garbage, 0, garbage.length),
                o.rawSize(), o.compression(), o.encryption()));
        assertCorrupt(() -> readBack(s, lying, 2), key, "cannot be decoded");
    }

    @Test
    void aFailingUploadStopsTheProducer() {
        MemoryStorage mem = new MemoryStorage();
        Storage st = new ForwardingStorage(mem) {
            @Override
            public String describe() {
                return "refusing";
            }

            @Override
            public ObjectWriter create(String key) throws IOException {
                if (key.endsWith("000002.zst")) {
                    throw new LifeboatException(ErrorKind.STORAGE, "refused " + key);
                }
                return mem.create(key);
            }
        };
        ObjectPipeline p = new ObjectPipeline(st, Compression.ZSTD, 1, Encryption.NONE);
        byte[] raw = data(CHUNK * 20);
        assertThatThrownBy(() -> {
            try (ParallelUploader up = new ParallelUploader(p, path -> path, 2)) {
                ChunkedArchive a = new ChunkedArchive("base.tar", up, new ChunkedArchive.BufferPool(CHUNK, 4), null);
                a.write(raw, 0, raw.length);
                a.close();
                up.finish();
            }
        }).isInstanceOfSatisfying(LifeboatException.class, e -> assertThat(e.getMessage()).contains("refused base.tar.000002.zst"));
    }
}
