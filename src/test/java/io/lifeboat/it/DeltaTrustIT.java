package io.lifeboat.it;

import io.lifeboat.postgres.PgSession;
import io.lifeboat.postgres.ScratchCluster;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code restore --delta --trust-unchanged}: files nobody wrote since the last restore recorded
 * them are compared by the CRCs of the backup it restored, without being read; a file written since
 * (same size, its mtime set back: only the ctime shows it) is read and put right. The result is
 * byte for byte a plain restore of the same backup, whether the recorded backup is in the restored
 * backup's chain or not.
 */
class DeltaTrustIT {

    @Test
    void filesWrittenSinceTheRecordAreReadAndFixedTheOthersAreComparedByIt() throws Exception {
        try (RestoreScratch w = RestoreScratch.create("delta-trust");
             ScratchCluster pg = ScratchCluster.create(w.work, ScratchCluster.Options.defaults()
                     .withConf("wal_log_hints = on")).start()) {
            String still;
            try (PgSession s = pg.session("postgres")) {
                s.execute("CREATE TABLE big AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 50000) g");
                s.execute("CREATE TABLE still AS SELECT g AS id, repeat('x', 100) AS v FROM generate_series(1, 20000) g");
                s.execute("VACUUM FREEZE"); // no hint bits left to set: 'still' stays as it is
                s.execute("CHECKPOINT");
                still = s.queryValue("SELECT pg_relation_filepath('still')").orElseThrow();
            }
            // The rule trusts a file whose mtime the restore set well (2 s) before its ctime: the restore copies
            // the source's mtimes, so on a fast machine files initdb wrote a moment ago would all be read (as
            // they should), and the test would not see the record used. Let the cluster's files age past that.
            Thread.sleep(2500);
            List<String> common = LocalSourceIT.common(pg, w.repo, "dt");
            String full = (String) IncrementalIT.backup(common, "--full").get("id");
            try (PgSession s = pg.session("postgres")) {
                s.execute("UPDATE big SET v = 'changed' WHERE id <= 500");
                s.execute("CHECKPOINT");
            }
            String inc = (String) IncrementalIT.backup(common, "--incremental").get("id");

            Path copy = w.dataDirectory("copy");
            restore(common, full, copy);
            assertThat(copy.resolve("lifeboat-restored.json")).exists();
            Path incPlain = w.dataDirectory("inc-plain");
            restore(common, inc, incPlain);
            Path fullPlain = w.dataDirectory("full-plain");
            restore(common, full, fullPlain);

            // A page of a relation file the incremental left alone, and a non-relation file, changed in place
            // with their size and mtime kept: only the ctime tells.
            tamper(copy.resolve(still), 8192 + 300);
            tamper(copy.resolve("postgresql.conf"), 10);
            Cli.Result r = restore(common, inc, copy, "--delta", "--trust-unchanged");
            assertThat(r.err()).contains("compared by that backup's CRCs, not read (--trust-unchanged)");
            assertThat(compared(r.err())).as(r.err()).isGreaterThan(500);
            assertSameFiles(incPlain, copy);

            // Back to the full backup: the record now names the incremental, which is not in the full's chain.
            tamper(copy.resolve(still), 300);
            r = restore(common, full, copy, "--delta", "--trust-unchanged");
            assertThat(r.err()).contains("files recorded by the restore of " + inc);
            assertThat(compared(r.err())).as(r.err()).isGreaterThan(500);
            assertSameFiles(fullPlain, copy);

            // Without the option every file is read.
            tamper(copy.resolve(still), 300);
            r = restore(common, full, copy, "--delta");
            assertThat(r.err()).doesNotContain("compared by the record");
            assertSameFiles(fullPlain, copy);
        }
    }

    private static Cli.Result restore(List<String> common, String id, Path dir, String... more) throws Exception {
        List<String> a = new ArrayList<>(List.of("--backup", id, "--data-directory", dir.toString(), "--no-verify"));
        a.addAll(List.of(more));
        Cli.Result r = Cli.run(LocalSourceIT.args(common, "restore", a.toArray(String[]::new)));
        assertThat(r.exit()).as(r.toString()).isZero();
        return r;
    }

    /** Overwrites 16 bytes at {@code at} with others, and sets the mtime back to what it was. */
    private static void tamper(Path file, long at) throws Exception {
        FileTime mtime = Files.getLastModifiedTime(file);
        long size = Files.size(file);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer was = ByteBuffer.allocate(16);
            ch.read(was, at);
            byte[] b = was.array();
            for (int i = 0; i < b.length; i++) {
                b[i] = (byte) ~b[i];
            }
            ch.write(ByteBuffer.wrap(b), at);
        }
        Files.setLastModifiedTime(file, mtime);
        assertThat(Files.size(file)).isEqualTo(size);
    }

    private static long compared(String err) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("; (\\d+) files compared by the record").matcher(err);
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }

    /** Every file under base/, global/ and postgresql.conf has the same bytes in both. */
    private static void assertSameFiles(Path expected, Path actual) throws Exception {
        List<Path> files = new ArrayList<>();
        for (String root : List.of("base", "global")) {
            try (Stream<Path> s = Files.walk(expected.resolve(root))) {
                s.filter(Files::isRegularFile).forEach(files::add);
            }
        }
        files.add(expected.resolve("postgresql.conf"));
        assertThat(files).hasSizeGreaterThan(100);
        for (Path f : files) {
            Path other = actual.resolve(expected.relativize(f));
            assertThat(other).as(other.toString()).exists();
            assertThat(Files.mismatch(f, other)).as(expected.relativize(f).toString()).isEqualTo(-1L);
        }
        try (Stream<Path> s = Files.walk(actual.resolve("base"))) {
            assertThat(s.filter(Files::isRegularFile).count()).as("files under base/")
                    .isEqualTo(files.stream().filter(f -> expected.relativize(f).startsWith("base")).count());
        }
    }
}
