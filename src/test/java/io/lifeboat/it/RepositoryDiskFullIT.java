package io.lifeboat.it;

import io.lifeboat.postgres.ExternalProcess;
import io.lifeboat.postgres.PgSession;
import io.lifeboat.postgres.ScratchCluster;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A file repository whose disk fills up in the middle of a local-mode backup (a small tmpfs the
 * test mounts, as root): a clear STORAGE error (exit 6) naming the object and saying the disk is
 * full, nothing listed complete, no object or temporary file of the failed backup left, and the
 * earlier backup untouched (it verifies); once there is room, the next backup works. And a chain
 * restore onto a full disk.
 */
class RepositoryDiskFullIT {
    @Test
    void aRepositoryDiskThatFillsUpDuringABackupFailsCleanlyAndKeepsTheEarlierBackup() throws Exception {
        Assumptions.assumeTrue(ExternalProcess.runningAsRoot(), "needs root to mount a small tmpfs");
        try (RestoreScratch w = RestoreScratch.create("repo-full");
             ScratchCluster pg = ScratchCluster.create(w.work, ScratchCluster.Options.defaults()).start()) {
            Path small = Files.createDirectory(w.work.resolve("small-repo"));
            ExternalProcess.Result mount = new ExternalProcess(List.of("mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs",
                    small.toString()), Map.of()).run();
            Assumptions.assumeTrue(mount.ok(), "cannot mount tmpfs: " + mount.stderr());
            try {
                List<String> common = LocalSourceIT.common(pg, small, "df");
                String first = (String) IncrementalIT.backup(common, "--full").get("id");
                List<String> before = files(small);
                try (PgSession s = pg.session("postgres")) {
                    // about 60 MB of hex text (half of it after zstd): more than the disk has left
                    s.execute("CREATE TABLE filler AS SELECT g, md5(random()::text) || md5(random()::text) "
                            + "|| md5(random()::text) || md5(random()::text) AS t FROM generate_series(1, 400000) g");
                }
                Cli.Result r = Cli.run(LocalSourceIT.args(common, "backup", "--type", "physical", "--source", "local",
                        "--include-wal", "--jobs", "2", "--full"));
                assertThat(r.exit()).as(r.toString()).isEqualTo(6);
                assertThat(r.err()).contains("cannot write object").contains("No space left on device")
                        .contains("file system is full").doesNotContain("damaged");

                Cli.Result list = Cli.run(LocalSourceIT.args(common, "list"));
                List<String> rows = list.out().lines().filter(l -> l.matches("^\\d{8}T\\d{6}Z-P.*")).toList();
                assertThat(rows).as(list.out()).hasSize(1);
                assertThat(rows.get(0)).startsWith(first).doesNotContain("unfinished");
                assertThat(files(small)).as("what the repository holds after the failed backup").isEqualTo(before);

                Cli.Result verify = Cli.run(LocalSourceIT.args(common, "verify", "--backup", first));
                assertThat(verify.exit()).as(verify.toString()).isZero();

                try (PgSession s = pg.session("postgres")) {
                    s.execute("DROP TABLE filler");
                    s.execute("CHECKPOINT");
                }
                assertThat((String) IncrementalIT.backup(common, "--full").get("id")).isNotEqualTo(first);
            } finally {
                new ExternalProcess(List.of("umount", small.toString()), Map.of()).run();
            }
        }
    }

    /**
     * A restore of an incremental (put together block by block from its chain, not from tar
     * archives) onto a disk that fills up: RESOURCE (exit 10) naming the path, never "damaged", and
     * nothing left behind on that disk.
     */
    @Test
    void aChainRestoreOntoADiskThatFillsUpIsAResourceErrorAndLeavesNothing() throws Exception {
        Assumptions.assumeTrue(ExternalProcess.runningAsRoot(), "needs root to mount a small tmpfs");
        try (RestoreScratch w = RestoreScratch.create("restore-full");
             ScratchCluster pg = ScratchCluster.create(w.work, ScratchCluster.Options.defaults()
                     .withConf("wal_log_hints = on")).start()) {
            List<String> common = LocalSourceIT.common(pg, w.repo, "rf");
            IncrementalIT.backup(common, "--full");
            try (PgSession s = pg.session("postgres")) {
                s.execute("CREATE TABLE t AS SELECT g FROM generate_series(1, 100000) g");
            }
            String incr = (String) IncrementalIT.backup(common, "--incremental").get("id");
            Path small = Files.createDirectory(w.work.resolve("small-disk"));
            ExternalProcess.Result mount = new ExternalProcess(List.of("mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs",
                    small.toString()), Map.of()).run();
            Assumptions.assumeTrue(mount.ok(), "cannot mount tmpfs: " + mount.stderr());
            try {
                Path target = small.resolve("data");
                Cli.Result r = Cli.run(LocalSourceIT.args(common, "restore", "--backup", incr, "--data-directory",
                        target.toString(), "--skip-space-check"));
                assertThat(r.exit()).as(r.toString()).isEqualTo(10);
                assertThat(r.err()).contains(target.toString()).contains("No space left on device")
                        .doesNotContain("damaged");
                try (Stream<Path> left = Files.list(small)) {
                    assertThat(left).isEmpty();
                }
            } finally {
                new ExternalProcess(List.of("umount", small.toString()), Map.of()).run();
            }
        }
    }

    /** Every file under the repository (temporary files included), relative. */
    private static List<String> files(Path root) throws Exception {
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(Files::isRegularFile).map(p -> root.relativize(p).toString()).sorted().toList();
        }
    }
}
