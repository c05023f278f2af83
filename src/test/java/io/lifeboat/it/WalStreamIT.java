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
                for (int kill = 0; kill < Integer.getInteger("kills", 5); kill++) {
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
                    pg.dataDir().toString(), "--start");
            assertThat(r.exit()).as(r.toString()).isZero();
            System.out.println("WalStreamIT restore: " + r.out() + r.err());
            Set<Integer> present = new HashSet<>();
            try (PgSession s = pg.session("postgres")) {
                for (List<String> row : s.query("SELECT n FROM markers")) {
                    present.add(Integer.parseInt(row.get(0)));
                }
            }
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
}
