package io.lifeboat.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import io.lifeboat.catalog.Json;
import io.lifeboat.postgres.PgSession;
import io.lifeboat.postgres.ScratchCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * With --json every command prints exactly one JSON document on stdout, on success and on failure:
 * usage errors, a verify that finds problems (its report and its error are one document), a command
 * that ends with a non-zero code without an error (wal-fetch: not in the archive).
 */
class JsonOutputIT {
    @TempDir
    Path work;

    /** Parses stdout as a sequence of JSON values: exactly one, and nothing else. */
    static JsonNode one(Cli.Result r) throws IOException {
        List<JsonNode> docs = new ArrayList<>();
        try (MappingIterator<JsonNode> it = Json.MAPPER.readerFor(JsonNode.class).readValues(r.out())) {
            while (it.hasNextValue()) {
                docs.add(it.nextValue());
            }
        } catch (IOException | RuntimeException e) {
            throw new AssertionError("stdout is not JSON documents only: " + r, e);
        }
        assertThat(docs).as("JSON documents on stdout of " + r).hasSize(1);
        return docs.get(0);
    }

    /** Runs a command that must succeed: one document, exit 0. */
    static JsonNode ok(String... args) throws IOException {
        Cli.Result r = Cli.run(args);
        assertThat(r.exit()).as(r.toString()).isZero();
        return one(r);
    }

    /** Runs a command that must fail with this exit code: one document, with the error in it. */
    static JsonNode fails(int code, String... args) throws IOException {
        Cli.Result r = Cli.run(args);
        assertThat(r.exit()).as(r.toString()).isEqualTo(code);
        JsonNode doc = one(r);
        if (code != 44 || doc.has("error")) { // wal-fetch's "not in the archive" is no error
            assertThat(doc.path("error").path("exitCode").asInt()).as(r.toString()).isEqualTo(code);
        }
        return doc;
    }

