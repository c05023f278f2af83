package io.lifeboat.it;

import io.lifeboat.catalog.Json;
import io.lifeboat.postgres.ContentChecksum;
import io.lifeboat.postgres.PgSession;
import io.lifeboat.postgres.ScratchCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** A logical backup of the Debian PostgreSQL restores into a server of another major version. */
class CrossVersionRestoreIT {
    @TempDir
    Path repo;

    @Test
    void dumpOfOneMajorRestoresIntoAnother() throws Exception {
        try (ScratchCluster source = ScratchCluster.create(null, ScratchCluster.Options.defaults()).start();
             ScratchCluster target = ScratchCluster.create(null, ScratchCluster.Options.defaults()
                     .withBinDir(OtherPostgresVersion.binDir())).start()) {
            int sourceMajor;
            int targetMajor;
            try (PgSession s = source.session("postgres"); PgSession t = target.session("postgres")) {
                sourceMajor = s.serverVersion().major();
                targetMajor = t.serverVersion().major();
                s.execute("CREATE DATABASE shop");
            }
            assertThat(targetMajor).isNotEqualTo(sourceMajor);
            try (InputStream in = getClass().getClassLoader().getResourceAsStream("io/lifeboat/demo/shop.sql");
                 PgSession s = source.session("shop")) {
                s.execute(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            }
            Map<String, ContentChecksum.Entry> before;
            try (PgSession s = source.session("shop")) {
                before = ContentChecksum.of(s);
            }
            Cli.Result b = Cli.run("backup", "--json", "--type", "logical", "--database", "shop", "--pg-host", "127.0.0.1",
                    "--pg-port", Integer.toString(source.port()), "--pg-user", "postgres", "--repo", "file://" + repo,
                    "--cluster", "x", "--allow-same-server");
            assertThat(b.exit()).as(b.toString()).isZero();
            String id = (String) Json.MAPPER.readValue(b.out(), Map.class).get("id");
            Cli.Result r = Cli.run("restore", "--backup", id, "--pg-host", "127.0.0.1", "--pg-port", Integer.toString(target.port()),
                    "--pg-user", "postgres", "--repo", "file://" + repo, "--cluster", "x", "--allow-same-server");
            assertThat(r.exit()).as(r.toString()).isZero();
            try (PgSession t = target.session("shop")) {
                assertThat(ContentChecksum.differences(before, ContentChecksum.of(t))).isEmpty();
            }
        }
    }
}
