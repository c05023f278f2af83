package io.lifeboat.it;

import io.lifeboat.catalog.Json;
import io.lifeboat.postgres.ContentChecksum;
import io.lifeboat.postgres.ExternalProcess;
import io.lifeboat.postgres.PgBinaries;
import io.lifeboat.postgres.PgSession;
import io.lifeboat.postgres.ScratchCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** Logical backups of several databases on a real cluster, restored and compared table by table. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LogicalRoundTripIT {
    ScratchCluster pg;
    Path repo;

    @BeforeAll
    void start() throws IOException {
        pg = ScratchCluster.create(null, ScratchCluster.Options.defaults()).start();
        repo = Files.createTempDirectory("lifeboat-it-repo-");
        try (PgSession s = pg.session("postgres")) {
            s.execute("CREATE DATABASE shop");
            s.execute("CREATE DATABASE bench");
            s.execute("CREATE DATABASE \"Grüße & spaces\"");
            s.execute("CREATE ROLE shop_owner LOGIN");
        }
        try (InputStream in = LogicalRoundTripIT.class.getClassLoader().getResourceAsStream("io/lifeboat/demo/shop.sql"); PgSession s = pg.session("shop")) {
            s.execute(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            s.execute("ALTER TABLE customers OWNER TO shop_owner");
        }
        PgBinaries.Tool pgbench = new PgBinaries(pg.binDir()).newest("pgbench");
        new ExternalProcess(List.of(pgbench.path().toString(), "-i", "-q", "-s", "2"), pg.connection("bench").libpqEnvironment())
                .runChecked("pgbench -i");
        try (PgSession s = pg.session("Grüße & spaces")) {
            s.execute("CREATE TABLE \"Tabelle ü\" (k int primary key, v text); INSERT INTO \"Tabelle ü\" "
                    + "SELECT i, repeat('ß', i) FROM generate_series(1, 300) i");
        }
    }

    @AfterAll
    void stop() {
        if (pg != null) {
            pg.close();
        }
        ScratchCluster.deleteTree(repo);
    }

    /** The subcommand (first argument) with the options that point it at the test cluster and repository. */
    String[] common(String command, String... more) {
        List<String> a = new java.util.ArrayList<>(List.of(command, "--pg-host", "127.0.0.1", "--pg-port", Integer.toString(pg.port()),
                "--pg-user", "postgres", "--repo", "file://" + repo, "--cluster", "it", "--allow-same-server", "--jobs", "2"));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    Map<String, ContentChecksum.Entry> fingerprint(String db) {
        try (PgSession s = pg.session(db)) {
            return ContentChecksum.of(s);
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void allDatabasesRoundTripTableByTable() throws Exception {
        Map<String, Map<String, ContentChecksum.Entry>> before = new java.util.LinkedHashMap<>();
        for (String db : List.of("shop", "bench", "Grüße & spaces")) {
            before.put(db, fingerprint(db));
        }
        assertThat(before.get("shop")).containsKeys("table public.customers", "table public.orders", "large objects");
        assertThat(before.get("shop").get("large objects").rows()).isEqualTo(20);

        Cli.Result backup = Cli.run(common("backup", "--json", "--type", "logical", "--all-databases"));
        assertThat(backup.exit()).as(backup.toString()).isZero();
        Map<?, ?> summary = Json.MAPPER.readValue(backup.out(), Map.class);
        String id = (String) summary.get("id");
        assertThat(id).endsWith("-L");
        assertThat((List<Object>) summary.get("databases")).contains((Object) "shop", "bench", "Grüße & spaces", "postgres");
        assertThat(backup.err()).contains("WARNING").contains("allow-same-server");

        // Every stored object is a zstd frame; the spool is gone.
        try (Stream<Path> s = Files.walk(repo)) {
            List<Path> data = s.filter(p -> p.toString().endsWith(".zst")).toList();
            assertThat(data).isNotEmpty();
            for (Path p : data) {
                byte[] head = Files.readAllBytes(p);
                assertThat(head[0] & 0xff).isEqualTo(0x28);
                assertThat(head[1] & 0xff).isEqualTo(0xB5);
            }
        }

        try (PgSession s = pg.session("postgres")) {
            s.execute("DROP DATABASE shop");
            s.execute("DROP DATABASE bench");
            s.execute("DROP DATABASE \"Grüße & spaces\"");
        }
        for (String db : before.keySet()) {
            Cli.Result r = Cli.run(common("restore", "--backup", id, "--database", db));
            assertThat(r.exit()).as(r.toString()).isZero();
            assertThat(ContentChecksum.differences(before.get(db), fingerprint(db))).as(db).isEmpty();
        }
        try (PgSession s = pg.session("shop")) {
            assertThat(s.queryValue("SELECT tableowner FROM pg_tables WHERE tablename = 'customers'")).contains("shop_owner");
            assertThat(s.queryValue("SELECT count(*) FROM paid_totals")).isPresent();
        }

        // The same backup restores again under a new name next to the original.
        Cli.Result copy = Cli.run(common("restore", "--backup", id, "--database", "bench", "--target-database", "bench_copy"));
        assertThat(copy.exit()).as(copy.toString()).isZero();
        assertThat(ContentChecksum.differences(before.get("bench"), fingerprint("bench_copy"))).isEmpty();

        Cli.Result list = Cli.run(common("list"));
        assertThat(list.out()).contains(id).contains("complete");
        Cli.Result show = Cli.run(common("show", id));
        assertThat(show.exit()).isZero();
        assertThat(show.out()).contains("globals.sql.zst").contains("toc.dat.zst");
    }

    /**
     * A dump of many small tables is stored as a few tar bundles instead of an object per file; it
     * restores with Lifeboat, and by hand with the standard tools as docs/logical.md shows.
     */
    @Test
    @SuppressWarnings("unchecked")
    void manySmallTablesAreBundledAndRestoreByHand() throws Exception {
        try (PgSession s = pg.session("postgres")) {
            s.execute("CREATE DATABASE many");
        }
        try (PgSession s = pg.session("many")) {
            s.execute("DO $$ BEGIN FOR i IN 1..300 LOOP EXECUTE format('CREATE TABLE t%s (id int PRIMARY KEY, v text); "
                    + "INSERT INTO t%s SELECT g, md5(g::text) FROM generate_series(1, %s) g', i, i, i % 40); END LOOP; END $$");
        }
        Map<String, ContentChecksum.Entry> before = fingerprint("many");
        assertThat(before).hasSizeGreaterThan(300);
        Cli.Result backup = Cli.run(common("backup", "--json", "--type", "logical", "--database", "many", "--no-globals"));
        assertThat(backup.exit()).as(backup.toString()).isZero();
        String id = (String) Json.MAPPER.readValue(backup.out(), Map.class).get("id");
        Path dir = repo.resolve("it/backups/" + id);
        Map<String, Object> manifest = Json.MAPPER.readValue(dir.resolve("manifest.json").toFile(), Map.class);
        assertThat(manifest.get("formatVersion")).isEqualTo(2);
        List<String> paths = ((List<Map<String, Object>>) manifest.get("objects")).stream()
                .map(o -> (String) o.get("path")).toList();
        assertThat(paths).as("300 table data files and toc.dat").contains("db1-many/toc.dat.zst").hasSizeLessThan(10)
                .anyMatch(p -> p.matches("db1-many/bundle-[a-z]*[0-9]+\\.tar(\\.zst)?"));

        Cli.Result r = Cli.run(common("restore", "--backup", id, "--target-database", "many_restored"));
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(ContentChecksum.differences(before, fingerprint("many_restored"))).isEmpty();

        // By hand, as docs/logical.md says: check, decompress, unpack the bundles, pg_restore.
        Path copy = Files.createTempDirectory("lifeboat-by-hand-");
        try {
            PgBinaries bins = new PgBinaries(pg.binDir());
            String script = "set -e; cp -r " + dir + "/. " + copy + "/; cd " + copy + "; "
                    + "jq -r '.objects[] | \"\\(.sha256)  \\(.path)\"' manifest.json | sha256sum -c --quiet -; "
                    + "find . -name '*.zst' -exec zstd -d --rm -q {} \\; ; "
                    + "for t in db*/bundle-*.tar; do tar -xf \"$t\" -C \"$(dirname \"$t\")\" && rm \"$t\"; done; "
                    + bins.newest("createdb").path() + " -T template0 many_by_hand; "
                    + bins.newest("pg_restore").path() + " -j2 -d many_by_hand db1-many";
            ExternalProcess.Result byHand = new ExternalProcess(List.of("sh", "-c", script),
                    pg.connection("postgres").libpqEnvironment()).run();
            assertThat(byHand.exitCode()).as(byHand.stdout() + byHand.stderr()).isZero();
            assertThat(ContentChecksum.differences(before, fingerprint("many_by_hand"))).isEmpty();
        } finally {
            ScratchCluster.deleteTree(copy);
        }
    }

    @Test
    void globalsBringBackForgottenRoles() throws Exception {
        Cli.Result backup = Cli.run(common("backup", "--json", "--type", "logical", "--database", "shop"));
        assertThat(backup.exit()).as(backup.toString()).isZero();
        String id = (String) Json.MAPPER.readValue(backup.out(), Map.class).get("id");
        // A fresh server without the role: restore fails without globals, works with them.
        try (ScratchCluster other = ScratchCluster.create(null, ScratchCluster.Options.defaults()).start()) {
            String[] target = {"--pg-host", "127.0.0.1", "--pg-port", Integer.toString(other.port()), "--pg-user", "postgres",
                    "--repo", "file://" + repo, "--cluster", "it", "--allow-same-server"};
            Cli.Result noRoles = Cli.run(concat("restore", target, "--backup", id, "--target-database", "s1"));
            assertThat(noRoles.exit()).as(noRoles.toString()).isEqualTo(11);
            assertThat(noRoles.err()).contains("--globals");
            Cli.Result withRoles = Cli.run(concat("restore", target, "--backup", id, "--target-database", "s2", "--globals"));
            assertThat(withRoles.exit()).as(withRoles.toString()).isZero();
            try (PgSession s = other.session("s2")) {
                assertThat(s.queryValue("SELECT tableowner FROM pg_tables WHERE tablename = 'customers'")).contains("shop_owner");
                assertThat(ContentChecksum.of(s)).isEqualTo(fingerprint("shop"));
            }
        }
    }

    static String[] concat(String command, String[] a, String... b) {
        return Stream.concat(Stream.concat(Stream.of(command), Stream.of(a)), Stream.of(b)).toArray(String[]::new);
    }
}
