package io.lifeboat.engine.verify;

import io.lifeboat.catalog.BackupId;
import io.lifeboat.catalog.BackupManifest;
import io.lifeboat.catalog.BackupType;
import io.lifeboat.catalog.StoredObject;
import io.lifeboat.codec.Digest;
import io.lifeboat.config.ClusterConfig;
import io.lifeboat.config.ConfigLoader;
import io.lifeboat.engine.Progress;
import io.lifeboat.engine.RepositoryAccess;
import io.lifeboat.postgres.TimelineId;
import io.lifeboat.postgres.WalSegmentName;
import io.lifeboat.storage.Keys;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * verify over two file repositories holding a physical backup (1 MiB WAL segments 1 to 8, the
 * backup's own WAL 2..3): archived WAL is read and checked in each repository, a damaged copy is
 * named with its repository and ends point-in-time recovery there, and the repositories' listings
 * are compared with each other and with the unfinished-grace.
 */
class VerificationTest {
    static final long MB = 1024 * 1024;
    static final BackupId ID = BackupId.parse("20261124T220512Z-P");

    @TempDir
    Path dir;
    RepositoryAccess repo;

    @BeforeEach
    void repositories() throws IOException {
        Files.createDirectories(dir.resolve("a"));
        Files.createDirectories(dir.resolve("b"));
        Path yml = Files.writeString(dir.resolve("lifeboat.yml"), """
                clusters:
                  v:
                    repositories:
                      - name: a
                        uri: file://%s
                        allow-same-server: true
                      - name: b
                        uri: file://%s
                        allow-same-server: true
                """.formatted(dir.resolve("a"), dir.resolve("b")));
        ClusterConfig cfg = ConfigLoader.load(yml, null, Map.of(), Map.of());
        repo = RepositoryAccess.open(cfg, w -> { });
        StoredObject o = repo.pipeline().store(repo.catalog().layout().backupObject(ID, "base.tar.000001.zst"),
                "base.tar.000001.zst", new ByteArrayInputStream(new byte[4096]), 0);
        repo.catalog().writeManifest(manifest(ID, List.of(o)));
        for (int n = 1; n <= 8; n++) {
            archive(n);
        }
    }

    @AfterEach
    void close() {
        repo.close();
    }

    static String seg(long n) {
        return new WalSegmentName(TimelineId.of(1), n, MB).toString();
    }

    static BackupManifest manifest(BackupId id, List<StoredObject> objects) {
        return new BackupManifest(BackupManifest.FORMAT_VERSION, id, BackupType.PHYSICAL, "v", id.time(),
                id.time().plusSeconds(5), 150004, "123", "zstd", "none", objects, null,
                new BackupManifest.PhysicalDetails("0/200028", "0/300100", 1, seg(2), seg(3), "label", false, Map.of(),
                        "0/200060", 1, MB, List.of(), List.of(), null, 0), Map.of());
    }

    /** Archives segment n in every repository, as wal-push stores it. */
    void archive(long n) throws IOException {
        archive(seg(n), n);
    }

    /** Archives a file of this name with content from this seed in every repository. */
    void archive(String name, long seed) throws IOException {
        byte[] b = new byte[(int) MB];
        new Random(seed).nextBytes(b);
        String key = repo.pipeline().storedName(Keys.join(repo.catalog().layout().walPrefix(), name.substring(0, 16), name)
                + ".sha256-" + Digest.sha256(b));
        repo.pipeline().store(key, name, new ByteArrayInputStream(b), 0);
    }

    /** The stored file of segment n in repository r. */
    Path stored(String r, long n) throws IOException {
        try (Stream<Path> s = Files.walk(dir.resolve(r))) {
            return s.filter(p -> p.getFileName().toString().startsWith(seg(n) + ".sha256-")).findFirst().orElseThrow();
        }
    }

    List<Verification.RepositoryReport> verify(Integer sample, Instant now) {
        return new Verification(2, Progress.NONE, Duration.ofHours(24), sample, now).run(repo, null);
    }

    @Test
    void everyArchivedCopyIsReadInEveryRepository() {
        List<Verification.RepositoryReport> r = verify(null, Instant.now());
        for (Verification.RepositoryReport each : r) {
            assertThat(each.allProblems(false)).as(each.name()).isEmpty();
            assertThat(each.walCheck().checked()).isEqualTo(8);
            assertThat(each.walCheck().rawBytes()).isEqualTo(8 * MB);
            assertThat(each.walCheck().sampled()).isFalse();
            assertThat(each.backups().get(0).wal().recoverableTo()).hasToString("0/900000");
        }
    }

    @Test
    void aFlippedByteOrATruncationInOneRepositoryIsNamedThereAndEndsRecoveryThere() throws IOException {
        Path flipped = stored("b", 5);
        byte[] bytes = Files.readAllBytes(flipped);
        bytes[bytes.length / 2] ^= 0x01;
        Files.write(flipped, bytes);
        Path cut = stored("b", 7);
        Files.write(cut, java.util.Arrays.copyOf(Files.readAllBytes(cut), (int) Files.size(cut) / 2));

        List<Verification.RepositoryReport> r = verify(null, Instant.now());
        assertThat(r.get(0).allProblems(false)).as("repository a").isEmpty();
        Verification.RepositoryReport b = r.get(1);
        assertThat(b.damageFound()).isTrue();
        assertThat(b.walCheck().bad()).extracting(ArchivedWalCheck.Bad::name, ArchivedWalCheck.Bad::verdict)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(seg(5), ArchivedWalCheck.Verdict.CORRUPT),
                        org.assertj.core.groups.Tuple.tuple(seg(7), ArchivedWalCheck.Verdict.CORRUPT));
        assertThat(b.problems()).anySatisfy(p -> assertThat(p).startsWith("archived WAL " + seg(5) + " is corrupt: ")
                .contains(flipped.getFileName().toString()));
        assertThat(b.allProblems(true)).allMatch(p -> p.startsWith("repository 'b' ("));
        WalContinuity.Result wal = b.backups().get(0).wal();
        assertThat(wal.damaged()).isFalse();
        assertThat(wal.recoverableTo()).as("point-in-time recovery ends where segment 5 begins").hasToString("0/500000");
        assertThat(wal.problems()).anySatisfy(p -> assertThat(p).startsWith("corrupt " + seg(5) + " (1 segment)"));
        assertThat(wal.hint()).contains("0/500000");
    }

    @Test
    void severalCopiesOfAFileConflictButSeveralPartialCopiesOfASegmentDoNot() throws IOException {
        // the agent's stream stores a growing partial of the unfinished segment; a stop between storing a new one and
        // removing the old one leaves both, and wal-fetch serves the fullest
        archive(seg(9) + ".partial", 91);
        archive(seg(9) + ".partial", 92);
        assertThat(verify(null, Instant.now()).get(0).walCheck().bad()).isEmpty();
        archive(seg(8), 81);
        assertThat(verify(null, Instant.now()).get(0).walCheck().bad())
                .extracting(ArchivedWalCheck.Bad::name, ArchivedWalCheck.Bad::verdict)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(seg(8), ArchivedWalCheck.Verdict.CONFLICT));
    }

    @Test
    void damageInTheBackupsOwnWalMakesItDamaged() throws IOException {
        Path own = stored("a", 3);
        byte[] bytes = Files.readAllBytes(own);
        bytes[bytes.length - 3] ^= 0x40;
        Files.write(own, bytes);
        Verification.BackupReport a = verify(null, Instant.now()).get(0).backups().get(0);
        assertThat(a.damaged()).isTrue();
        assertThat(a.wal().recoverableTo()).isNull();
    }

    @Test
    void aSampleReadsThatManyCopies() {
        Verification.RepositoryReport a = verify(3, Instant.now()).get(0);
        assertThat(a.walCheck().checked()).isEqualTo(3);
        assertThat(a.walCheck().copies()).isEqualTo(8);
        assertThat(a.walCheck().sampled()).isTrue();
        assertThat(verify(0, Instant.now()).get(0).walCheck()).as("--wal-sample 0 reads none").isNull();
    }

    @Test
    void aManifestLostInOneRepositoryIsReportedThere() throws IOException {
        Files.delete(dir.resolve("b").resolve(repo.catalog().layout().manifest(ID)));
        List<Verification.RepositoryReport> r = verify(null, Instant.now());
        assertThat(r.get(0).allProblems(false)).isEmpty();
        assertThat(r.get(1).problems()).anySatisfy(p -> assertThat(p).contains("backup " + ID + " has no manifest here")
                .contains("complete in repository 'a'"));
    }

    @Test
    void manifestsThatDifferAreReported() throws IOException {
        BackupManifest m = repo.members().get(0).catalog().manifest(ID);
        BackupManifest changed = new BackupManifest(m.formatVersion(), m.id(), m.type(), m.cluster(), m.startTime(),
                m.stopTime().plusSeconds(60), m.pgVersionNum(), m.systemIdentifier(), m.compression(), m.encryption(),
                m.objects(), m.logical(), m.physical(), m.extra());
        repo.members().get(1).catalog().writeManifest(changed);
        assertThat(verify(null, Instant.now()).get(1).problems()).anySatisfy(p -> assertThat(p)
                .contains("manifest of backup " + ID + " differs from the one in repository 'a' (stopTime)"));
    }

    @Test
    void anUnfinishedBackupIsANoteWithinTheGraceAndAProblemAfter() throws IOException {
        for (String r : List.of("a", "b")) {
            Files.delete(dir.resolve(r).resolve(repo.catalog().layout().manifest(ID)));
        }
        List<Verification.RepositoryReport> young = verify(null, Instant.now());
        assertThat(young.get(0).problems()).isEmpty();
        assertThat(young.get(0).notes()).anySatisfy(n -> assertThat(n).contains("backup " + ID + " is unfinished")
                .contains("still running"));
        List<Verification.RepositoryReport> old = verify(null, Instant.now().plus(Duration.ofHours(25)));
        assertThat(old.get(0).problems()).anySatisfy(p -> assertThat(p).contains("backup " + ID + " is unfinished")
                .contains("beyond the unfinished-grace of 1d"));
        assertThat(old.get(0).damageFound()).isTrue();
    }
}
