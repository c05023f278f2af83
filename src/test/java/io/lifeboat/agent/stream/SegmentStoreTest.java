package io.lifeboat.agent.stream;

import io.lifeboat.catalog.RepositoryLayout;
import io.lifeboat.codec.Compression;
import io.lifeboat.codec.Digest;
import io.lifeboat.codec.Encryption;
import io.lifeboat.engine.ObjectPipeline;
import io.lifeboat.engine.archive.WalArchive;
import io.lifeboat.postgres.Lsn;
import io.lifeboat.postgres.TestWal;
import io.lifeboat.postgres.TimelineId;
import io.lifeboat.postgres.WalFileName;
import io.lifeboat.storage.MemoryStorage;
import io.lifeboat.storage.ObjectInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the stream stores as a segment arrives: pieces that restore_command serves at every step,
 * the pieces a larger one replaces deleted, and the whole segment stored from the frames already
 * compressed, with the checksum of the whole segment.
 */
class SegmentStoreTest {
    static final int SEG = 16 << 20;
    static final String SYSID = "7000000000000000002";
    @TempDir
    Path dir;
    final MemoryStorage storage = new MemoryStorage();
    final WalArchive archive = new WalArchive(storage, new RepositoryLayout("main"),
            new ObjectPipeline(storage, Compression.ZSTD, 1, Encryption.NONE));

    static byte[] wal() {
        byte[] b = new byte[SEG];
        Random r = new Random(5);
        for (int i = 64; i < b.length; i++) {
            b[i] = (byte) (i % 40 < 10 ? r.nextInt(256) : i % 11);
        }
        return TestWal.withHeader(b, "000000010000000000000003", SYSID);
    }

    /**
     * Feeds the segment to an assembler in chunks ending at {@code cuts}, storing a partial after
     * each; after every {@code checkEvery}-th and the last, what restore_command serves must be the
     * WAL so far and zeros.
     */
    void feed(SegmentStore store, byte[] wal, int checkEvery, int... cuts) throws IOException {
        SegmentAssembler a = new SegmentAssembler(TimelineId.of(1), SEG, new Lsn(3L * SEG));
        int at = 0;
        for (int i = 0; i < cuts.length; i++) {
            int cut = cuts[i];
            List<SegmentAssembler.Piece> whole = new ArrayList<>();
            a.append(3L * SEG + at, Arrays.copyOfRange(wal, at, cut), cut - at, whole::add);
            at = cut;
            for (SegmentAssembler.Piece w : whole) {
                store.store(w);
            }
            SegmentAssembler.Piece p = a.partial();
            if (p != null) {
                store.store(p);
            }
            if (i % checkEvery == 0 || i == cuts.length - 1) {
                Path t = dir.resolve("f");
                archive.fetch(WalFileName.parse("000000010000000000000003"), t, true);
                assertThat(Arrays.equals(Files.readAllBytes(t), prefix(wal, cut))).as("served after %d bytes", cut).isTrue();
            }
        }
    }

    List<String> keys() throws IOException {
        return storage.list("main/wal/").stream().map(ObjectInfo::key).toList();
    }

    static byte[] prefix(byte[] wal, int n) {
        byte[] b = new byte[SEG];
        System.arraycopy(wal, 0, b, 0, n);
        return b;
    }

    @Test
    void eachPartialReplacesTheOneBeforeAndTheWholeSegmentReplacesThemAll() throws IOException {
        byte[] wal = wal();
        SegmentStore store = new SegmentStore(archive, SYSID, false, Duration.ofSeconds(10), Runnable::run, l -> { });
        feed(store, wal, 1, 100_000, 2_500_000, 9_000_000);
        assertThat(keys()).singleElement().asString().contains(".partial.sha256-" + Digest.sha256(wal, 0, 9_000_000)
                + ".bytes-00000000-00895440.zst");
        SegmentAssembler a = new SegmentAssembler(TimelineId.of(1), SEG, new Lsn(3L * SEG));
        List<SegmentAssembler.Piece> whole = new ArrayList<>();
        a.append(3L * SEG, wal, SEG, whole::add);
        store.store(whole.get(0));
        assertThat(keys()).containsExactly("main/wal/0000000100000000/000000010000000000000003.sha256-"
                + Digest.sha256(wal) + ".zst");
    }

    @Test
    void aSynchronousStreamStoresSmallDeltasThatABasePieceGathersNowAndThen() throws IOException {
        byte[] wal = wal();
        SegmentStore store = new SegmentStore(archive, SYSID, true, Duration.ofHours(1), Runnable::run, l -> { });
        int[] cuts = new int[SegmentStore.COMPACT_PIECES + 3];
        for (int i = 0; i < cuts.length; i++) {
            cuts[i] = 1000 + 200 * i;
        }
        feed(store, wal, 97, cuts);
        // one base piece (COMPACT_PIECES deltas before it) and the deltas after it
        List<String> keys = keys();
        assertThat(keys).hasSize(3);
        assertThat(keys).filteredOn(k -> k.contains(".bytes-00000000-")).singleElement().asString()
                .contains(String.format(".bytes-00000000-%08X.", cuts[SegmentStore.COMPACT_PIECES]));
        // a megabyte of WAL in deltas: a base piece again
        feed(store, wal, 1, cuts[cuts.length - 1] + SegmentStore.COMPACT_BYTES + 1);
        assertThat(keys()).singleElement().asString().contains(".bytes-00000000-");
    }
}
