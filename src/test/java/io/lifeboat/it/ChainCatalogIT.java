package io.lifeboat.it;

import io.lifeboat.catalog.Json;
import io.lifeboat.postgres.PgSession;
import io.lifeboat.postgres.ScratchCluster;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A chain of incremental backups in the catalog, on a real cluster archiving through wal-push:
 * list shows the chains, delete refuses a backup others are put together from, expire keeps whole
 * chains, verify of an incremental checks its chain, the restore drill restores the newest
 * incremental; a damaged or deleted parent is refused by name, and a full backup starts over.
 */
class ChainCatalogIT {

    @Test
    void chainsInListDeleteExpireVerifyAndDrills() throws Exception {
        try (RestoreScratch w = RestoreScratch.create("chain-catalog", "chain");
             LauncherProperty ignored = LauncherProperty.set();
             ScratchCluster pg = ScratchCluster.create(w.work, ScratchCluster.Options.defaults().withConf("wal_log_hints = on"))) {
            Path config = LocalSourceIT.localConfig(w.work.resolve("lifeboat.yml"), "chain", pg.port(), w.repo, "");
            pg.appendConf("archive_mode = on", "archive_command = '" + LauncherProperty.LAUNCHER + " wal-push --config "
                    + config + " --cluster chain %p'");
            pg.start();
            try (PgSession s = pg.session("postgres")) {
                s.execute("CREATE TABLE t (i int PRIMARY KEY, pad text)");
                s.execute("INSERT INTO t SELECT g, repeat('a', 100) FROM generate_series(1, 20000) g");
            }
            String full = backup(config, "--full");
            change(pg, 1);
            String first = backup(config, "--incremental");
            change(pg, 2);
            String second = backup(config, "--incremental");

            Cli.Result list = Cli.run(cmd(config, "list"));
            assertThat(list.out()).as(list.toString()).contains(full).contains("full, lsn")
                    .contains("incremental of " + full + " (chain of 2)").contains("incremental of " + first + " (chain of 3)");

            Cli.Result del = Cli.run(cmd(config, "delete", full));
            assertThat(del.exit()).as(del.toString()).isEqualTo(9);
            assertThat(del.err()).contains(first).contains(second).contains("--with-incrementals");
            assertThat(w.repo.resolve("chain/backups/" + full + "/manifest.json")).exists();

            Cli.Result expire = Cli.run(cmd(config, "expire", "--keep-physical", "1", "--dry-run", "--json"));
            assertThat(expire.exit()).as(expire.toString()).isZero();
            List<?> decisions = (List<?>) Json.MAPPER.readValue(expire.out(), Map.class).get("backups");
            assertThat(decisions).allSatisfy(d -> assertThat(((Map<?, ?>) d).get("keep")).isEqualTo(true));
            assertThat(decisions.toString()).contains("in the chain of " + second);

            Cli.Result verify = Cli.run(cmd(config, "verify", "--json", "--backup", second));
            assertThat(verify.exit()).as(verify.toString()).isZero();
            List<?> checked = (List<?>) ((Map<?, ?>) ((List<?>) Json.MAPPER.readValue(verify.out(), Map.class)
                    .get("repositories")).get(0)).get("backups");
            assertThat(checked.stream().map(b -> (Object) ((Map<?, ?>) b).get("id")).toList()).containsExactly(full, first, second);

            Cli.Result drill = Cli.run(cmd(config, "verify", "--restore-test", "--json", "--scratch-directory",
                    w.work.resolve("scratch").toString()));
            assertThat(drill.exit()).as(drill.toString()).isZero();
            Map<?, ?> test = (Map<?, ?>) ((List<?>) Json.MAPPER.readValue(drill.out(), Map.class).get("restoreTests")).get(0);
            assertThat(test.get("backup")).isEqualTo(second);
            assertThat(test.get("ok")).as(drill.out()).isEqualTo(true);
            assertThat((String) ((Map<?, ?>) test.get("checks")).get("pg_verifybackup")).startsWith("passed");
            assertThat((String) ((Map<?, ?>) test.get("checks")).get("rows postgres")).isEqualTo("1 tables, 20000 rows readable");

            // A damaged parent: the next incremental and a restore both refuse, naming the object.
            Path index = w.repo.resolve("chain/backups/" + first + "/file-index.json.zst");
            byte[] original = Files.readAllBytes(index);
            byte[] flipped = original.clone();
            flipped[flipped.length / 2] ^= 0x40;
            Files.write(index, flipped);
            Cli.Result damaged = Cli.run(cmd(config, "backup", "--type", "physical", "--incremental"));
            assertThat(damaged.exit()).as(damaged.toString()).isEqualTo(8);
            assertThat(damaged.err()).contains(first + "/file-index.json.zst");
            Cli.Result restoreDamaged = Cli.run(cmd(config, "restore", "--backup", second, "--data-directory",
                    w.dataDirectory("r-damaged").toString()));
            assertThat(restoreDamaged.exit()).as(restoreDamaged.toString()).isEqualTo(8);
            Files.write(index, original);

            // A deleted parent: refused by name; verify says the incremental cannot be restored.
            ScratchCluster.deleteTree(w.repo.resolve("chain/backups/" + first));
            Cli.Result orphan = Cli.run(cmd(config, "backup", "--type", "physical", "--incremental"));
            assertThat(orphan.exit()).as(orphan.toString()).isEqualTo(9);
            assertThat(orphan.err()).contains("needs " + first).contains("is not in the repository");
            Cli.Result v2 = Cli.run(cmd(config, "verify", "--json"));
            assertThat(v2.exit()).isNotZero();
            assertThat(v2.out()).contains("is an incremental backup that needs " + first);
            Cli.Result restoreOrphan = Cli.run(cmd(config, "restore", "--backup", second, "--data-directory",
                    w.dataDirectory("r-orphan").toString()));
            assertThat(restoreOrphan.exit()).as(restoreOrphan.toString()).isEqualTo(9);
            assertThat(w.work.resolve("r-orphan")).doesNotExist();

            // Deleting the full backup with its incrementals, then a full backup: a new chain.
            Cli.Result delAll = Cli.run(cmd(config, "delete", full, "--with-incrementals"));
            assertThat(delAll.exit()).as(delAll.toString()).isZero();
            assertThat(w.repo.resolve("chain/backups/" + second)).doesNotExist();
            String again = backup(config, "--incremental");
            Cli.Result show = Cli.run(cmd(config, "show", "--json", again));
            assertThat(((Map<?, ?>) ((Map<?, ?>) Json.MAPPER.readValue(show.out(), Map.class).get("physical")).get("files"))
                    .get("parent")).isNull();
        }
    }

    private static void change(ScratchCluster pg, int round) {
        try (PgSession s = pg.session("postgres")) {
            s.execute("UPDATE t SET pad = repeat('" + round + "', 100) WHERE i <= 200");
        }
    }

    private static String backup(Path config, String kind) throws Exception {
        Cli.Result b = Cli.run(cmd(config, "backup", "--json", "--type", "physical", kind));
        assertThat(b.exit()).as(b.toString()).isZero();
        return (String) Json.MAPPER.readValue(b.out(), Map.class).get("id");
    }

    static String[] cmd(Path config, String command, String... more) {
        List<String> a = new ArrayList<>(List.of(command, "--config", config.toString(), "--cluster", "chain"));
        a.addAll(Arrays.asList(more));
        return a.toArray(String[]::new);
    }
}
