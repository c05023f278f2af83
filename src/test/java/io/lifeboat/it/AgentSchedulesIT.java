package io.lifeboat.it;

import com.sun.net.httpserver.HttpServer;
import io.lifeboat.catalog.Json;
import io.lifeboat.postgres.PgSession;
import io.lifeboat.postgres.ScratchCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The agent's schedules and the alerts the repository watcher and the scheduler raise, on a real
 * cluster and a real S3 server: a backup, an expire and a verify run from a short cron, each run's
 * record in the repository as `lifeboat status` reads it after the agent stopped; a drill of a
 * damaged backup fails and alerts, and recovers once a good backup is there; a WAL gap after the
 * newest backup alerts and is resolved when the segment is back; a stream held up by a repository
 * that does not answer alerts on its lag and is resolved when it catches up. Alerts arrive at a
 * real HTTP server (the webhook).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AgentSchedulesIT {
    StreamFixture fx;
    HttpServer hook;
    final List<Map<String, Object>> hooks = new CopyOnWriteArrayList<>();

    @BeforeAll
    @SuppressWarnings("unchecked")
    void start() throws Exception {
        fx = new StreamFixture();
        hook = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 4);
        hook.createContext("/hook", ex -> {
            hooks.add(Json.MAPPER.readValue(ex.getRequestBody().readAllBytes(), Map.class));
            ex.sendResponseHeaders(204, -1);
            ex.close();
        });
        hook.start();
    }

    @AfterAll
    void stop() {
        if (hook != null) {
            hook.stop(0);
        }
        if (fx != null) {
            fx.close();
        }
    }

    private String top() {
        return "agent:\n  http:\n    listen: off\n  notify:\n    webhook:\n      url: http://127.0.0.1:"
                + hook.getAddress().getPort() + "/hook\n";
    }

    /** The cluster's lifeboat.yml with a cluster-level setting added (e.g. retention). */
    private static Path withCluster(Path cfg, String line) throws IOException {
        Files.writeString(cfg, Files.readString(cfg).replace("    jobs: 2\n", "    jobs: 2\n    " + line + "\n"));
        return cfg;
    }

    @Test
    void scheduledBackupExpireAndVerifyRunFromCronAndStatusReadsTheirRecordsFromTheRepository() throws Exception {
        try (ScratchCluster pg = ScratchCluster.create(fx.work, ScratchCluster.Options.defaults()).start()) {
            Path cfg = withCluster(fx.config("sched", pg.port(), "postgres", """
                    stream:
                      flush-interval: 2s
                    schedules:
                      physical: "* * * * *"
                      expire: "* * * * *"
                      verify: "* * * * *"
                    """, top()), "retention: {physical-count: 1}");
            AgentProcess agent = AgentProcess.start(cfg, fx.work.resolve("sched.log"));
            String manual;
            try {
                assertThat(agent.awaitOutput("streaming WAL from", 60)).as(agent.output()).isTrue();
                // a backup taken by hand before the scheduled one: expire (physical-count 1) must delete it
                Cli.Result b = Cli.run("backup", "--config", cfg.toString(), "--json", "--type", "physical");
                assertThat(b.exit()).as(b.toString()).isZero();
                manual = (String) Json.MAPPER.readValue(b.out(), Map.class).get("id");
                // the three run one after the other at the next minute (never overlapping), in this order
                assertThat(agent.awaitOutput("verify job (succeeded|failed)", 240)).as(agent.output()).isTrue();
                String out = agent.output();
                int physical = out.indexOf("physical job started");
                int expire = out.indexOf("expire job started");
                int verify = out.indexOf("verify job started");
                assertThat(physical).as(out).isPositive();
                assertThat(expire).as(out).isGreaterThan(physical);
                assertThat(verify).as(out).isGreaterThan(expire);
                assertThat(agent.term(60)).as(agent.output()).isZero();
            } finally {
                agent.close();
            }
            // the agent is gone: what status says of the jobs comes from their records in the repository
            Cli.Result st = Cli.run("status", "--config", cfg.toString(), "--json");
            assertThat(st.exit()).as(st.toString()).isZero();
            Map<String, Object> c = cluster(st);
            Map<String, Object> jobs = map(c.get("jobs"));
            assertThat(jobs).containsOnlyKeys("physical", "expire", "verify");
            Map<String, Object> phys = map(map(jobs.get("physical")).get("last"));
            Map<String, Object> exp = map(map(jobs.get("expire")).get("last"));
            Map<String, Object> ver = map(map(jobs.get("verify")).get("last"));
            assertThat(phys).as(st.out()).containsEntry("ok", true);
            assertThat(exp).as(st.out()).containsEntry("ok", true);
            assertThat(ver).as(st.out()).containsEntry("ok", true);
            String scheduledBackup = ((String) phys.get("summary")).replace("backup ", "");
            assertThat(scheduledBackup).isNotEqualTo(manual).endsWith("-P");
            assertThat((String) exp.get("summary")).startsWith("deleted 1 backups and ");
            assertThat((String) ver.get("summary")).isEqualTo("verified 1 backup copies");
            for (Map<String, Object> r : List.of(phys, exp, ver)) {
                Instant started = Instant.parse((String) r.get("started"));
                Instant finished = Instant.parse((String) r.get("finished"));
                assertThat(finished).isAfterOrEqualTo(started);
                assertThat(Instant.parse((String) r.get("scheduled")).getEpochSecond() % 60).isZero();
                assertThat(((Number) r.get("seconds")).doubleValue()).isGreaterThanOrEqualTo(0);
            }
            // no overlap: each started after the one before finished
            assertThat(Instant.parse((String) exp.get("started"))).isAfterOrEqualTo(Instant.parse((String) phys.get("finished")));
            assertThat(Instant.parse((String) ver.get("started"))).isAfterOrEqualTo(Instant.parse((String) exp.get("finished")));
            assertThat(Instant.parse((String) map(jobs.get("verify")).get("next"))).isAfter(Instant.now().minusSeconds(1));
            // the records are objects of the repository, and expire applied the retention policy
            Path repo = fx.work.resolve("s3/backups/lb/sched");
            for (String kind : List.of("physical", "expire", "verify")) {
                assertThat(files(repo.resolve("jobs").resolve(kind), p -> p.toString().endsWith(".json"))).hasSize(1);
            }
            assertThat(files(repo.resolve("backups"), p -> p.getFileName().toString().equals("manifest.json")))
                    .singleElement().satisfies(p -> assertThat(p.getParent().getFileName().toString()).isEqualTo(scheduledBackup));
            Cli.Result text = Cli.run("status", "--config", cfg.toString());
            assertThat(text.out()).containsPattern("job physical last: ok .*backup " + scheduledBackup)
                    .containsPattern("job expire +last: ok .*deleted 1 backups")
                    .containsPattern("job verify +last: ok .*verified 1 backup copies")
                    .contains("physical   " + scheduledBackup);
        }
    }

    @Test
    void aFailedDrillAndAWalGapAlertAndAreResolved() throws Exception {
        try (ScratchCluster pg = ScratchCluster.create(fx.work, ScratchCluster.Options.defaults()).start()) {
            Path cfg = fx.config("drl", pg.port(), "postgres", """
                    stream:
                      flush-interval: 2s
                    schedules:
                      drill: "* * * * *"
                    """, top());
            AgentProcess agent = AgentProcess.start(cfg, fx.work.resolve("drl.log"));
            try {
                assertThat(agent.awaitOutput("streaming WAL from", 60)).as(agent.output()).isTrue();
                Cli.Result b = Cli.run("backup", "--config", cfg.toString(), "--json", "--type", "physical");
                assertThat(b.exit()).as(b.toString()).isZero();
                String bad = (String) Json.MAPPER.readValue(b.out(), Map.class).get("id");
                Path repo = fx.work.resolve("s3/backups/lb/drl");
                // a flipped byte in the backup's largest data object: the drill's restore must refuse it
                Path data = files(repo.resolve("backups").resolve(bad), p -> !p.getFileName().toString().endsWith(".json"))
                        .stream().max((x, y) -> Long.compare(x.toFile().length(), y.toFile().length())).orElseThrow();
                flip(data, data.toFile().length() / 2);

                // A WAL gap after the backup: five segments more, the second of them taken away (and put back later).
                String gapSegment = null;
                try (PgSession s = pg.session("postgres")) {
                    s.execute("CREATE TABLE g (i int)");
                    for (int i = 0; i < 5; i++) {
                        s.execute("INSERT INTO g SELECT generate_series(1, 1000)");
                        String current = s.queryValue("SELECT pg_walfile_name(pg_current_wal_lsn())").orElseThrow();
                        gapSegment = i == 1 ? current : gapSegment;
                        s.queryValue("SELECT pg_switch_wal()");
                    }
                }
                String taken = gapSegment.substring(0, 24);
                Path wal = repo.resolve("wal").resolve(taken.substring(0, 16));
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                Path segment = null;
                while (System.nanoTime() < deadline && segment == null) {
                    segment = Files.isDirectory(wal) ? files(wal, p -> p.getFileName().toString().matches(taken + "\\.sha256-\\p{XDigit}{64}\\.zst"))
                            .stream().findFirst().orElse(null) : null;
                    Thread.sleep(200);
                }
                assertThat(segment).as(agent.output()).isNotNull();
                // (s3proxy writes an object as a temporary file renamed into place: only the final name is matched)
                Path aside = fx.work.resolve("aside-" + segment.getFileName());
                // wait until a later segment is stored, so that the missing one is a hole, not the stream's end
                deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (System.nanoTime() < deadline && files(wal, p -> p.getFileName().toString().compareTo(taken) > 0
                        && p.getFileName().toString().matches("\\p{XDigit}{24}\\.sha256-\\p{XDigit}{64}\\.zst")).isEmpty()) {
                    Thread.sleep(200);
                }
                Files.move(segment, aside);
                assertThat(awaitHook("problem", "drl", "wal-gap", 60)).as(agent.output()).isTrue();
                assertThat(message("problem", "wal-gap")).contains("missing " + taken).contains(bad);
                Files.move(aside, segment);
                assertThat(awaitHook("resolved", "drl", "wal-gap", 60)).as(agent.output()).isTrue();

                // the drill of the damaged backup fails at the next minute: an alert, and status says FAILED
                assertThat(awaitHook("problem", "drl", "drill", 180)).as(agent.output()).isTrue();
                assertThat(message("problem", "drill")).contains(bad);
                // the job record is read from the repository at once; the open problems as of the lease's last renewal
                Cli.Result st = Cli.run("status", "--config", cfg.toString());
                assertThat(st.out()).as(st.toString()).containsPattern("job drill +last: FAILED .*" + bad)
                        .containsPattern("drill +FAILED: " + bad);
                for (int i = 0; i < 60 && !st.out().contains("PROBLEM    drill since"); i++) {
                    Thread.sleep(500);
                    st = Cli.run("status", "--config", cfg.toString());
                }
                assertThat(st.out()).as(st.toString()).containsPattern("PROBLEM +drill since");

                // a good backup: the next drill (of the newest) succeeds, and the drill problem is resolved
                Cli.Result good = Cli.run("backup", "--config", cfg.toString(), "--json", "--type", "physical");
                assertThat(good.exit()).as(good.toString()).isZero();
                String goodId = (String) Json.MAPPER.readValue(good.out(), Map.class).get("id");
                assertThat(awaitHook("resolved", "drl", "drill", 240)).as(agent.output()).isTrue();
                Cli.Result after = Cli.run("status", "--config", cfg.toString(), "--json");
                Map<String, Object> drill = map(cluster(after).get("lastDrill"));
                assertThat(drill).as(after.out()).containsEntry("ok", true).containsEntry("backup", goodId);
                assertThat(agent.term(60)).as(agent.output()).isZero();
            } finally {
                agent.close();
            }
        }
    }

    @Test
    void aStreamHeldUpByTheRepositoryAlertsOnItsLagAndIsResolvedWhenItCatchesUp() throws Exception {
        try (ScratchCluster pg = ScratchCluster.create(fx.work, ScratchCluster.Options.defaults()).start();
             TcpRelay relay = new TcpRelay(fx.s3.endpoint().getPort())) {
            Path cfg = fx.config("lag", pg.port(), "postgres", "stream:\n  flush-interval: 1s\n  lag-alert: 3s\n", top(),
                    "http://127.0.0.1:" + relay.port());
            AgentProcess agent = AgentProcess.start(cfg, fx.work.resolve("lag.log"));
            try {
                assertThat(agent.awaitOutput("streaming WAL from", 60)).as(agent.output()).isTrue();
                Thread.sleep(3000);
                assertThat(hooks).noneMatch(h -> "lag".equals(h.get("cluster")) && "stream-lag".equals(h.get("problem")));
                // the repository stops answering; the store waits (retrying) while WAL arrives
                relay.down();
                try (PgSession s = pg.session("postgres")) {
                    s.execute("CREATE TABLE t (i int)");
                    s.execute("INSERT INTO t SELECT generate_series(1, 10000)");
                }
                assertThat(awaitHook("problem", "lag", "stream-lag", 60)).as(agent.output()).isTrue();
                assertThat(message("problem", "stream-lag")).contains("behind the server", "lag-alert (3 s)");
                relay.up();
                assertThat(awaitHook("resolved", "lag", "stream-lag", 180)).as(agent.output()).isTrue();
                assertThat(agent.term(60)).as(agent.output()).isZero();
            } finally {
                agent.close();
            }
        }
    }

    private boolean awaitHook(String event, String cluster, String problem, int seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            if (hooks.stream().anyMatch(h -> event.equals(h.get("event")) && cluster.equals(h.get("cluster"))
                    && problem.equals(h.get("problem")))) {
                return true;
            }
            Thread.sleep(200);
        }
        return false;
    }

    private String message(String event, String problem) {
        return hooks.stream().filter(h -> event.equals(h.get("event")) && problem.equals(h.get("problem")))
                .map(h -> String.valueOf(h.get("message"))).findFirst().orElse("");
    }

    private static void flip(Path file, long at) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(at);
            int b = f.read();
            f.seek(at);
            f.write(b ^ 0x40);
        }
    }

    private static List<Path> files(Path dir, Predicate<Path> which) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).filter(which).sorted().toList();
        }
    }

    static Map<String, Object> cluster(Cli.Result status) throws IOException {
        Map<String, Object> st = map(Json.MAPPER.readValue(status.out(), Map.class));
        return map(((List<?>) st.get("clusters")).get(0));
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o) {
        return (Map<String, Object>) o;
    }
}
