package io.lifeboat.engine.physical;

import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.BackupId;
import io.lifeboat.catalog.BackupManifest;
import io.lifeboat.catalog.BackupType;
import io.lifeboat.catalog.FileIndex;
import io.lifeboat.catalog.StoredObject;
import io.lifeboat.codec.Compression;
import io.lifeboat.codec.Crc32c;
import io.lifeboat.codec.Encryption;
import io.lifeboat.engine.ObjectPipeline;
import io.lifeboat.postgres.Lsn;
import io.lifeboat.postgres.TarStreamWatcher;
import io.lifeboat.storage.MemoryStorage;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The pieces of block-level incrementals: the tar writer, the block choice, the chain resolution. */
class IncrementalPiecesTest {
    private static final int BS = 8192;

    @Test
    void tarWriterOutputIsReadByTarToolsAndSaysWhereContentStarts() throws Exception {
        MemoryStorage st = new MemoryStorage();
        ObjectPipeline p = new ObjectPipeline(st, Compression.NONE, 0, Encryption.NONE);
        String longName = "pg_tblspc/16400/" + "d".repeat(120) + "/16385";
        String noSlash = "x".repeat(130);
        String longLink = "/srv/" + "t".repeat(150);
        List<Long> offsets = new ArrayList<>();
        byte[] content = "hello, tar".getBytes();
        List<String> chunks;
        try (ParallelUploader up = new ParallelUploader(p, path -> "b/" + path, 2)) {
            ChunkedArchive a = new ChunkedArchive("base.tar", up, new ChunkedArchive.BufferPool(1024, 4), null);
            TarWriter t = new TarWriter(a);
            t.directory("base", 0700, 1000, 26, 26);
            for (String name : List.of("base/1", longName, noSlash)) {
                offsets.add(t.file(name, content.length, 0600, 1_700_000_000L, 26, 26));
                t.data(content, 0, content.length);
                t.endFile(content.length);
            }
            t.link("pg_tblspc/16400", longLink, 0777, 1000, 26, 26);
            t.finish();
            chunks = a.close();
            up.finish();
        }
        ByteArrayOutputStream raw = new ByteArrayOutputStream();
        for (String c : chunks) {
            raw.writeBytes(st.get("b/" + c));
        }
        byte[] tar = raw.toByteArray();
        for (long off : offsets) {
            assertThat(new String(tar, (int) off, content.length)).isEqualTo("hello, tar");
        }
        List<String> names = new ArrayList<>();
        try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(tar))) {
            TarArchiveEntry e;
            while ((e = in.getNextEntry()) != null) {
                names.add(e.getName() + (e.isSymbolicLink() ? " -> " + e.getLinkName() : ""));
                if (e.isFile() && !e.isSymbolicLink()) {
                    assertThat(new String(in.readAllBytes())).as(e.getName() + " " + e.getSize()).isEqualTo("hello, tar");
                    assertThat(e.getMode() & 0777).isEqualTo(0600);
                    assertThat(e.getModTime().toInstant()).isEqualTo(Instant.ofEpochSecond(1_700_000_000L));
                }
            }
        }
        assertThat(names).containsExactly("base/", "base/1", longName, noSlash, "pg_tblspc/16400 -> " + longLink);
        TarStreamWatcher w = new TarStreamWatcher(Set.of());
        w.feed(tar, 0, tar.length);
        assertThat(w.terminated()).isTrue();
    }

    private static byte[] page(long lsn) {
        byte[] b = new byte[BS];
        for (int i = 0; i < 4; i++) {
            b[i] = (byte) ((lsn >>> 32) >>> (8 * i));
            b[4 + i] = (byte) (lsn >>> (8 * i));
        }
        for (int i = 8; i < BS; i++) {
            b[i] = (byte) (lsn * 31 + i);
        }
        return b;
    }

    @Test
    void anIncrementalKeepsBlocksChangedSinceTheParentStartedNewPagesAndBlocksBeyondTheParent(@TempDir Path dir)
            throws Exception {
        long parentStart = 0x1_0000_0000L + 0x500;
        long[] lsns = {parentStart - 1, parentStart, 0, 0x5_0000_0000L, parentStart - 0x100, 7, 7};
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        for (long l : lsns) {
            file.writeBytes(page(l));
        }
        Path f = dir.resolve("16385");
        Files.write(f, file.toByteArray());
        PieceReader.BlockRule rule = new PieceReader.BlockRule(6, new Lsn(parentStart));
        byte[] buf = new byte[lsns.length * BS + BS];
        PieceReader.Piece p = PieceReader.read(f, 0, lsns.length * BS + BS, buf, rule, BS); // one block more than there is
        // kept: 1 (at the start), 2 (LSN 0, a new page), 3 (after), 6 (the parent has 6 blocks), 7 (zeros past the end)
        assertThat(p.runCount()).isEqualTo(2);
        assertThat(new long[] {p.runs()[0], p.runs()[1], p.runs()[2], p.runs()[3]}).containsExactly(1, 3, 6, 2);
        assertThat(p.length()).isEqualTo(5 * BS);
        assertThat(p.crcCount()).isEqualTo(5);
        assertThat(Crc32c.of(p.data(), 0, BS)).isEqualTo(Crc32c.of(page(parentStart), 0, BS));
        assertThat(p.crcs()[0]).isEqualTo(Crc32c.of(page(parentStart), 0, BS));
        assertThat(p.crcs()[4]).isEqualTo(Crc32c.of(new byte[BS], 0, BS));

        PieceReader.Piece all = PieceReader.read(f, 0, lsns.length * BS, new byte[lsns.length * BS],
                PieceReader.BlockRule.ALL, BS);
        assertThat(all.runCount()).isEqualTo(1);
        assertThat(all.length()).isEqualTo(lsns.length * BS);

        PieceReader.Piece gone = PieceReader.read(dir.resolve("no-such"), 0, BS, new byte[BS], null, BS);
        assertThat(gone.gone()).isTrue();
    }

    @Test
    void aBlockWithAnOldLsnIsLeftToTheChainOnlyWhereItsBytesAreTheChains(@TempDir Path dir) throws Exception {
        long parentStart = 0x2_0000_0000L;
        long[] lsns = {parentStart - 10, parentStart - 20, parentStart - 30};
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        for (long l : lsns) {
            file.writeBytes(page(l));
        }
        Path f = dir.resolve("16386");
        Files.write(f, file.toByteArray());
        // The chain holds blocks 0 and 2 as they are, block 1 with other bytes (another history, the same LSN).
        byte[] other = page(lsns[1]);
        other[BS - 1] ^= 1;
        int[] chain = {Crc32c.of(page(lsns[0]), 0, BS), Crc32c.of(other, 0, BS), Crc32c.of(page(lsns[2]), 0, BS)};
        PieceReader.Piece p = PieceReader.read(f, 0, 3 * BS, new byte[3 * BS],
                new PieceReader.BlockRule(3, new Lsn(parentStart), chain), BS);
        assertThat(p.runCount()).isEqualTo(1);
        assertThat(new long[] {p.runs()[0], p.runs()[1]}).containsExactly(1, 1);
        assertThat(p.olderButDifferent()).isEqualTo(1);
        assertThat(p.crcs()[0]).isEqualTo(Crc32c.of(page(lsns[1]), 0, BS));

        PieceReader.Piece unchecked = PieceReader.read(f, 0, 3 * BS, new byte[3 * BS],
                new PieceReader.BlockRule(3, new Lsn(parentStart)), BS);
        assertThat(unchecked.runCount()).as("without the chain's CRCs only the LSN decides").isZero();
    }

    /** An index entry holding blocks {@code stored} (in runs of consecutive numbers) of a file of {@code blocks} blocks. */
    private static FileIndex.Entry blockEntry(String path, long blocks, long inode, int... stored) {
        List<long[]> runs = new ArrayList<>();
        int[] crcs = new int[stored.length];
        long offset = 512;
        for (int i = 0; i < stored.length; i++) {
            crcs[i] = stored[i] * 1000 + (int) inode;
            if (!runs.isEmpty() && runs.get(runs.size() - 1)[0] + runs.get(runs.size() - 1)[1] == stored[i]) {
                runs.get(runs.size() - 1)[1]++;
            } else {
                runs.add(new long[] {stored[i], 1, offset});
            }
            offset += BS + 512;
        }
        return new FileIndex.Entry(path, "f", 0600, 0, inode, blocks * BS, null, stored.length == 0 ? null : "base.tar",
                0, 0, true, runs, FileIndex.packCrcs(crcs, crcs.length), null);
    }

    private static ChainView.Link link(String id, FileIndex.Entry... entries) {
        BackupManifest m = new BackupManifest(1, BackupId.parse(id), BackupType.PHYSICAL, "c", Instant.EPOCH, Instant.EPOCH,
                150000, "1", "none", "none", List.<StoredObject>of(), null, null, Map.of());
        return ChainView.Link.of(m, new FileIndex(1, BS, List.of(entries)));
    }

    @Test
    void eachBlockComesFromTheNewestBackupThatHoldsIt() {
        ChainView chain = new ChainView(List.of(
                link("20260101T000000Z-P", blockEntry("base/5/16385", 4, 1, 0, 1, 2, 3)),
                link("20260102T000000Z-P", blockEntry("base/5/16385", 5, 2, 2, 4)),
                link("20260103T000000Z-P", blockEntry("base/5/16385", 5, 3, 1))));
        ChainView.Resolved r = chain.resolve(chain.entry("base/5/16385"));
        assertThat(r.extents()).extracting(ChainView.Extent::fileOffset, ChainView.Extent::length, ChainView.Extent::link)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(0L, (long) BS, 0),
                        org.assertj.core.groups.Tuple.tuple((long) BS, (long) BS, 2),
                        org.assertj.core.groups.Tuple.tuple(2L * BS, (long) BS, 1),
                        org.assertj.core.groups.Tuple.tuple(3L * BS, (long) BS, 0),
                        org.assertj.core.groups.Tuple.tuple(4L * BS, (long) BS, 1));
        assertThat(r.blockCrcs()).containsExactly(1, 1003, 2002, 3001, 4002);
        assertThat(r.crc()).isEqualTo(ChainView.wholeCrc(new int[] {1, 1003, 2002, 3001, 4002}, 5, BS));

        // A file that shrank takes only the blocks it still has.
        ChainView shrunk = new ChainView(List.of(
                link("20260101T000000Z-P", blockEntry("base/5/16385", 4, 1, 0, 1, 2, 3)),
                link("20260102T000000Z-P", blockEntry("base/5/16385", 2, 2))));
        assertThat(shrunk.resolve(shrunk.entry("base/5/16385")).extents()).hasSize(1)
                .first().extracting(ChainView.Extent::length).isEqualTo(2L * BS);
    }

    @Test
    void aChainThatCannotSupplyABlockFailsNamingTheBackups() {
        ChainView beyond = new ChainView(List.of(
                link("20260101T000000Z-P", blockEntry("base/5/16385", 2, 1, 0, 1)),
                link("20260102T000000Z-P", blockEntry("base/5/16385", 3, 2))));
        assertThatThrownBy(() -> beyond.resolve(beyond.entry("base/5/16385"))).isInstanceOf(LifeboatException.class)
                .hasMessageContaining("20260102T000000Z-P takes block 2").hasMessageContaining("20260101T000000Z-P");
        ChainView missing = new ChainView(List.of(
                link("20260101T000000Z-P"),
                link("20260102T000000Z-P", blockEntry("base/5/16385", 1, 2))));
        assertThatThrownBy(() -> missing.resolve(missing.entry("base/5/16385")))
                .hasMessageContaining("does not have that file");
        ChainView fullWithout = new ChainView(List.of(link("20260101T000000Z-P", blockEntry("base/5/16385", 2, 1, 0))));
        assertThatThrownBy(() -> fullWithout.resolve(fullWithout.entry("base/5/16385")))
                .hasMessageContaining("full backup of its chain but does not hold every block");
    }
}