    @Test
    void everyCommandPrintsExactlyOneDocument() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        Path repo = Files.createDirectory(work.resolve("repo"));
        try (ScratchCluster pg = ScratchCluster.create(null, ScratchCluster.Options.defaults()).start()) {
            try (PgSession s = pg.session("postgres")) {
                s.execute("CREATE DATABASE app");
            }
            try (PgSession s = pg.session("app")) {
                s.execute("CREATE TABLE t AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 5000) g");
            }
            String[] c = {"--json", "--repo", "file://" + repo, "--cluster", "j", "--allow-same-server", "--pg-host",
                    "127.0.0.1", "--pg-port", Integer.toString(pg.port()), "--pg-user", "postgres"};
            String[] down = {"--json", "--repo", "file://" + repo, "--cluster", "j", "--allow-same-server", "--pg-host",
                    "127.0.0.1", "--pg-port", Integer.toString(closed), "--pg-user", "postgres"};
            String[] noRepo = {"--json", "--repo", "file://" + work.resolve("absent"), "--cluster", "j",
                    "--allow-same-server"};

            // usage errors, before any command runs
            fails(2, "--json");
            fails(2, "list", "--json", "--no-such-option");
            fails(2, "backup", "--json");
            fails(2, "backup", "--json", "--type", "sideways", "--repo", "file://" + repo);

            // backup
            String logical = ok(KilledBackupIT.concat("backup", c, "--type", "logical", "--database", "app")).get("id").asText();
            String physical = ok(KilledBackupIT.concat("backup", c, "--type", "physical", "--include-wal")).get("id").asText();
            fails(5, KilledBackupIT.concat("backup", down, "--type", "logical", "--database", "app"));
            // list, show
            assertThat(ok(KilledBackupIT.concat("list", c)).get("backups")).hasSize(2);
            fails(6, KilledBackupIT.concat("list", noRepo));
            ok(KilledBackupIT.concat("show", c, physical));
            fails(7, KilledBackupIT.concat("show", c, "20200101T000000Z-L"));
            // restore
            ok(KilledBackupIT.concat("restore", c, "--backup", logical, "--target-database", "app_copy"));
            fails(7, KilledBackupIT.concat("restore", c, "--backup", "20200101T000000Z-L", "--target-database", "x"));
            Path data = work.resolve("restored");
            ok(KilledBackupIT.concat("restore", c, "--backup", physical, "--data-directory", data.toString(), "--no-verify"));
            ScratchCluster.deleteTree(data);
            // wal-push, wal-fetch (fetched; not in the archive: the JVM's 44, which bin/lifeboat turns into 1; a repository
            // that is down)
            Path pgWal = Files.createDirectories(work.resolve("other/pg_wal"));
            Path segment;
            try (Stream<Path> files = Files.list(pg.dataDir().resolve("pg_wal"))) {
                segment = files.filter(p -> p.getFileName().toString().matches("[0-9A-F]{24}")).sorted().findFirst()
                        .orElseThrow();
            }
            Path copy = Files.copy(segment, pgWal.resolve(segment.getFileName()));
            ok(KilledBackupIT.concat("wal-push", c, copy.toString()));
            fails(7, KilledBackupIT.concat("wal-push", c, pgWal.resolve("000000010000000000000099").toString()));
            ok(KilledBackupIT.concat("wal-fetch", c, copy.getFileName().toString(), pgWal.resolve("RECOVERYXLOG").toString()));
            JsonNode missing = fails(44, KilledBackupIT.concat("wal-fetch", c, "0000000100000099000000FF",
                    pgWal.resolve("X").toString()));
            assertThat(missing.get("ok").asBoolean()).isFalse();
            Path badRepo = Files.writeString(work.resolve("bad.yml"), "clusters:\n  j:\n    repositories:\n"
                    + "      - uri: s3://b/p?endpoint=http://127.0.0.1:" + closed + "&path-style=true\n"
                    + "        access-key-id: a\n        secret-access-key: b\n        allow-same-server: true\n");
            fails(200, "wal-fetch", "--json", "--config", badRepo.toString(), copy.getFileName().toString(),
                    pgWal.resolve("Y").toString());
            ok(KilledBackupIT.concat("wal-prefetch", c, "--ahead", "2", copy.getFileName().toString(), pgWal.toString()));
            fails(2, KilledBackupIT.concat("wal-prefetch", c, "not-a-segment", pgWal.toString()));
            // check: fails here (archiving is not set up), and where nothing answers
            fails(3, KilledBackupIT.concat("check", c, "--archive-timeout", "5"));
            fails(3, KilledBackupIT.concat("check", down));
            // verify: fine, then with a damaged object (its report and its error in one document)
            assertThat(ok(KilledBackupIT.concat("verify", c)).get("ok").asBoolean()).isTrue();
            Path victim;
            try (Stream<Path> files = Files.walk(repo)) {
                victim = files.filter(p -> p.toString().contains(logical) && p.toString().endsWith("toc.dat.zst"))
                        .findFirst().orElseThrow();
            }
            byte[] bytes = Files.readAllBytes(victim);
            bytes[bytes.length / 2] ^= 0x10;
            Files.write(victim, bytes);
            JsonNode damaged = fails(8, KilledBackupIT.concat("verify", c));
            assertThat(damaged.get("ok").asBoolean()).isFalse();
            assertThat(damaged.get("problems")).isNotEmpty();
            assertThat(damaged.get("repositories")).isNotEmpty();
            fails(6, KilledBackupIT.concat("verify", noRepo));
            // expire, delete
            ok(KilledBackupIT.concat("expire", c, "--keep-logical", "1", "--dry-run"));
            fails(3, KilledBackupIT.concat("expire", c, "--logical-window", "soon"));
            ok(KilledBackupIT.concat("delete", c, logical));
            fails(7, KilledBackupIT.concat("delete", c, logical));
        }
        // commands without a cluster
        Path key = work.resolve("key.txt");
        ok("keygen", "--json", "--output", key.toString());
        fails(9, "keygen", "--json", "--output", key.toString());
        ok("warmup", "--json");
        fails(2, "s3-server", "--json", "--dir", work.resolve("s3").toString());
    }
}
