package io.lifeboat.it;

import io.lifeboat.catalog.Json;
import io.lifeboat.postgres.PgSession;
import io.lifeboat.postgres.ScratchCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The agent streams WAL over a slot under pgbench load; it is killed -9 five times at random
 * moments; then the server crashes (stop -m immediate) and its data directory is deleted. A restore
 * to the end of the archive holds every marker committed more than flush-interval before the crash,
 * and verify finds no gap. In synchronous mode, every acknowledged commit survives.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WalStreamIT {
    static final int FLUSH_SECONDS = 2;
    StreamFixture fx;

    @BeforeAll
    void start() throws Exception {
        fx = new StreamFixture();
    }

    @AfterAll
    void stop() {
        if (fx != null) {
            fx.close();
        }
    }

    @Test
    void killedAgentLosesNothingAndACrashLosesAtMostTheFlushInterval() throws Exception {
        try (ScratchCluster pg = ScratchCluster.create(fx.work, ScratchCluster.Options.defaults()).start();
             LauncherProperty property = LauncherProperty.set()) {
            StreamFixture.pgbenchInit(pg, 5);
            Path cfg = fx.config("st", pg.port(), "postgres", "stream:\n  flush-interval: " + FLUSH_SECONDS + "s\n",
                    "agent:\n  http:\n    listen: off\n");
            Path log = fx.work.resolve("agent-st.log");
            AgentProcess agent = AgentProcess.start(cfg, log);
            assertThat(agent.awaitOutput("streaming WAL from", 60)).as(agent.output()).isTrue();
            Cli.Result b = Cli.run("backup", "--config", cfg.toString(), "--json", "--type", "physical");
            assertThat(b.exit()).as(b.toString()).isZero();
            String id = (String) Json.MAPPER.readValue(b.out(), Map.class).get("id");

            Process bench = StreamFixture.pgbench(pg, 4, 25);
            Random random = new Random();
            long crashAt;
            Set<Integer> lost = new HashSet<>();
            StreamFixture.Markers markers = new StreamFixture.Markers(pg, 20);
            try {
                for (int kill = 0; kill < Integer.getInteger("lifeboat.it.kills", 5); kill++) {
                    Thread.sleep(1500 + random.nextInt(2500));
                    agent.kill9();
                    Thread.sleep(random.nextInt(1000));
                    agent = AgentProcess.start(cfg, log);
                    assertThat(agent.awaitOutput("(?s)(streaming WAL from.*){" + (kill + 2) + "}", 60))
                            .as("restart %d:\n%s", kill + 1, agent.output()).isTrue();
                }
                Thread.sleep(3000);
                crashAt = System.nanoTime();
                pg.stop("immediate");
            } finally {
                markers.close();
                bench.destroyForcibly();
                bench.waitFor();
            }
            // The agent stores what it received when the connection drops, then retries: stop it cleanly.
            assertThat(agent.awaitOutput("WAL stream failed", 30)).as(agent.output()).isTrue();
            assertThat(agent.term(60)).as(agent.output()).isZero();
            assertThat(agent.output()).contains("agent: stopped").doesNotContain("Exception in thread");
            assertThat(fx.walObjects("st")).anyMatch(n -> n.contains(".partial."));

            ScratchCluster.deleteTree(pg.dataDir());
            Cli.Result r = Cli.run("restore", "--config", cfg.toString(), "--json", "--backup", id, "--data-directory",
                    pg.dataDir().toString(), "--start", "--start-timeout", "180");
            assertThat(r.exit()).as(r.toString()).isZero();
            System.out.println("WalStreamIT restore: " + r.out() + r.err());
            Set<Integer> present = StreamFixture.markersIn(pg.connection("postgres"));
            long newestLost = -1;
            for (var e : markers.acked.entrySet()) {
                if (!present.contains(e.getKey())) {
                    lost.add(e.getKey());
                    newestLost = Math.max(newestLost, crashAt - e.getValue());
                }
                if (crashAt - e.getValue() > TimeUnit.SECONDS.toNanos(FLUSH_SECONDS)) {
                    assertThat(present).as("marker %d, committed %.1f s before the crash", e.getKey(),
                            (crashAt - e.getValue()) / 1e9).contains(e.getKey());
                }
            }
            System.out.printf("WalStreamIT: %d markers acknowledged, %d lost at the crash (RPO %.2f s)%n",
                    markers.acked.size(), lost.size(), lost.isEmpty() ? 0.0 : newestLost / 1e9);
            assertThat(markers.acked).hasSizeGreaterThan(100);
            pg.stop("fast");

            Cli.Result v = Cli.run("verify", "--config", cfg.toString(), "--backup", id);
            assertThat(v.exit()).as(v.toString()).isZero();
            assertThat(v.out()).contains("ok").doesNotContain("WAL GAP");
        }
    }
    @Test
    void synchronousModeLosesNoAcknowledgedCommit() throws Exception {
        try (ScratchCluster pg = ScratchCluster.create(fx.work, ScratchCluster.Options.defaults()
                .withConf("synchronous_standby_names = 'lifeboat_sync'", "synchronous_commit = on")).start();
             LauncherProperty property = LauncherProperty.set()) {
            Path cfg = fx.config("sy", pg.port(), "postgres", "stream:\n  synchronous: true\n  application-name: lifeboat_sync\n"
                    + "  flush-interval: 10s\n", "agent:\n  http:\n    listen: off\n");
            AgentProcess agent = AgentProcess.start(cfg, fx.work.resolve("agent-sy.log"));
            try {
                assertThat(agent.awaitOutput("streaming WAL from", 60)).as(agent.output()).isTrue();
                Cli.Result b = Cli.run("backup", "--config", cfg.toString(), "--json", "--type", "physical");
                assertThat(b.exit()).as(b.toString()).isZero();
                String id = (String) Json.MAPPER.readValue(b.out(), Map.class).get("id");
                try (PgSession s = pg.session("postgres")) {
                    assertThat(s.queryValue("SELECT sync_state FROM pg_stat_replication WHERE application_name = 'lifeboat_sync'"))
                            .contains("sync");
                }
                // The latency cost, measured: commits acknowledged by the agent against local commits.
                StreamFixture.Markers local = new StreamFixture.Markers(pg.connection("postgres"), 0, 1_000_000,
                        "SET synchronous_commit = local");
                Thread.sleep(3000);
                local.close();
                StreamFixture.Markers markers = new StreamFixture.Markers(pg.connection("postgres"), 0, 1, null);
                Thread.sleep(5000);
                long crashAt = System.nanoTime();
                pg.stop("immediate");
                markers.close();
                System.out.printf("WalStreamIT: synchronous commit %.2f ms (%d commits), local commit %.2f ms%n",
                        markers.meanCommitMillis(), markers.acked.size(), local.meanCommitMillis());
                assertThat(agent.awaitOutput("WAL stream failed", 30)).as(agent.output()).isTrue();
                assertThat(agent.term(60)).as(agent.output()).isZero();

                ScratchCluster.deleteTree(pg.dataDir());
                Cli.Result r = Cli.run("restore", "--config", cfg.toString(), "--backup", id, "--data-directory",
                        pg.dataDir().toString(), "--start", "--start-timeout", "180");
                assertThat(r.exit()).as(r.toString()).isZero();
                Set<Integer> present = StreamFixture.markersIn(pg.connection("postgres"));
                assertThat(markers.acked).hasSizeGreaterThan(20);
                assertThat(present).as("every commit acknowledged before the crash").containsAll(markers.acked.keySet());
                assertThat(crashAt).isPositive();
            } finally {
                agent.close();
            }
        }
    }
    /** A streaming standby of {@code primary} (pg_basebackup -R), run as the server's user. */
    static final class Standby implements AutoCloseable {
        final Path base;
        final Path data;
        final int port;
        final ScratchCluster primary;

        Standby(ScratchCluster primary, Path parent) throws Exception {
            this.primary = primary;
            base = java.nio.file.Files.createTempDirectory(parent, "standby-");
            ScratchCluster.giveToServerUser(base);
            data = base.resolve("data");
            port = ScratchCluster.freePort();
            run(List.of(primary.binDir().resolve("pg_basebackup").toString(), "-D", data.toString(), "-R", "-X", "stream",
                    "-h", "127.0.0.1", "-p", Integer.toString(primary.port()), "-U", "postgres"), "pg_basebackup");
            java.nio.file.Files.writeString(data.resolve("postgresql.conf"), "\nport = " + port
                    + "\nunix_socket_directories = '" + base + "'\n", java.nio.file.StandardOpenOption.APPEND);
            run(List.of(primary.binDir().resolve("pg_ctl").toString(), "-D", data.toString(), "-l",
                    base.resolve("server.log").toString(), "-w", "start"), "start the standby");
        }

        void run(List<String> cmd, String what) {
            new io.lifeboat.postgres.ExternalProcess(io.lifeboat.postgres.ExternalProcess.asUser(ScratchCluster.OS_USER, cmd),
                    Map.of()).runChecked(what);
        }

        io.lifeboat.postgres.PgConnectionSettings connection() {
            return new io.lifeboat.postgres.PgConnectionSettings("127.0.0.1", port, "postgres", "postgres", null, null);
        }

        void promote() {
            run(List.of(primary.binDir().resolve("pg_ctl").toString(), "-D", data.toString(), "-w", "promote"), "promote");
        }

        void stop(String mode) {
            new io.lifeboat.postgres.ExternalProcess(io.lifeboat.postgres.ExternalProcess.asUser(ScratchCluster.OS_USER,
                    List.of(primary.binDir().resolve("pg_ctl").toString(), "-D", data.toString(), "-m", mode, "-w", "stop")),
                    Map.of()).run();
        }

        @Override
        public void close() {
            if (java.nio.file.Files.exists(data.resolve("postmaster.pid"))) {
                stop("immediate");
            }
            ScratchCluster.deleteTree(base);
        }
    }

    @Test
    void aPromotionMidStreamIsFollowed() throws Exception {
        try (ScratchCluster primary = ScratchCluster.create(fx.work, ScratchCluster.Options.defaults()).start();
             Standby standby = new Standby(primary, fx.work);
             LauncherProperty property = LauncherProperty.set()) {
            Path cfg = fx.config("pr", standby.port, "postgres", "stream:\n  flush-interval: 2s\n",
                    "agent:\n  http:\n    listen: off\n");
            AgentProcess agent = AgentProcess.start(cfg, fx.work.resolve("agent-pr.log"));
            try {
                assertThat(agent.awaitOutput("streaming WAL from", 60)).as(agent.output()).isTrue();
                // The backup is taken from the primary; its WAL reaches the archive through the standby's stream.
                Cli.Result b = Cli.run("backup", "--config", cfg.toString(), "--pg-port", Integer.toString(primary.port()),
                        "--json", "--type", "physical");
                assertThat(b.exit()).as(b.toString()).isZero();
                String id = (String) Json.MAPPER.readValue(b.out(), Map.class).get("id");
                try (PgSession s = primary.session("postgres")) {
                    s.execute("CREATE TABLE t (phase text, i int)");
                    s.execute("INSERT INTO t SELECT 'before', g FROM generate_series(1, 1000) g");
                    s.queryValue("SELECT pg_switch_wal()");
                    s.execute("INSERT INTO t SELECT 'before', g FROM generate_series(1001, 2000) g");
                    String lsn = s.queryValue("SELECT pg_current_wal_lsn()").orElseThrow();
                    awaitReplayed(standby, lsn);
                }
                primary.stop("fast");
                standby.promote();
                try (PgSession s = PgSession.open(standby.connection())) {
                    s.execute("INSERT INTO t SELECT 'after', g FROM generate_series(1, 500) g");
                    s.queryValue("SELECT pg_switch_wal()");
                    s.execute("INSERT INTO t SELECT 'after', g FROM generate_series(501, 1000) g");
                    s.queryValue("SELECT pg_switch_wal()");
                }
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (System.nanoTime() < deadline && !(fx.walObjects("pr").stream().anyMatch(n -> n.startsWith("00000002.history"))
                        && fx.walObjects("pr").stream().anyMatch(n -> n.matches("00000002[0-9A-F]{16}\\.sha256-.*")))) {
                    Thread.sleep(200);
                }
                assertThat(fx.walObjects("pr")).as(agent.output()).anyMatch(n -> n.startsWith("00000002.history"))
                        .anyMatch(n -> n.matches("00000002[0-9A-F]{16}\\.sha256-.*"));
                assertThat(agent.output()).containsPattern("on timeline 2");
                assertThat(agent.term(60)).as(agent.output()).isZero();

                // The archive leads a restore of the standby's backup across the promotion, to the 'after' rows.
                standby.stop("immediate");
                ScratchCluster.deleteTree(standby.data);
                Cli.Result r = Cli.run("restore", "--config", cfg.toString(), "--json", "--backup", id, "--data-directory",
                        standby.data.toString(), "--start", "--start-timeout", "180", "--port", Integer.toString(standby.port));
                assertThat(r.exit()).as(r.toString()).isZero();
                Map<?, ?> server = (Map<?, ?>) Json.MAPPER.readValue(r.out(), Map.class).get("server");
                assertThat(((Number) server.get("timeline")).intValue()).isEqualTo(3);
                try (PgSession s = PgSession.open(standby.connection())) {
                    assertThat(s.queryValue("SELECT count(*) FROM t WHERE phase = 'before'")).contains("2000");
                    assertThat(s.queryValue("SELECT count(*) FROM t WHERE phase = 'after'")).contains("1000");
                }
                Cli.Result v = Cli.run("verify", "--config", cfg.toString(), "--backup", id);
                assertThat(v.exit()).as(v.toString()).isZero();
            } finally {
                agent.close();
            }
        }
    }

    static void awaitReplayed(Standby standby, String lsn) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        try (PgSession s = PgSession.open(standby.connection())) {
            while (System.nanoTime() < deadline && !s.queryValue("SELECT pg_last_wal_replay_lsn() >= '" + lsn + "'::pg_lsn")
                    .orElse("f").equals("t")) {
                Thread.sleep(100);
            }
        }
    }
    @Test
    void aRepositoryDownForAWhilePausesTheStreamTheSlotHoldsTheWalAndItCatchesUp() throws Exception {
        try (ScratchCluster pg = ScratchCluster.create(fx.work, ScratchCluster.Options.defaults()).start();
             TcpRelay relay = new TcpRelay(fx.s3.endpoint().getPort())) {
            Path cfg = fx.config("rd", pg.port(), "postgres", "stream:\n  flush-interval: 2s\n",
                    // a repository down for longer than its retry-time (default 2 min) fails the store: 5 s here
                    "agent:\n  http:\n    listen: off\n", "http://127.0.0.1:" + relay.port() + "&retry-time=5s");
            AgentProcess agent = AgentProcess.start(cfg, fx.work.resolve("agent-rd.log"));
            try {
                assertThat(agent.awaitOutput("streaming WAL from", 60)).as(agent.output()).isTrue();
                relay.down();
                String last;
                try (PgSession s = pg.session("postgres")) {
                    s.execute("CREATE TABLE t (i int, pad text)");
                    for (int i = 0; i < 3; i++) {
                        s.execute("INSERT INTO t SELECT g, repeat('x', 200) FROM generate_series(1, 20000) g");
                        s.queryValue("SELECT pg_switch_wal()");
                    }
                    last = s.queryValue("SELECT pg_walfile_name(pg_current_wal_lsn() - 1)").orElseThrow();
                    assertThat(agent.awaitOutput("PROBLEM rd/stream", 60)).as(agent.output()).isTrue();
                    // nothing stored, nothing flushed: the slot holds the WAL on the server
                    long held = Long.parseLong(s.queryValue("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint "
                            + "FROM pg_replication_slots WHERE slot_name = 'lifeboat_rd'").orElseThrow());
                    assertThat(held).isGreaterThan(2L * 16 * 1024 * 1024);
                }
                Thread.sleep(5000); // down for a while: the stream keeps retrying with back-off
                relay.up();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
                String wanted = last.substring(0, 24);
                while (System.nanoTime() < deadline && fx.walObjects("rd").stream().noneMatch(n -> n.startsWith(wanted + ".sha256-"))) {
                    Thread.sleep(200);
                }
                assertThat(fx.walObjects("rd")).as(agent.output()).anyMatch(n -> n.startsWith(wanted + ".sha256-"));
                assertThat(agent.awaitOutput("resolved rd/stream", 30)).as(agent.output()).isTrue();
                assertThat(agent.term(60)).as(agent.output()).isZero();
            } finally {
                agent.close();
            }
        }
    }
}
