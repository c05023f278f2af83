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

/**
 * The one contract every storage driver passes (as wal-g tests all its drivers with one suite),
 * including what the network does to it: a driver with a transport to break ({@link #faults()})
 * shows that reads resume where they broke off, never splice two versions of an object, fail
 * naming the object and the repository when the network does not come back, and that an answer
 * that is not a valid one is never read as "nothing there".
 */
public abstract class StorageContract {
    /** How long the storages under test retry: short, so that a test of giving up is quick. */
    protected static final java.time.Duration RETRY = java.time.Duration.ofSeconds(1);

    protected Storage storage;

    /** A fresh, empty storage that retries for {@link #RETRY}. Multipart drivers should use a small part size so that big() spans parts. */
    protected abstract Storage open() throws Exception;

    /** What breaks the driver's transport in a test; null where there is nothing between the driver and its data. */
    protected Faults faults() {
        return null;
    }

    /** Ways to break a driver's transport. */
    public interface Faults {
        /** The next {@code times} bodies of object reads break off part of the way (a reset, a cut connection). */
        void cutReads(int times);

        /** The next {@code times} object reads fail before the first byte. */
        void failReads(int times);

        /** The next {@code times} listings get an answer that is not a valid one; false where the storage has no such answer. */
        boolean invalidListings(int times);

        /** Breaks nothing any more. */
        void clear();
    }

    /** How errors name the repository (a mirror's members name themselves). */
    protected String where() {
        return storage.describe();
    }

    /** Called before an object that is being read is replaced (a driver whose versions are its times waits a tick). */
    protected void beforeReplacing() throws Exception {
    }

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

    @Test
    void readsFromAnOffset() throws IOException {
        byte[] data = bytes(big(), 11);
        storage.put("o/big", data);
        storage.put("o/empty", new byte[0]);
        for (long offset : new long[] {0, 1, 1000, data.length - 1, data.length}) {
            try (var in = storage.read("o/big", offset)) {
                assertThat(in.readAllBytes()).as("from %d", offset)
                        .isEqualTo(java.util.Arrays.copyOfRange(data, (int) offset, data.length));
            }
        }
        try (var in = storage.read("o/empty", 0)) {
            assertThat(in.readAllBytes()).isEmpty();
        }
        assertThatThrownBy(() -> storage.read("o/none", 5).close()).isInstanceOfSatisfying(LifeboatException.class,
                e -> assertThat(e.kind()).isEqualTo(ErrorKind.NOT_FOUND));
    }

    @Test
    void aReadThatBreaksOffResumesFromTheByteReached() throws IOException {
        Faults f = faults();
        org.junit.jupiter.api.Assumptions.assumeTrue(f != null, "nothing to break");
        byte[] data = bytes(big(), 12);
        storage.put("r/big", data);
        f.cutReads(3);
        assertThat(storage.get("r/big")).isEqualTo(data);
        f.cutReads(2);
        try (var in = storage.read("r/big", 12345)) {
            assertThat(in.readAllBytes()).isEqualTo(java.util.Arrays.copyOfRange(data, 12345, data.length));
        }
    }

    @Test
    void aReadThatKeepsBreakingFailsNamingTheObjectAndTheRepository() throws IOException {
        Faults f = faults();
        org.junit.jupiter.api.Assumptions.assumeTrue(f != null, "nothing to break");
        storage.put("r/doomed", bytes(big(), 13));
        f.failReads(1000);
        try {
            assertThatThrownBy(() -> storage.get("r/doomed")).isInstanceOfSatisfying(LifeboatException.class, e -> {
                assertThat(e.kind()).isEqualTo(ErrorKind.STORAGE);
                assertThat(e.getMessage()).contains("r/doomed", where(), "attempts");
            });
        } finally {
            f.clear();
        }
    }

    /**
     * An object replaced while a read of it breaks off: the read goes on with the version it began
     * with (a driver whose open handle keeps the old file), or fails naming the change, and never
     * hands out the new version's bytes after the old one's.
     */
    @Test
    void anObjectReplacedWhileItIsReadIsNeverSpliced() throws Exception {
        Faults f = faults();
        org.junit.jupiter.api.Assumptions.assumeTrue(f != null, "nothing to break");
        byte[] old = bytes(big(), 14);
        storage.put("r/changing", old);
        f.cutReads(1);
        try (var in = storage.read("r/changing")) {
            byte[] start = in.readNBytes(1000);
            beforeReplacing();
            storage.put("r/changing", bytes(big(), 15)); // the same size, other bytes
            byte[] rest;
            try {
                rest = in.readAllBytes();
            } catch (LifeboatException e) {
                assertThat(e.kind()).isEqualTo(ErrorKind.STORAGE);
                assertThat(e.getMessage()).contains("r/changing", "changed while it was being read");
                return;
            }
            byte[] all = java.util.Arrays.copyOf(start, start.length + rest.length);
            System.arraycopy(rest, 0, all, start.length, rest.length);
            assertThat(all).as("what the read handed out").isEqualTo(old);
        }
    }

    @Test
    void anInvalidListingIsRetriedAndNeverReadAsNothingThere() throws IOException {
        Faults f = faults();
        org.junit.jupiter.api.Assumptions.assumeTrue(f != null && f.invalidListings(2), "no invalid listings to give");
        storage.put("l/a", new byte[] {1});
        storage.put("l/b", new byte[] {2});
        assertThat(storage.list("l/")).extracting(ObjectInfo::key).containsExactly("l/a", "l/b");
        f.invalidListings(1000);
        try {
            assertThatThrownBy(() -> storage.list("l/")).isInstanceOfSatisfying(LifeboatException.class, e -> {
                assertThat(e.kind()).isEqualTo(ErrorKind.STORAGE);
                assertThat(e.getMessage()).contains("l/", where());
            });
        } finally {
            f.clear();
        }
    }
}
