package io.lifeboat.engine.logical;

import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.BackupManifest;
import io.lifeboat.catalog.StoredObject;
import io.lifeboat.codec.Compression;
import io.lifeboat.codec.Encryption;
import io.lifeboat.engine.ObjectPipeline;
import io.lifeboat.storage.MemoryStorage;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Small dump files go into tar bundles that roll over at their size limit and unpack to the same files. */
class DumpBundlerTest {
    @TempDir
    Path dir;

    @Test
    void bundlesRollOverAndUnpackToTheSameFiles() throws Exception {
        Path dump = Files.createDirectory(dir.resolve("dump"));
        Random random = new Random(7);
        for (int i = 1; i <= 30; i++) {
            byte[] b = new byte[random.nextInt(40_000)];
            random.nextBytes(b);
            Files.write(dump.resolve(i + ".dat.gz"), b);
        }
        MemoryStorage storage = new MemoryStorage();
        ObjectPipeline pipeline = new ObjectPipeline(storage, Compression.ZSTD, 1, Encryption.NONE);
        long[] progress = {0};
        List<StoredObject> stored;
        try (DumpBundler b = new DumpBundler(name -> pipeline.open("k/db1/" + pipeline.storedName(name),
                "db1/" + pipeline.storedName(name), 0), "", n -> progress[0] += n, 200_000)) {
            for (int i = 1; i <= 30; i++) {
                b.add(dump.resolve(i + ".dat.gz"));
            }
            stored = b.finish();
        }
        assertThat(stored).hasSizeGreaterThan(2).allMatch(o -> BackupManifest.isBundle(ObjectPipeline.rawName(o)));
        assertThat(stored.get(0).path()).isEqualTo("db1/bundle-1.tar.zst");
        assertThat(progress[0]).isEqualTo(sizes(dump));

        Path restored = Files.createDirectory(dir.resolve("restored"));
        for (StoredObject o : stored) {
            Path tar = dir.resolve("b.tar");
            try (OutputStream out = Files.newOutputStream(tar)) {
                pipeline.fetch("k/" + o.path(), o, out);
            }
            DumpDownload.extract(tar, restored, o.path());
        }
        for (int i = 1; i <= 30; i++) {
            String name = i + ".dat.gz";
            assertThat(Files.readAllBytes(restored.resolve(name))).as(name).isEqualTo(Files.readAllBytes(dump.resolve(name)));
        }
    }

    @Test
    void aBundleMemberThatIsNotAPlainFileNameIsRefused() throws Exception {
        Path tar = dir.resolve("bad.tar");
        try (TarArchiveOutputStream out = new TarArchiveOutputStream(Files.newOutputStream(tar))) {
            TarArchiveEntry e = new TarArchiveEntry("../escape.dat");
            e.setSize(1);
            out.putArchiveEntry(e);
            out.write('x');
            out.closeArchiveEntry();
        }
        Path into = Files.createDirectory(dir.resolve("into"));
        assertThatThrownBy(() -> DumpDownload.extract(tar, into, "b/bad.tar"))
                .isInstanceOf(LifeboatException.class).hasMessageContaining("not a plain dump file");
        assertThat(Files.exists(dir.resolve("escape.dat"))).isFalse();
    }

    private static long sizes(Path d) throws Exception {
        try (var s = Files.list(d)) {
            return s.mapToLong(p -> p.toFile().length()).sum();
        }
    }
}
