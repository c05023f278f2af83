package io.lifeboat.engine.logical;

import io.lifeboat.catalog.StoredObject;
import io.lifeboat.codec.Compression;
import io.lifeboat.codec.Encryption;
import io.lifeboat.engine.ObjectPipeline;
import io.lifeboat.engine.Progress;
import io.lifeboat.storage.MemoryStorage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/** Files are uploaded while a real writer process is still appending to them, and none is cut short. */
class DumpStreamerTest {
    @TempDir
    Path dir;

    @Test
    void followsGrowingFilesAndUploadsFinishedOnesWhole() throws Exception {
        assumeThat(DumpStreamer.supported()).as("needs /proc").isTrue();
        Path out = dir.resolve("dump");
        // Like pg_dump -Fd: several files, each opened once, written in pieces, closed; a big one grows slowly.
        String script = "mkdir -p " + out + " && cd " + out + " || exit 1; "
                + "(for i in $(seq 1 40); do head -c 300000 /dev/urandom; sleep 0.01; done) > big.dat & "
                + "for f in 1 2 3 4 5; do (for i in 1 2 3; do echo line $f $i; sleep 0.02; done) > $f.dat; done; "
                + "wait; printf toc > toc.dat";
        Process p = new ProcessBuilder("sh", "-c", script).start();
        MemoryStorage storage = new MemoryStorage();
        ObjectPipeline pipeline = new ObjectPipeline(storage, Compression.ZSTD, 1, Encryption.NONE);
        Function<String, ObjectPipeline> pipelines = name -> pipeline;
        List<StoredObject> stored = new DumpStreamer(out, p, pipelines, "", path -> "b/" + path, 2, Progress.NONE, false).run();
        assertThat(p.waitFor()).isZero();

        Map<String, StoredObject> byPath = stored.stream().collect(Collectors.toMap(StoredObject::path, o -> o));
        assertThat(byPath.keySet()).containsExactlyInAnyOrder("big.dat.zst", "1.dat.zst", "2.dat.zst", "3.dat.zst", "4.dat.zst",
                "5.dat.zst", "toc.dat.zst");
        for (StoredObject o : stored) {
            Path original = out.resolve(ObjectPipeline.rawName(o));
            ByteArrayOutputStream content = new ByteArrayOutputStream();
            pipeline.fetch("b/" + o.path(), o, content);
            assertThat(content.toByteArray()).as(o.path()).isEqualTo(Files.readAllBytes(original));
        }
        assertThat(byPath.get("big.dat.zst").rawSize()).isEqualTo(40 * 300000);
    }
}
