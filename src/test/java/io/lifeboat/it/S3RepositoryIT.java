package io.lifeboat.it;

import io.lifeboat.catalog.Json;
import io.lifeboat.postgres.ContentChecksum;
import io.lifeboat.postgres.ExternalProcess;
import io.lifeboat.postgres.PgBinaries;
import io.lifeboat.postgres.PgSession;
import io.lifeboat.postgres.ScratchCluster;
import io.lifeboat.storage.EmbeddedS3Server;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Logical backups through a real S3 server (s3proxy), configured by a lifeboat.yml, and S3's failure modes. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class S3RepositoryIT {
    ScratchCluster pg;
    EmbeddedS3Server s3;
    Path work;

    @BeforeAll
    void start() throws IOException {
        work = Files.createTempDirectory("lifeboat-s3it-");
        s3 = EmbeddedS3Server.start(work.resolve("s3"));
        s3.createBucket("backups");
        pg = ScratchCluster.create(null, ScratchCluster.Options.defaults()).start();
        PgBinaries.Tool pgbench = new PgBinaries(pg.binDir()).newest("pgbench");
        new ExternalProcess(List.of(pgbench.path().toString(), "-i", "-q", "-s", "3"), pg.connection("postgres")
                .libpqEnvironment()).runChecked("pgbench -i");
    }

    @AfterAll
    void stop() {
        if (pg != null) {
            pg.close();
        }
        if (s3 != null) {
            s3.close();
        }
        ScratchCluster.deleteTree(work);
    }

    Path config(String endpoint, String bucket, String key, String secret, boolean allowSameServer) throws IOException {
        Path f = Files.createTempFile(work, "lifeboat", ".yml");
        Files.writeString(f, """
                clusters:
                  main:
                    postgres:
                      host: 127.0.0.1
                      port: %d
                      user: postgres
                    repositories:
                      - name: s3
                        uri: s3://%s/team-a?endpoint=%s&region=us-east-1&path-style=true
                        access-key-id: %s
                        secret-access-key: %s
                        part-size-mib: 5
                        allow-same-server: %s
                """.formatted(pg.port(), bucket, endpoint, key, secret, allowSameServer));
        return f;
    }

    Path good() throws IOException {
        return config(s3.endpoint().toString(), "backups", s3.accessKey(), s3.secretKey(), true);
    }

    @Test
    void roundTripThroughS3WithSecretsOnlyInTheConfigFile() throws Exception {
        Map<String, ContentChecksum.Entry> before;
        try (PgSession s = pg.session("postgres")) {
            before = ContentChecksum.of(s);
        }
        Path cfg = good();
        // "none": Lifeboat compresses, and the 40 MB accounts file goes up as a multipart upload (5 MiB parts).
        Cli.Result b = Cli.run("backup", "--config", cfg.toString(), "--json", "--type", "logical", "--dump-compression", "none");
        assertThat(b.exit()).as(b.toString()).isZero();
        assertThat(b.out() + b.err()).doesNotContain(s3.secretKey());
        String id = (String) Json.MAPPER.readValue(b.out(), Map.class).get("id");
        try (var files = Files.walk(work.resolve("s3/backups"))) {
            assertThat(files.map(Path::toString).filter(p -> p.contains("team-a/main/backups/" + id))).isNotEmpty();
        }
        Cli.Result r = Cli.run("restore", "--config", cfg.toString(), "--backup", id, "--target-database", "copy");
        assertThat(r.exit()).as(r.toString()).isZero();
        try (PgSession s = pg.session("copy")) {
            assertThat(ContentChecksum.differences(before, ContentChecksum.of(s))).isEmpty();
        }
        Cli.Result show = Cli.run("show", "--config", cfg.toString(), "--json", id);
        assertThat(show.out()).doesNotContain(s3.secretKey()).doesNotContain(s3.accessKey());
    }

    @Test
    void missingBucket() throws IOException {
        Cli.Result r = Cli.run("list", "--config", config(s3.endpoint().toString(), "nope", s3.accessKey(), s3.secretKey(), true).toString());
        assertThat(r.exit()).as(r.toString()).isEqualTo(6);
        assertThat(r.err()).contains("bucket 'nope' does not exist");
    }

    @Test
    void wrongCredentials() throws IOException {
        Cli.Result r = Cli.run("list", "--config", config(s3.endpoint().toString(), "backups", s3.accessKey(), "wrong-secret", true)
                .toString());
        assertThat(r.exit()).as(r.toString()).isEqualTo(6);
        assertThat(r.err()).contains("credentials").doesNotContain("wrong-secret");
    }

    @Test
    void unreachableEndpointFailsFast() throws IOException {
        int closed;
        try (ServerSocket s = new ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        long t0 = System.nanoTime();
        Cli.Result r = Cli.run("backup", "--config", config("http://127.0.0.1:" + closed, "backups", "a", "b", true).toString(),
                "--type", "logical");
        assertThat(r.exit()).as(r.toString()).isEqualTo(6);
        assertThat(r.err()).contains("cannot reach S3 endpoint");
        assertThat((System.nanoTime() - t0) / 1_000_000_000.0).isLessThan(30);
    }

    @Test
    void anEndpointOnTheDatabaseServerIsRefused() throws IOException {
        Cli.Result r = Cli.run("backup", "--config", config(s3.endpoint().toString(), "backups", s3.accessKey(), s3.secretKey(),
                false).toString(), "--type", "logical");
        assertThat(r.exit()).as(r.toString()).isEqualTo(4);
        assertThat(r.err()).contains("is on the database server").contains("allow-same-server");
    }

    @Test
    void aLocalDirectoryOnTheDatabaseServerIsRefused() {
        Cli.Result r = Cli.run("backup", "--type", "logical", "--pg-host", "127.0.0.1", "--pg-port", Integer.toString(pg.port()),
                "--pg-user", "postgres", "--repo", "file://" + work.resolve("local-repo"));
        assertThat(r.exit()).as(r.toString()).isEqualTo(4);
        assertThat(r.err()).contains("local-repo").contains("database server");
        assertThat(work.resolve("local-repo")).doesNotExist();
    }
}
