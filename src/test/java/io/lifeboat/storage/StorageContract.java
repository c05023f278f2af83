package io.lifeboat.storage;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The one contract every storage driver passes (as wal-g tests all its drivers with one suite). */
public abstract class StorageContract {
    protected Storage storage;

    /** A fresh, empty storage. Multipart drivers should use a small part size so that big() spans parts. */
    protected abstract Storage open() throws Exception;

    /** An object size that spans several parts of a multipart driver. */
    protected int big() {
        return 3 * 1024 * 1024 + 17;
    }

    @BeforeEach
    void setUp() throws Exception {
        storage = open();
    }

    @AfterEach
    void tearDown() {
        storage.close();
    }

    static byte[] bytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void putGetRoundTripsEmptySmallAndBig() throws IOException {
        for (int size : new int[] {0, 1, 1000, big()}) {
            byte[] data = bytes(size, size);
            storage.put("c/obj-" + size, data);
            assertThat(storage.get("c/obj-" + size)).as("size %d", size).isEqualTo(data);
            assertThat(storage.stat("c/obj-" + size).orElseThrow().size()).isEqualTo(size);
        }
    }

    @Test
    void overwriteReplaces() throws IOException {
        storage.put("a/b", bytes(100, 1));
        storage.put("a/b", bytes(50, 2));
        assertThat(storage.get("a/b")).isEqualTo(bytes(50, 2));
    }

    @Test
    void statOfAbsentIsEmpty() throws IOException {
        assertThat(storage.stat("no/such")).isEmpty();
    }

    @Test
    void readOfAbsentIsNotFound() {
        assertThatThrownBy(() -> storage.read("no/such").close()).isInstanceOfSatisfying(LifeboatException.class, e -> {
            assertThat(e.kind()).isEqualTo(ErrorKind.NOT_FOUND);
            assertThat(e.getMessage()).contains("no/such");
        });
    }

    @Test
    void listsByPrefixSortedWithoutLeaking() throws IOException {
        for (String k : List.of("c1/backups/b/2", "c1/backups/a/1", "c1/backups/a/sub/3", "c1/backupsX/4", "c10/x", "c1/wal/5")) {
            storage.put(k, new byte[] {1});
        }
        assertThat(storage.list("c1/backups/")).extracting(ObjectInfo::key)
                .containsExactly("c1/backups/a/1", "c1/backups/a/sub/3", "c1/backups/b/2");
        assertThat(storage.list("c1/backups")).extracting(ObjectInfo::key)
                .containsExactly("c1/backups/a/1", "c1/backups/a/sub/3", "c1/backups/b/2", "c1/backupsX/4");
        assertThat(storage.list("c1/")).hasSize(5);
        assertThat(storage.list("zzz/")).isEmpty();
        assertThat(storage.list("c1/backups/a/1")).extracting(ObjectInfo::size).containsExactly(1L);
    }

    @Test
    void deleteRemovesAndAbsentIsFine() throws IOException {
        storage.put("d/x", new byte[] {1});
        storage.delete("d/x");
        storage.delete("d/x");
        storage.delete("never/was");
        assertThat(storage.stat("d/x")).isEmpty();
        assertThat(storage.list("d/")).isEmpty();
    }

    @Test
    void aWriterClosedWithoutCommitLeavesNothing() throws IOException {
        try (ObjectWriter w = storage.create("w/aborted")) {
            w.write(bytes(big(), 3));
        }
        assertThat(storage.stat("w/aborted")).isEmpty();
        assertThat(storage.list("w/")).isEmpty();
    }

    @Test
    void aProducerFailingMidStreamLeavesNothingAndKeepsTheOldVersion() throws IOException {
        storage.put("w/kept", bytes(10, 4));
        assertThatThrownBy(() -> {
            try (ObjectWriter w = storage.create("w/kept")) {
                w.write(bytes(big(), 5));
                throw new IOException("producer died");
            }
        }).hasMessage("producer died");
        assertThat(storage.get("w/kept")).isEqualTo(bytes(10, 4));
    }

    @Test
    void parallelWritersToDifferentKeys() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                int n = i;
                fs.add(pool.submit(() -> {
                    storage.put("p/" + n, bytes(n % 4 == 0 ? big() : 10_000 + n, n));
                    return null;
                }));
            }
            for (Future<?> f : fs) {
                f.get();
            }
        } finally {
            pool.shutdown();
        }
        assertThat(storage.list("p/")).hasSize(16);
        for (int i = 0; i < 16; i++) {
            assertThat(storage.get("p/" + i)).isEqualTo(bytes(i % 4 == 0 ? big() : 10_000 + i, i));
        }
    }

    @Test
    void invalidKeysAreRejected() {
        for (String k : new String[] {"", "/abs", "a//b", "a/../b", "trailing/", "./x"}) {
            assertThatThrownBy(() -> storage.put(k, new byte[1])).as(k).isInstanceOf(LifeboatException.class);
        }
    }

    @Test
    void probeSucceedsOnAUsableStorage() throws IOException {
        storage.probe();
    }
}
