package io.lifeboat.engine.archive;

import io.lifeboat.catalog.RepositoryLayout;
import io.lifeboat.codec.Compression;
import io.lifeboat.codec.Encryption;
import io.lifeboat.engine.ObjectPipeline;
import io.lifeboat.postgres.TimelineHistory;
import io.lifeboat.postgres.TimelineId;
import io.lifeboat.postgres.WalSegmentName;
import io.lifeboat.storage.ForwardingStorage;
import io.lifeboat.storage.MemoryStorage;
import io.lifeboat.storage.ObjectInfo;
import io.lifeboat.storage.Storage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The recovery's prefetcher against a repository in memory, with this test in the launcher's place
 * (it asks as bin/lifeboat does: .ask-NAME with a token, then the file or .answer-NAME).
 */
class WalPrefetcherTest {
    private static final long SEG = WalSegmentName.DEFAULT_SEGMENT_SIZE;
    @TempDir
    Path dir;
    private final MemoryStorage memory = new MemoryStorage();
    private final List<WalPrefetcher> opened = new ArrayList<>();

    @AfterEach
    void closeAll() {
        opened.forEach(WalPrefetcher::close);
    }

    private WalArchive archive(Storage s) {
        return new WalArchive(s, new RepositoryLayout("m"), new ObjectPipeline(s, Compression.ZSTD, 1, Encryption.NONE));
    }

    /** Archives these files (name → content) of a made-up cluster. */
    private void archive(String... names) throws IOException {
        Path source = Files.createDirectories(dir.resolve("src/pg_wal"));
        for (String n : names) {
            Path f = source.resolve(n);
            byte[] b = new byte[20_000];
            new Random(n.hashCode()).nextBytes(b);
            Files.write(f, n.endsWith(".history") ? "1\t0/5000000\tno recovery target specified\n".getBytes() : b);
            archive(memory).push(f);
        }
    }

    private static String seg(int tli, int n) {
        return String.format("%08X%08X%08X", tli, 0, n);
    }

    private static String[] segs(int tli, int from, int to) {
        List<String> out = new ArrayList<>();
        for (int i = from; i <= to; i++) {
            out.add(seg(tli, i));
        }
        return out.toArray(String[]::new);
    }

    private Path pgWal() throws IOException {
        return Files.createDirectories(dir.resolve("data/pg_wal"));
    }

    private WalPrefetcher start(Storage s, Path pgWal, int ahead, String first, TimelineHistory followed, String last)
            throws IOException {
        WalPrefetcher p = WalPrefetcher.open(archive(s), pgWal, new WalPrefetcher.Settings(ahead, 2, SEG), f -> { },
                System.err::println).orElseThrow();
        opened.add(p);
        p.startInBackground(WalSegmentName.parse(first), followed == null ? TimelineHistory.root(TimelineId.of(1)) : followed,
                last == null ? null : WalSegmentName.parse(last));
        return p;
    }

