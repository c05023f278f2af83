package io.lifeboat.engine.physical;

import io.lifeboat.codec.Compression;
import io.lifeboat.codec.Encryption;
import io.lifeboat.engine.ObjectPipeline;
import io.lifeboat.storage.MemoryStorage;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A tar stream cut at any chunk the writer marked as a place to go on from (see
 * TarWriter#completionAt), completed with that many zeros and continued by another writer, is one
 * valid tar stream: every member before the cut, the completed one, and the new ones after it.
 */
class ResumedTarStreamTest {
    private static final int CHUNK = 4096;

    private record Cut(int index, long end, long completion) {
    }

    @Test
    void aStreamGoneOnWithFromAnyMarkedChunkIsOneValidTar() throws Exception {
        MemoryStorage st = new MemoryStorage();
        ObjectPipeline p = new ObjectPipeline(st, Compression.ZSTD, 1, Encryption.NONE);
        ChunkedArchive.BufferPool pool = new ChunkedArchive.BufferPool(CHUNK, 4);
        ByteArrayOutputStream raw = new ByteArrayOutputStream();
        List<Cut> cuts = new ArrayList<>();
        Random r = new Random(5);
        try (ParallelUploader up = new ParallelUploader(p, k -> "b/" + k, 1)) {
            ChunkedArchive a = new ChunkedArchive("base.tar", up, pool, (b, off, len) -> raw.write(b, off, len));
            TarWriter[] tar = new TarWriter[1];
            a.onChunk((name, i, end) -> cuts.add(new Cut(i, end, tar[0].completionAt(end))));
            tar[0] = new TarWriter(a);
            for (int f = 0; f < 40; f++) {
                String name = f % 7 == 0 ? "base/" + "d".repeat(150) + "/file" + f : "base/1/" + f;
                if (f % 5 == 0) {
                    tar[0].directory("dir" + f, 0700, 0, 0, 0);
                }
                byte[] content = new byte[r.nextInt(3 * CHUNK)];
                r.nextBytes(content);
                tar[0].file(name, content.length, 0600, 0, 0, 0);
                tar[0].data(content, 0, content.length);
                tar[0].endFile(content.length);
            }
            tar[0].finish();
            a.close();
            up.finish();
        }
        byte[] original = raw.toByteArray();
        assertThat(cuts).isNotEmpty();
        assertThat(cuts.stream().filter(c -> c.completion() >= 0)).as("places to go on from").hasSizeGreaterThan(10);
        assertThat(cuts.stream().filter(c -> c.completion() < 0)).as("cuts inside a header or the end marker").isNotEmpty();
        for (Cut c : cuts) {
            if (c.completion() < 0) {
                continue;
            }
            ByteArrayOutputStream more = new ByteArrayOutputStream();
            try (ParallelUploader up = new ParallelUploader(p, k -> "c/" + k, 1)) {
                ChunkedArchive a = new ChunkedArchive("base.tar", up, pool, (b, off, len) -> more.write(b, off, len));
                List<String> kept = new ArrayList<>();
                for (int i = 1; i <= c.index(); i++) {
                    kept.add(ChunkedArchive.chunkName("base.tar", i));
                }
                a.continueAfter(kept, c.end());
                TarWriter t = new TarWriter(a);
                t.completeMember(c.completion());
                t.file("base/1/again", 3, 0600, 0, 0, 0);
                t.data(new byte[] {1, 2, 3}, 0, 3);
                t.endFile(3);
                t.finish();
                assertThat(a.close().get(0)).isEqualTo(ChunkedArchive.chunkName("base.tar", 1));
                up.finish();
            }
            ByteArrayOutputStream joined = new ByteArrayOutputStream();
            joined.write(original, 0, (int) c.end());
            more.writeTo(joined);
            Map<String, Long> names = new LinkedHashMap<>();
            try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(joined.toByteArray()))) {
                TarArchiveEntry e;
                while ((e = in.getNextEntry()) != null) {
                    names.put(e.getName(), e.getSize());
                    in.readAllBytes();
                }
            }
            assertThat(names).as("cut after chunk " + c.index()).containsEntry("base/1/again", 3L);
        }
    }
}
