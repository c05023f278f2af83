package io.lifeboat.it;

import io.lifeboat.catalog.Json;
import io.lifeboat.postgres.ContentChecksum;
import io.lifeboat.postgres.ExternalProcess;
import io.lifeboat.postgres.PgBinaries;
import io.lifeboat.postgres.PgSession;
import io.lifeboat.postgres.ScratchCluster;
import io.lifeboat.storage.EmbeddedS3Server;
import io.lifeboat.storage.FaultProxy;
import io.lifeboat.storage.FaultProxy.Fault;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Backup (logical and physical), restore (both), wal-push, wal-fetch, list and verify against a
 * real PostgreSQL cluster and a real S3 server (s3proxy), through a proxy that resets connections,
 * stalls, cuts answers short, answers 503 SlowDown and answers empty 200s. Every operation either
 * succeeds with content that is checked against the source (row counts and checksums of every
 * table), or fails with a non-zero code naming the object: never exit 0 with a wrong result. A
 * listing that is not a valid answer never means "not in the archive" (wal-fetch exits 200, which
 * stops recovery, not 1, which ends it), and with a quarter of all requests broken, physical
 * restores succeed thanks to the retries.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FaultInjectionIT {
    static final Duration READ_TIMEOUT = Duration.ofSeconds(2);
    Path work;
    EmbeddedS3Server s3;
    FaultProxy proxy;
    ScratchCluster pg;
    Path config;
    LauncherProperty launcher;
    String logicalId;
    String physicalId;
    Map<String, ContentChecksum.Entry> atLogical;
    Map<String, ContentChecksum.Entry> atEnd;
    final List<String> summary = new ArrayList<>();

    @BeforeAll
    void start() throws Exception {
        work = Files.createTempDirectory("lifeboat-faults-");
        Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxr-xr-x"));
        s3 = EmbeddedS3Server.start(work.resolve("s3"));
        s3.createBucket("backups");
        proxy = FaultProxy.start(s3.port()).stallFor(READ_TIMEOUT.plusSeconds(1));
        pg = ScratchCluster.create(work, ScratchCluster.Options.defaults());
        config = writeConfig("faulty.yml", "20s");
        // wal-push runs as the server's user, through the proxy; restored copies (another data directory) archive nothing
        pg.appendConf("archive_mode = on", "archive_command = '[ \"$(pwd -P)\" = \"" + pg.dataDir().toRealPath()
                + "\" ] || exit 0; " + LauncherProperty.LAUNCHER + " wal-push --config " + config + " %p'");
        launcher = LauncherProperty.set();
        pg.start();
        try (PgSession s = pg.session("postgres")) {
            s.execute("CREATE DATABASE app");
        }
        PgBinaries.Tool pgbench = new PgBinaries(pg.binDir()).newest("pgbench");
        new ExternalProcess(List.of(pgbench.path().toString(), "-i", "-q", "-s", "1"), pg.connection("app").libpqEnvironment())
                .runChecked("pgbench -i");
        try (PgSession s = pg.session("app")) {
            s.execute("CREATE TABLE numbers AS SELECT g AS n, md5(g::text) AS h FROM generate_series(1, 200000) g");
        }
    }

    Path writeConfig(String name, String retryTime) throws IOException {
        Path f = work.resolve(name);
        Files.writeString(f, """
                clusters:
                  main:
                    postgres:
                      host: 127.0.0.1
                      port: %d
                      user: postgres
                      database: app
                    repositories:
                      - name: s3
                        uri: s3://backups/faults?endpoint=%s&region=us-east-1&path-style=true
                        access-key-id: %s
                        secret-access-key: %s
                        part-size-mib: 5
                        connect-timeout: 2s
                        read-timeout: %ds
                        retry-time: %s
                        allow-same-server: true
                    jobs: 4
                """.formatted(pg.port(), proxy.endpoint(), s3.accessKey(), s3.secretKey(), READ_TIMEOUT.toSeconds(), retryTime));
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
        return f;
    }

    @AfterAll
    void stop() {
        if (!summary.isEmpty()) {
            System.out.println("FaultInjectionIT:\n  " + String.join("\n  ", summary));
        }
        if (launcher != null) {
            launcher.close();
        }
        if (pg != null) {
            pg.close();
        }
        if (proxy != null) {
            proxy.close();
        }
        if (s3 != null) {
            s3.close();
        }
        ScratchCluster.deleteTree(work);
    }

    Cli.Result run(Path cfg, String command, String... more) {
        List<String> a = new ArrayList<>(List.of(command, "--config", cfg.toString()));
        a.addAll(Arrays.asList(more));
        long t0 = System.nanoTime();
        Cli.Result r = Cli.run(a.toArray(String[]::new));
        summary.add(String.format("%-8s %-9s exit %d in %5.1f s", command, more.length > 0 ? more[more.length - 1] : "",
                r.exit(), (System.nanoTime() - t0) / 1e9));
        return r;
    }

    /** A failure must be one that says which object (or listing) and where. */
    static void failsNamingTheObject(Cli.Result r) {
        assertThat(r.exit()).as(r.toString()).isNotZero().isNotEqualTo(1);
        assertThat(r.err()).as(r.toString()).containsPattern("(object|WAL|listing of|reading) '?[^' ]*(backups|wal|main)/");
    }

    static Map<String, ContentChecksum.Entry> checksums(int port, String db) {
        try (PgSession s = PgSession.open(new io.lifeboat.postgres.PgConnectionSettings("127.0.0.1", port, "postgres", db,
                null, null))) {
            return ContentChecksum.of(s);
        }
    }

    String faults() {
        StringBuilder sb = new StringBuilder(proxy.requests() + " requests, " + proxy.injectedTotal() + " faulty (");
        for (Fault f : Fault.values()) {
            sb.append(f.name().toLowerCase(java.util.Locale.ROOT)).append(' ').append(proxy.injected(f))
                    .append(f == Fault.EMPTY_200 ? ")" : ", ");
        }
        return sb.toString();
    }

    @Test
    @Order(1)
    void everyOperationThroughAQuarterOfFaultyRequests() throws Exception {
        proxy.reset();
        proxy.random(0.25, 11, r -> true, Fault.DROP, Fault.RESET, Fault.TRUNCATE, Fault.SLOW_DOWN, Fault.EMPTY_200);
        long t0 = System.nanoTime();
        try (PgSession s = pg.session("app")) {
            Archiving.switchAndAwait(s); // wal-push, through the faults
            atLogical = ContentChecksum.of(s);
        }
        summary.add("wal-push (archive_command) in " + (System.nanoTime() - t0) / 1_000_000 + " ms");

        Cli.Result logical = run(config, "backup", "--json", "--type", "logical", "--database", "app");
        assertThat(logical.exit()).as(logical.toString()).isZero();
        logicalId = (String) Json.MAPPER.readValue(logical.out(), Map.class).get("id");
        Cli.Result physical = run(config, "backup", "--json", "--type", "physical");
        assertThat(physical.exit()).as(physical.toString()).isZero();
        physicalId = (String) Json.MAPPER.readValue(physical.out(), Map.class).get("id");
        try (PgSession s = pg.session("app")) {
            // after the physical backup: recovery must fetch this from the archive (wal-fetch, through the faults)
            s.execute("UPDATE numbers SET h = 'changed' WHERE n % 7 = 0");
            s.execute("INSERT INTO numbers SELECT g, 'late' FROM generate_series(200001, 210000) g");
            Archiving.switchAndAwait(s);
            atEnd = ContentChecksum.of(s);
        }
        summary.add("backups and wal-push: " + faults());

        Cli.Result list = run(config, "list", "--json");
        assertThat(list.exit()).as(list.toString()).isZero();
        assertThat(list.out()).contains(logicalId, physicalId);
        Cli.Result verify = run(config, "verify");
        assertThat(verify.exit()).as(verify.toString()).isZero();

        Cli.Result lr = run(config, "restore", "--backup", logicalId, "--target-database", "copy1");
        if (lr.exit() == 0) {
            assertThat(ContentChecksum.differences(atLogical, checksums(pg.port(), "copy1"))).isEmpty();
        } else {
            failsNamingTheObject(lr);
        }

        for (int i = 1; i <= 2; i++) {
            Path target = work.resolve("restore-" + i + "/data");
            int port = ScratchCluster.freePort();
            Cli.Result r = run(config, "restore", "--json", "--backup", physicalId, "--data-directory", target.toString(),
                    "--start", "--port", Integer.toString(port));
            try {
                assertThat(r.exit()).as("physical restore %d under faults: %s", i, r).isZero();
                assertThat(ContentChecksum.differences(atEnd, checksums(port, "app"))).as("restore %d", i).isEmpty();
            } finally {
                stopServer(target);
            }
        }
        summary.add("everything, " + (System.nanoTime() - t0) / 1_000_000_000 + " s: " + faults());
        assertThat(proxy.injectedTotal()).as(faults()).isGreaterThanOrEqualTo(proxy.requests() / 8);
        for (Fault f : List.of(Fault.DROP, Fault.RESET, Fault.TRUNCATE, Fault.SLOW_DOWN, Fault.EMPTY_200)) {
            assertThat(proxy.injected(f)).as(f + " in " + faults()).isPositive();
        }
    }

    /** wal-fetch as PostgreSQL runs it (bin/lifeboat, a fresh pg_wal): the exit code and what it wrote. */
    ExternalProcess.Result walFetch(Path cfg, String segment, Path pgWal) {
        return new ExternalProcess(List.of(LauncherProperty.LAUNCHER.toString(), "wal-fetch", "--config", cfg.toString(),
                segment, pgWal.resolve("RECOVERYXLOG").toString()), Map.of()).run();
    }

    /** An archived segment's name and the SHA-256 its object name carries, from the server's files. */
    String[] archivedSegment() throws IOException {
        try (Stream<Path> s = Files.walk(work.resolve("s3/backups/faults/main/wal"))) {
            String n = s.filter(Files::isRegularFile).map(p -> p.getFileName().toString())
                    .filter(x -> x.matches("[0-9A-F]{24}\\.sha256-[0-9a-f]{64}\\.zst")).sorted().findFirst().orElseThrow();
            return new String[] {n.substring(0, 24), n.substring(32, 96)};
        }
    }

    @Test
    @Order(2)
    void walFetchThroughFaultsDeliversTheSegmentAndEmptyListingsNeverEndRecovery() throws Exception {
        String[] seg = archivedSegment();
        proxy.reset();
        proxy.random(0.25, 5, r -> true, Fault.DROP, Fault.RESET, Fault.TRUNCATE, Fault.SLOW_DOWN, Fault.EMPTY_200);
        Path pgWal = Files.createDirectories(work.resolve("fetch-1/pg_wal"));
        ExternalProcess.Result ok = walFetch(config, seg[0], pgWal);
        assertThat(ok.exitCode()).as(ok.stderr()).isZero();
        assertThat(io.lifeboat.engine.archive.WalArchive.sha256(pgWal.resolve("RECOVERYXLOG"))).isEqualTo(seg[1]);

        // Every listing answered with an empty 200; retried for the (here short) retry time, then a STORAGE error.
        Path impatient = writeConfig("impatient.yml", "2s");
        proxy.reset();
        proxy.rule(FaultProxy.Request::isList, Fault.EMPTY_200, Integer.MAX_VALUE);
        Path pgWal2 = Files.createDirectories(work.resolve("fetch-2/pg_wal"));
        ExternalProcess.Result fetch = walFetch(impatient, seg[0], pgWal2);
        assertThat(fetch.exitCode()).as("wal-fetch of an archived segment through empty listings: " + fetch.stderr())
                .isGreaterThanOrEqualTo(126);
        assertThat(fetch.stderr()).contains(seg[0], "listing");
        assertThat(pgWal2.resolve("RECOVERYXLOG")).doesNotExist();
        // a timeline history file PostgreSQL probes for: not "missing" either
        ExternalProcess.Result history = walFetch(impatient, "00000002.history", pgWal2);
        assertThat(history.exitCode()).as(history.stderr()).isGreaterThanOrEqualTo(126);

        Cli.Result list = run(impatient, "list");
        assertThat(list.exit()).as("list through empty listings: " + list).isEqualTo(6);
        assertThat(list.out() + list.err()).doesNotContain("no backups");
        Path target = work.resolve("restore-empty/data");
        Cli.Result restore = run(impatient, "restore", "--data-directory", target.toString(), "--type", "physical");
        assertThat(restore.exit()).as(restore.toString()).isEqualTo(6);
        assertThat(target).doesNotExist();
        Cli.Result verify = run(impatient, "verify");
        assertThat(verify.exit()).as(verify.toString()).isEqualTo(6);
        summary.add("empty listings: wal-fetch exit " + fetch.exitCode() + ", list exit " + list.exit() + ", restore exit "
                + restore.exit() + ", verify exit " + verify.exit());
        proxy.reset();
    }

    @Test
    @Order(3)
    void answersThatStallLongerThanTheReadTimeoutAreRetried() {
        proxy.reset();
        proxy.rule(FaultProxy.Request::isObjectGet, Fault.STALL, 2);
        proxy.rule(FaultProxy.Request::isList, Fault.STALL, 1);
        long t0 = System.nanoTime();
        Cli.Result r = run(config, "restore", "--backup", logicalId, "--target-database", "copy2");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(ContentChecksum.differences(atLogical, checksums(pg.port(), "copy2"))).isEmpty();
        assertThat(proxy.injected(Fault.STALL)).isEqualTo(3);
        summary.add("3 stalls of " + (READ_TIMEOUT.toSeconds() + 1) + " s: logical restore in "
                + (System.nanoTime() - t0) / 1_000_000 + " ms");
    }

    @Test
    @Order(4)
    void aRepositoryThatStopsAnsweringFailsNamingTheObjectAndTheEndpoint() throws Exception {
        Path impatient = work.resolve("impatient.yml");
        proxy.reset();
        proxy.rule(FaultProxy.Request::isObjectGet, Fault.DROP, Integer.MAX_VALUE);
        Cli.Result r = run(impatient, "restore", "--backup", logicalId, "--target-database", "never");
        failsNamingTheObject(r);
        assertThat(r.exit()).isEqualTo(6);
        assertThat(r.err()).contains(proxy.endpoint().toString(), "attempts").doesNotContain("damaged");
        try (PgSession s = pg.session("postgres")) {
            assertThat(s.queryValue("SELECT count(*) FROM pg_database WHERE datname = 'never'")).contains("0");
        }
        proxy.reset();
        proxy.rule(FaultProxy.Request::isObjectGet, Fault.TRUNCATE, Integer.MAX_VALUE);
        Path target = work.resolve("restore-cut/data");
        Cli.Result cut = run(impatient, "restore", "--backup", physicalId, "--data-directory", target.toString());
        assertThat(cut.exit()).as("answers always cut short are a transfer problem, not damage: " + cut).isEqualTo(6);
        assertThat(cut.err()).contains("backups/" + physicalId).doesNotContain("damaged");
        assertThat(target).doesNotExist();
        proxy.reset();
    }

    private void stopServer(Path dataDir) {
        if (Files.exists(dataDir.resolve("postmaster.pid"))) {
            new ExternalProcess(ExternalProcess.asUser(ScratchCluster.OS_USER, List.of(pg.binDir().resolve("pg_ctl").toString(),
                    "-D", dataDir.toString(), "-m", "immediate", "-w", "stop")), Map.of()).run();
        }
    }
}