    private static Set<String> spooled(Path pgWal) throws IOException {
        try (Stream<Path> s = Files.list(WalPrefetcher.spoolOf(pgWal))) {
            return s.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith("."))
                    .collect(Collectors.toCollection(TreeSet::new));
        }
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException, IOException {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline && condition instanceof SpoolCheck c) {
                assertThat(spooled(c.pgWal())).as("waiting for " + what).isEqualTo(c.want());
            }
            assertThat(System.nanoTime()).as("waiting for " + what).isLessThan(deadline);
            Thread.sleep(10);
        }
    }

    private record SpoolCheck(Path pgWal, Set<String> want) implements BooleanSupplier {
        @Override
        public boolean getAsBoolean() {
            try {
                return spooled(pgWal).equals(want);
            } catch (IOException e) {
                return false;
            }
        }
    }

    private static BooleanSupplier spoolHas(Path pgWal, Set<String> want) {
        return new SpoolCheck(pgWal, new TreeSet<>(want));
    }

    /** What the launcher does for a file not in the spool: asks, then takes the file or reads the answer. */
    private static String ask(Path pgWal, String name, String token) throws Exception {
        Path spool = WalPrefetcher.spoolOf(pgWal);
        Files.writeString(spool.resolve(".ask-" + name), token + "\n");
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (Files.exists(spool.resolve(name))) {
                Files.delete(spool.resolve(name));
                return "file";
            }
            Path answer = spool.resolve(".answer-" + name);
            if (Files.exists(answer)) {
                String[] a = Files.readString(answer).trim().split(" ", 2);
                if (a[0].equals(token)) {
                    return a[1];
                }
            }
            Thread.sleep(5);
        }
        return "no answer";
    }

    @Test
    void fillsItsBoundedSpoolAheadAndMovesOnWithWhatRecoveryTakes() throws Exception {
        archive(segs(1, 1, 30));
        Path pgWal = pgWal();
        start(memory, pgWal, 6, seg(1, 1), null, null);
        await("the first six", spoolHas(pgWal, Set.of(segs(1, 1, 6))));
        Thread.sleep(500);
        assertThat(spooled(pgWal)).as("never more than its bound").containsExactly(segs(1, 1, 6));
        for (String n : segs(1, 1, 3)) {
            Files.move(WalPrefetcher.spoolOf(pgWal).resolve(n), pgWal.resolve("RECOVERYXLOG"),
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        await("the next three", spoolHas(pgWal, Set.of(segs(1, 4, 9))));
        // what it delivered is what was archived, verified
        assertThat(Files.readAllBytes(WalPrefetcher.spoolOf(pgWal).resolve(seg(1, 4))))
                .isEqualTo(Files.readAllBytes(dir.resolve("src/pg_wal").resolve(seg(1, 4))));
        // an ask jumps: recovery started over further back (a crash), or elsewhere
        assertThat(ask(pgWal, seg(1, 20), "t1")).isEqualTo("file");
        await("the six from there", spoolHas(pgWal, Set.of(segs(1, 21, 26))));
    }

    @Test
    void saysMissingOnlyToTheCallThatAskedAndOnlyFromAListingMadeAfterTheAsk() throws Exception {
        archive(segs(1, 1, 3));
        Path pgWal = pgWal();
        Path spool = WalPrefetcher.spoolOf(pgWal);
        start(memory, pgWal, 8, seg(1, 1), null, null);
        await("the three archived", spoolHas(pgWal, Set.of(segs(1, 1, 3))));
        Thread.sleep(300); // it has found segment 4 missing meanwhile
        // The archive grows (production still archives, or a standby follows it): the old "missing" is not reused.
        archive(seg(1, 4));
        assertThat(ask(pgWal, seg(1, 4), "t-4")).isEqualTo("file");
        assertThat(ask(pgWal, seg(1, 5), "t-5")).isEqualTo("missing");
        assertThat(ask(pgWal, "00000002.history", "t-h")).isEqualTo("missing");
        // the answer names the call it answers; the ask is cleared
        assertThat(Files.readString(spool.resolve(".answer-" + seg(1, 5)))).isEqualTo("t-5 missing\n");
        assertThat(spool.resolve(".ask-" + seg(1, 5))).doesNotExist();
        // a history file that is there is fetched on asking, and left in the spool (PostgreSQL asks twice)
        archive("00000002.history");
        assertThat(ask(pgWal, "00000002.history", "t-h2")).isEqualTo("file");
        // anything but segments and history files: the JVM's job
        assertThat(ask(pgWal, seg(1, 3) + ".partial", "t-p")).startsWith("failed");
    }

    @Test
    void aListingUnderWayWhenTheAskCameIsNoProof() throws Exception {
        archive(segs(1, 1, 2));
        java.util.concurrent.CountDownLatch listed = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        Storage late = new ForwardingStorage(memory) {
            @Override
            public List<ObjectInfo> list(String prefix) throws IOException {
                List<ObjectInfo> answer = super.list(prefix); // the repository's state when the listing began
                if (prefix.contains(seg(1, 3)) && release.getCount() > 0) {
                    listed.countDown();
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        throw new java.io.InterruptedIOException();
                    }
                }
                return answer;
            }
        };
        Path pgWal = pgWal();
        start(late, pgWal, 4, seg(1, 1), null, null);
        assertThat(listed.await(20, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        // segment 3 arrives in the archive while the prefetcher's listing (which will say "not there") is under way
        archive(seg(1, 3));
        Thread asker = new Thread(() -> {
            try {
                Thread.sleep(300);
            } catch (InterruptedException ignored) {
                // released early
            }
            release.countDown();
        });
        asker.start();
        assertThat(ask(pgWal, seg(1, 3), "t-3")).isEqualTo("file");
    }

    @Test
    void aRepositoryThatFailsIsNeverTakenForMissing() throws Exception {
        archive(segs(1, 1, 4));
        AtomicBoolean down = new AtomicBoolean();
        AtomicInteger lists = new AtomicInteger();
        Storage flaky = new ForwardingStorage(memory) {
            @Override
            public List<ObjectInfo> list(String prefix) throws IOException {
                lists.incrementAndGet();
                if (down.get()) {
                    throw new IOException("connection reset");
                }
                return super.list(prefix);
            }

            @Override
            public InputStream read(String key, long offset) throws IOException {
                if (down.get()) {
                    throw new IOException("connection reset");
                }
                return super.read(key, offset);
            }
        };
        Path pgWal = pgWal();
        start(flaky, pgWal, 2, seg(1, 1), null, null);
        await("two", spoolHas(pgWal, Set.of(segs(1, 1, 2))));
        down.set(true);
        assertThat(ask(pgWal, seg(1, 3), "t-3")).startsWith("failed").contains("connection reset");
        assertThat(ask(pgWal, seg(1, 9), "t-9")).startsWith("failed");
        down.set(false);
        assertThat(ask(pgWal, seg(1, 3), "t-3b")).isEqualTo("file");
        assertThat(lists.get()).isGreaterThan(3);
    }

    @Test
    void listsEachDirectoryOnceAndACopyGoneSinceIsListedAgainNotTakenForThere() throws Exception {
        archive(segs(1, 1, 8));
        List<String> lists = java.util.Collections.synchronizedList(new ArrayList<>());
        Storage counting = new ForwardingStorage(memory) {
            @Override
            public List<ObjectInfo> list(String prefix) throws IOException {
                lists.add(prefix);
                return super.list(prefix);
            }
        };
        Path pgWal = pgWal();
        Path spool = WalPrefetcher.spoolOf(pgWal);
        start(counting, pgWal, 4, seg(1, 1), null, null);
        await("the first four", spoolHas(pgWal, Set.of(segs(1, 1, 4))));
        // one listing of the directory served them all: none of its own for any of them
        assertThat(lists).filteredOn(p -> p.endsWith("/0000000100000000/")).hasSize(1);
        assertThat(lists).noneMatch(p -> Stream.of(segs(1, 1, 8)).anyMatch(p::contains));
        // expire removes segment 5 after that listing: its GET fails, and it is listed again, so it is
        // neither served nor taken for there; asked for, a listing after the ask proves it missing
        String key5 = memory.list("m/wal/0000000100000000/" + seg(1, 5)).get(0).key();
        memory.delete(key5);
        for (String n : segs(1, 1, 4)) {
            Files.move(spool.resolve(n), pgWal.resolve("RECOVERYXLOG"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        // the first call may meet the failing GET (then the JVM fetches it: "failed"), never a "file"
        assertThat(ask(pgWal, seg(1, 5), "t-5")).matches("missing|failed.*");
        assertThat(ask(pgWal, seg(1, 5), "t-5b")).isEqualTo("missing");
        assertThat(spooled(pgWal)).doesNotContain(seg(1, 5));
        assertThat(lists).anyMatch(p -> p.contains(seg(1, 5)));
    }

    @Test
    void followsTheTimelineRecoveryFollowsAndStopsAtItsTarget() throws Exception {
        // timeline 2 branched off in segment 5; the old primary wrote on in timeline 1
        archive(segs(1, 1, 7));
        archive(segs(2, 5, 9));
        archive("00000002.history");
        TimelineHistory two = archive(memory).historiesAfter(TimelineId.of(1)).get(TimelineId.of(2));
        Path pgWal = pgWal();
        start(memory, pgWal, 16, seg(1, 1), two, seg(2, 8));
        Set<String> want = new TreeSet<>(List.of(segs(1, 1, 4)));
        want.addAll(List.of(segs(2, 5, 8)));
        want.add("00000002.history");
        await("timeline 1 up to the switch, then 2, up to the target", spoolHas(pgWal, want));
        Thread.sleep(300);
        assertThat(spooled(pgWal)).isEqualTo(want);
    }

    @Test
    void followsTheAsksWhenRecoveryTakesAnotherTimelineThanGuessed() throws Exception {
        archive(segs(1, 1, 8));
        archive(segs(2, 5, 8));
        Path pgWal = pgWal();
        start(memory, pgWal, 3, seg(1, 4), null, null);
        await("timeline 1", spoolHas(pgWal, Set.of(segs(1, 4, 6))));
        Files.delete(WalPrefetcher.spoolOf(pgWal).resolve(seg(1, 4)));
        assertThat(ask(pgWal, seg(2, 5), "t")).isEqualTo("file");
        await("timeline 2 from there, timeline 1's copies gone", spoolHas(pgWal, Set.of(segs(2, 6, 8))));
    }

    @Test
    void onePerPgWalNamedByPidAndStartTimeAndItEndsWithItsDirectory() throws Exception {
        archive(segs(1, 1, 2));
        Path pgWal = pgWal();
        WalPrefetcher p = start(memory, pgWal, 4, seg(1, 1), null, null);
        assertThat(WalPrefetcher.open(archive(memory), pgWal, new WalPrefetcher.Settings(4, 2, SEG), f -> { }, m -> { }))
                .isEmpty();
        assertThat(WalPrefetcher.running(pgWal)).isTrue();
        long pid = ProcessHandle.current().pid();
        assertThat(Files.readString(WalPrefetcher.spoolOf(pgWal).resolve(".pid")))
                .isEqualTo(pid + " " + WalPrefetcher.processStart(pid) + "\n");
        await("two", spoolHas(pgWal, Set.of(segs(1, 1, 2))));
        // the restore failed and its directory was removed: the prefetcher stops and never brings it back
        io.lifeboat.postgres.ScratchCluster.deleteTree(dir.resolve("data"));
        archive(segs(1, 3, 6));
        Thread.sleep(1500);
        assertThat(dir.resolve("data")).doesNotExist();
        p.close();
        assertThat(WalPrefetcher.open(archive(memory), pgWal, new WalPrefetcher.Settings(4, 2, SEG), f -> { }, m -> { }))
                .isEmpty();
        assertThat(dir.resolve("data")).doesNotExist();
    }

    @Test
    void closeReturnsOnlyWhenNoDownloadWritesAnymore() throws Exception {
        archive(segs(1, 1, 6));
        AtomicInteger reading = new AtomicInteger();
        Storage slow = new ForwardingStorage(memory) {
            @Override
            public InputStream read(String key, long offset) throws IOException {
                reading.incrementAndGet();
                InputStream in = super.read(key, offset);
                return new java.io.FilterInputStream(in) {
                    @Override
                    public int read(byte[] b, int off, int len) throws IOException {
                        try {
                            Thread.sleep(20);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            throw new java.io.InterruptedIOException();
                        }
                        return super.read(b, off, Math.min(len, 512));
                    }
                };
            }
        };
        Path pgWal = pgWal();
        WalPrefetcher p = start(slow, pgWal, 6, seg(1, 1), null, null);
        await("downloads under way", () -> reading.get() >= 2);
        p.close();
        Set<String> after = spooled(pgWal);
        Thread.sleep(1000);
        assertThat(spooled(pgWal)).isEqualTo(after);
        try (Stream<Path> s = Files.list(WalPrefetcher.spoolOf(pgWal).resolve(".incoming"))) {
            assertThat(s.toList()).isEmpty();
        }
        assertThat(WalPrefetcher.spoolOf(pgWal).resolve(".pid")).doesNotExist();
        assertThat(WalPrefetcher.running(pgWal)).isFalse();
        Optional<WalPrefetcher> again = WalPrefetcher.open(archive(memory), pgWal,
                new WalPrefetcher.Settings(6, 2, SEG), f -> { }, m -> { });
        assertThat(again).isPresent();
        again.get().close();
        assertThat(new String(Files.readAllBytes(WalPrefetcher.spoolOf(pgWal).resolve(".segment-size")),
                StandardCharsets.US_ASCII)).isEqualTo(SEG + "\n");
    }

    @Test
    void aPrefetcherWhoseLoopEndsIsNoLongerAdvertisedAndItsAsksAreAnswered() throws Exception {
        // A detached prefetcher's recovery ended (or its loop failed) while the launcher asked: the launcher must
        // not wait minutes for it, and the next prefetcher may take over at once.
        archive(segs(1, 1, 2));
        java.util.concurrent.CountDownLatch listing = new java.util.concurrent.CountDownLatch(1);
        Storage stuck = new ForwardingStorage(memory) {
            @Override
            public List<ObjectInfo> list(String prefix) throws IOException {
                if (prefix.contains(seg(1, 7))) {
                    listing.countDown();
                    try {
                        Thread.sleep(60_000); // a slow repository; the prefetcher's end interrupts it
                    } catch (InterruptedException e) {
                        throw new java.io.InterruptedIOException("interrupted");
                    }
                }
                return super.list(prefix);
            }
        };
        Path pgWal = pgWal();
        Path spool = WalPrefetcher.spoolOf(pgWal);
        WalPrefetcher p = WalPrefetcher.open(archive(stuck), pgWal, new WalPrefetcher.Settings(2, 2, SEG), f -> { },
                m -> { }).orElseThrow();
        opened.add(p);
        AtomicBoolean goesOn = new AtomicBoolean(true);
        Thread t = new Thread(() -> p.run(WalSegmentName.parse(seg(1, 1)), TimelineHistory.root(TimelineId.of(1)), null,
                goesOn::get, Long.MAX_VALUE));
        t.start();
        await("two", spoolHas(pgWal, Set.of(segs(1, 1, 2))));
        Files.writeString(spool.resolve(".ask-" + seg(1, 7)), "t-7\n");
        assertThat(listing.await(20, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        goesOn.set(false); // the server promoted, or stopped
        t.join(20_000);
        assertThat(t.isAlive()).isFalse();
        assertThat(Files.readString(spool.resolve(".answer-" + seg(1, 7)))).startsWith("t-7 failed");
        assertThat(spool.resolve(".pid")).as("still advertised").doesNotExist();
        assertThat(WalPrefetcher.running(pgWal)).isFalse();
        Optional<WalPrefetcher> next = WalPrefetcher.open(archive(memory), pgWal, new WalPrefetcher.Settings(2, 2, SEG),
                f -> { }, m -> { });
        assertThat(next).isPresent();
        next.get().close();
    }
}
