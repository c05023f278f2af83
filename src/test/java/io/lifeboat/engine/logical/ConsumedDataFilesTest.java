package io.lifeboat.engine.logical;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

class ConsumedDataFilesTest {
    @Test
    void aTablesDataFileGoesWhenPgRestoreFinishedItsData(@TempDir Path dir) throws IOException {
        for (String f : new String[] {"toc.dat", "3356.dat.gz", "3357.dat", "3358.dat.zst", "blobs.toc", "blob_16400.dat"}) {
            Files.writeString(dir.resolve(f), "x");
        }
        try (ConsumedDataFiles c = new ConsumedDataFiles(dir)) {
            c.accept("pg_restore: processing data for table \"public.t3357\"");
            c.accept("pg_restore: finished item 3356 TABLE DATA t3356");
            c.accept("pg_restore: finished item 3358 TABLE DATA t3358");
            c.accept("pg_restore: finished item 3357 INDEX t3357_k"); // not data: its table's file stays
            c.accept("pg_restore: finished item 3390 BLOBS BLOBS");
        }
        try (Stream<Path> s = Files.list(dir)) {
            assertThat(s.map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrder("toc.dat", "3357.dat", "blobs.toc", "blob_16400.dat");
        }
    }
}
