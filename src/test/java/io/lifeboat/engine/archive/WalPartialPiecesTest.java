package io.lifeboat.engine.archive;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.RepositoryLayout;
import io.lifeboat.codec.AgeEncryption;
import io.lifeboat.codec.AgeScrypt;
import io.lifeboat.codec.Compression;
import io.lifeboat.codec.Digest;
import io.lifeboat.codec.Encryption;
import io.lifeboat.codec.Passphrase;
import io.lifeboat.engine.ObjectPipeline;
import io.lifeboat.engine.Progress;
import io.lifeboat.engine.verify.ArchivedWalCheck;
import io.lifeboat.postgres.TestWal;
import io.lifeboat.postgres.WalFileName;
import io.lifeboat.postgres.WalSegmentName;
import io.lifeboat.storage.MemoryStorage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A partial segment stored as pieces (what the agent's stream writes): restore_command gets a
 * verified file of exactly the segment size, the WAL the pieces hold and zeros after it; a hole is
 * refused; verify reads pieces as one partial segment, not as conflicting copies.
 */
class WalPartialPiecesTest {
    static final int SEG = 16 << 20;
    static final String SYSID = "7000000000000000001";
    static final WalSegmentName FIVE = WalSegmentName.parse("000000010000000000000005");
    @TempDir
    Path dir;

    /** A segment of which the first {@code valid} bytes are WAL (a page header, then noise and repetition). */
    static byte[] segment(int valid) {
        byte[] b = new byte[SEG];
        Random r = new Random(valid);
        for (int i = 64; i < valid; i++) {
            b[i] = (byte) (i % 50 < 20 ? r.nextInt(256) : i % 13);
        }
        return TestWal.withHeader(b, FIVE.toString(), SYSID);
    }

    static WalArchive archive(MemoryStorage storage, Encryption e) {
        return new WalArchive(storage, new RepositoryLayout("main"), new ObjectPipeline(storage, Compression.ZSTD, 1, e));
    }

    static String sha(byte[] b, int from, int to) {
        return Digest.sha256(b, from, to - from);
    }

    /** Stores [0, a) as a base piece from two frames, and deltas [a, b) and [b, c). */
    static void pieces(WalArchive archive, byte[] data, int a, int b, int c) throws IOException {
        byte[] first = archive.compressFrame(data, 0, a / 2);
        archive.pushPiece(FIVE, data, 0, a, sha(data, 0, a), List.of(first), a / 2);
        archive.pushPiece(FIVE, data, a, b, sha(data, a, b), List.of(), a);
        archive.pushPiece(FIVE, data, b, c, sha(data, b, c), List.of(), b);
    }

    @Test
    void piecesAreServedAsTheSegmentZeroPaddedToTheSizeItsHeaderGives() throws IOException {
        for (Encryption e : List.of(Encryption.NONE, new AgeEncryption(List.of(), null, Passphrase.ofEnvironment("pw"),
                AgeScrypt.MIN_WORK_FACTOR))) {
            MemoryStorage storage = new MemoryStorage();
            WalArchive archive = archive(storage, e);
            byte[] data = segment(700_001);
            pieces(archive, data, 300_000, 300_123, 700_001);
            assertThat(archive.names()).containsOnly("000000010000000000000005.partial");
            assertThat(storage.list("main/wal/")).allMatch(o -> o.key().contains(".bytes-")).hasSize(3);
            Path target = dir.resolve("RECOVERYXLOG");
            assertThat(archive.fetch(WalFileName.parse(FIVE.toString()), target, true)).isEqualTo(WalArchive.Fetched.PARTIAL);
            byte[] got = Files.readAllBytes(target);
            assertThat(got).hasSize(SEG);
            assertThat(Arrays.equals(got, data)).as("the WAL and zeros to the segment size").isTrue();
            // verify: every piece checks against its own checksum; pieces of one segment are not conflicting copies
            ArchivedWalCheck.Result r = ArchivedWalCheck.run(archive, archive.copies(), null, 2, Progress.NONE);
            assertThat(r.checked()).isEqualTo(3);
            assertThat(r.bad()).isEmpty();
            assertThat(r.rawBytes()).isEqualTo(700_001);
        }
    }

    @Test
    void aWholeSegmentMadeOfTheStreamsFramesIsTheSegment() throws IOException {
        MemoryStorage storage = new MemoryStorage();
        WalArchive archive = archive(storage, Encryption.NONE);
        byte[] data = segment(SEG);
        List<byte[]> frames = List.of(archive.compressFrame(data, 0, 1000), archive.compressFrame(data, 1000, 5_000_000));
        archive.push(WalFileName.parse(FIVE.toString()), data, SEG, sha(data, 0, SEG), frames, 5_001_000);
        Path target = dir.resolve("seg");
        assertThat(archive.fetch(WalFileName.parse(FIVE.toString()), target, true)).isEqualTo(WalArchive.Fetched.SEGMENT);
        assertThat(Arrays.equals(Files.readAllBytes(target), data)).isTrue();
        // the same segment pushed by archive_command is the same file: stored once
        assertThat(archive.push(WalFileName.parse(FIVE.toString()), data, SEG)).isEqualTo(WalArchive.PushOutcome.ALREADY_ARCHIVED);
    }

    @Test
    void aMissingPieceIsAHoleThatStopsRecoveryAndVerifySaysSo() throws IOException {
        MemoryStorage storage = new MemoryStorage();
        WalArchive archive = archive(storage, Encryption.NONE);
        byte[] data = segment(700_001);
        pieces(archive, data, 300_000, 300_123, 700_001);
        String middle = storage.list("main/wal/").stream().map(o -> o.key()).filter(k -> k.contains(".bytes-000493E0-"))
                .findFirst().orElseThrow();
        storage.delete(middle);
        assertThatThrownBy(() -> archive.fetch(WalFileName.parse(FIVE.toString()), dir.resolve("x"), true))
                .isInstanceOfSatisfying(LifeboatException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.CONFLICT);
                    assertThat(e.getMessage()).contains("lacks its bytes 0x493E0 to 0x4945B", "hole");
                });
        assertThat(dir.resolve("x")).doesNotExist();
        ArchivedWalCheck.Result r = ArchivedWalCheck.run(archive, archive.copies(), null, 2, Progress.NONE);
        assertThat(r.bad()).singleElement().satisfies(b -> {
            assertThat(b.verdict()).isEqualTo(ArchivedWalCheck.Verdict.INCOMPLETE);
            assertThat(b.name()).isEqualTo("000000010000000000000005.partial");
        });
    }

    @Test
    void aDamagedPieceIsCorruptNeverServed() throws IOException {
        MemoryStorage storage = new MemoryStorage();
        WalArchive archive = archive(storage, Encryption.NONE);
        byte[] data = segment(700_001);
        pieces(archive, data, 300_000, 300_123, 700_001);
        String last = storage.list("main/wal/").stream().map(o -> o.key()).filter(k -> k.contains("-000AAE61.")).findFirst()
                .orElseThrow();
        // a piece whose content is another piece's (right format, wrong bytes)
        storage.put(last, archive.compressFrame(data, 0, 400_000));
        assertThatThrownBy(() -> archive.fetch(WalFileName.parse(FIVE.toString()), dir.resolve("y"), true))
                .isInstanceOfSatisfying(LifeboatException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.CORRUPT);
                    assertThat(e.getMessage()).contains(last);
                });
        assertThat(dir.resolve("y")).doesNotExist();
    }

    @Test
    void aWholeFileCopyBesideThePiecesIsServedOnlyWhenItHoldsMore() throws IOException {
        MemoryStorage storage = new MemoryStorage();
        WalArchive archive = archive(storage, Encryption.NONE);
        byte[] data = segment(700_001);
        pieces(archive, data, 300_000, 300_123, 700_001);
        // a partial stored by an older agent: the whole zero-padded segment, holding less
        archive.push(WalFileName.parse(FIVE + ".partial"), segment(200_000), SEG);
        Path target = dir.resolve("z");
        archive.fetch(WalFileName.parse(FIVE.toString()), target, true);
        assertThat(Arrays.equals(Files.readAllBytes(target), data)).isTrue();
        // the server's own .partial at a promotion, holding more
        byte[] more = segment(900_000);
        archive.push(WalFileName.parse(FIVE + ".partial"), more, SEG);
        archive.fetch(WalFileName.parse(FIVE.toString()), target, true);
        assertThat(Arrays.equals(Files.readAllBytes(target), more)).isTrue();
    }
}
