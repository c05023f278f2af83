package io.lifeboat.it;

import io.lifeboat.postgres.ScratchCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Retention on a real repository: dry run first, then only what the policy does not keep goes. */
class ExpireIT {
    @TempDir
    Path dir;

    @Test
    void keepsTheNewestLogicalBackupsAndRefusesToDeleteEverything() throws Exception {
        try (ScratchCluster pg = ScratchCluster.create(null, ScratchCluster.Options.defaults()).start()) {
            Path repo = Files.createDirectories(dir.resolve("repo"));
            Path cfg = dir.resolve("lifeboat.yml");
            Files.writeString(cfg, """
                    clusters:
                      r:
                        postgres:
                          host: 127.0.0.1
                          port: %d
                          user: postgres
                        repositories:
                          - uri: file://%s
                            allow-same-server: true
                        retention:
                          logical-count: 2
                          after-backup: false
                    """.formatted(pg.port(), repo));
            for (int i = 0; i < 3; i++) {
                Cli.Result b = Cli.run("backup", "--config", cfg.toString(), "--type", "logical", "--no-globals");
                assertThat(b.exit()).as(b.toString()).isZero();
                Thread.sleep(1100); // ids have one-second resolution
            }
            List<String> ids = Cli.run("list", "--config", cfg.toString()).out().lines().filter(l -> l.contains("complete"))
                    .map(l -> l.split("\\s+")[0]).toList();
            assertThat(ids).hasSize(3);

            Cli.Result dry = Cli.run("expire", "--config", cfg.toString(), "--dry-run");
            assertThat(dry.exit()).as(dry.toString()).isZero();
            assertThat(dry.out()).contains("would delete " + ids.get(0)).contains("keep   " + ids.get(2));
            assertThat(Cli.run("list", "--config", cfg.toString()).out()).contains(ids.get(0));

            Cli.Result none = Cli.run("expire", "--config", cfg.toString(), "--keep-logical", "0");
            assertThat(none.exit()).as(none.toString()).isEqualTo(2);

            Cli.Result real = Cli.run("expire", "--config", cfg.toString());
            assertThat(real.exit()).as(real.toString()).isZero();
            String after = Cli.run("list", "--config", cfg.toString()).out();
            assertThat(after).doesNotContain(ids.get(0)).contains(ids.get(1)).contains(ids.get(2));
            try (var files = Files.walk(repo)) {
                assertThat(files.map(Path::toString).filter(p -> p.contains(ids.get(0)))).isEmpty();
            }
            // The kept ones still restore.
            Cli.Result r = Cli.run("restore", "--config", cfg.toString(), "--backup", ids.get(1), "--target-database", "x");
            assertThat(r.exit()).as(r.toString()).isZero();
        }
    }
}
