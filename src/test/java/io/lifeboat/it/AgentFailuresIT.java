package io.lifeboat.it;

import io.lifeboat.postgres.PgSession;
import io.lifeboat.postgres.ScratchCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the agent refuses, each with an error that says what to change: an unknown cluster, a bad
 * cron expression, a role without REPLICATION, a server without replication slots, a slot another
 * client streams from, and a second agent for the same cluster (two started at once: one serves).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AgentFailuresIT {
    StreamFixture fx;
    ScratchCluster pg;

    @BeforeAll
    void start() throws Exception {
        System.setProperty("lifeboat.agent.lease-settle-ms", "300");
        fx = new StreamFixture();
        pg = ScratchCluster.create(fx.work, ScratchCluster.Options.defaults()).start();
        try (PgSession s = pg.session("postgres")) {
            s.execute("CREATE ROLE norepl LOGIN");
        }
    }

    @AfterAll
    void stop() {
        if (pg != null) {
            pg.close();
        }
        if (fx != null) {
            fx.close();
        }
        System.clearProperty("lifeboat.agent.lease-settle-ms");
    }

    @Test
    void unknownClusterAndBadCronAreRefusedBeforeAnythingStarts() throws Exception {
        Path cfg = fx.config("u", pg.port(), "postgres", "stream: {}\nschedules:\n  physical: '0 25 * * *'\n", "");
        Cli.Result bad = Cli.run("agent", "--config", cfg.toString());
        assertThat(bad.exit()).as(bad.toString()).isEqualTo(3);
        assertThat(bad.err()).contains("'clusters.u.agent.schedules.physical'", "not a cron expression", "line");
        Path good = fx.config("u", pg.port(), "postgres", "stream: {}\n", "");
        Cli.Result unknown = Cli.run("agent", "--config", good.toString(), "--cluster", "nope");
        assertThat(unknown.exit()).as(unknown.toString()).isEqualTo(2);
        assertThat(unknown.err()).contains("cluster 'nope' is not defined", "defined clusters: u");
    }

    @Test
    void aRoleWithoutReplicationIsToldWhatToGrant() throws Exception {
        Path cfg = fx.config("nr", pg.port(), "norepl", "stream: {}\n", "agent:\n  http:\n    listen: off\n");
        Cli.Result r = Cli.run("agent", "--config", cfg.toString());
        assertThat(r.exit()).as(r.toString()).isEqualTo(5);
        assertThat(r.err()).contains("ALTER ROLE \"norepl\" REPLICATION");
    }

    @Test
    void aServerWithoutReplicationSlotsIsToldWhatToSet() throws Exception {
        try (ScratchCluster noSlots = ScratchCluster.create(fx.work, ScratchCluster.Options.defaults()
                .withConf("max_replication_slots = 0")).start()) {
            Path cfg = fx.config("ns", noSlots.port(), "postgres", "stream: {}\n", "agent:\n  http:\n    listen: off\n");
            Cli.Result r = Cli.run("agent", "--config", cfg.toString());
            assertThat(r.exit()).as(r.toString()).isEqualTo(5);
            assertThat(r.err()).contains("max_replication_slots");
        }
    }

    @Test
    void statusTellsAnAgentKilledOnThisHostAtOnceNotWhenItsLeaseExpires() throws Exception {
        Path cfg = fx.config("k9", pg.port(), "postgres", "stream: {}\n", "agent:\n  http:\n    listen: off\n");
        AgentProcess agent = AgentProcess.start(cfg, fx.work.resolve("k9.log"));
        try {
            assertThat(agent.awaitOutput("streaming WAL from", 60)).as(agent.output()).isTrue();
            Cli.Result before = Cli.run("status", "--config", cfg.toString(), "--json");
            // the lease carries the stream's state from its first renewal after the stream started (10 s)
            for (int i = 0; i < 60 && !before.out().contains("\"streaming\""); i++) {
                Thread.sleep(500);
                before = Cli.run("status", "--config", cfg.toString(), "--json");
            }
            assertThat(before.out()).as(before.toString()).contains("\"streaming\"");
            assertThat(agentOf(before)).containsEntry("running", true).containsEntry("state", "running");
            agent.kill9();
            // at once: the lease runs for another 30 s, but its holder is a process of this host that is gone
            Cli.Result after = Cli.run("status", "--config", cfg.toString(), "--json");
            assertThat(after.exit()).as(after.toString()).isZero();
            Map<String, Object> a = agentOf(after);
            assertThat(a).containsEntry("running", false).containsEntry("state", "gone");
            assertThat(java.time.Instant.parse((String) a.get("expires"))).isAfter(java.time.Instant.now());
            Cli.Result text = Cli.run("status", "--config", cfg.toString());
            assertThat(text.out()).contains("is gone (killed or crashed").containsPattern("stream +not running \\(agent gone");
        } finally {
            agent.close();
        }
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> agentOf(Cli.Result status) throws Exception {
        Map<String, Object> st = io.lifeboat.catalog.Json.MAPPER.readValue(status.out(), Map.class);
        return (Map<String, Object>) ((Map<String, Object>) ((java.util.List<?>) st.get("clusters")).get(0)).get("agent");
    }

    @Test
    void twoAgentsStartedAtOnceLeaveOneServingAndASlotInUseIsRefused() throws Exception {
        Path cfg = fx.config("two", pg.port(), "postgres", "stream:\n  slot: shared_slot\n", "agent:\n  http:\n    listen: off\n");
        AgentProcess a = AgentProcess.start(cfg, fx.work.resolve("two-a.log"));
        AgentProcess b = AgentProcess.start(cfg, fx.work.resolve("two-b.log"));
        try {
            long deadline = System.nanoTime() + 90_000_000_000L;
            while (a.alive() && b.alive() && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            AgentProcess loser = a.alive() ? b : a;
            AgentProcess winner = a.alive() ? a : b;
            assertThat(loser.waitFor(10)).as(loser.output()).isEqualTo(9);
            assertThat(loser.output()).containsAnyOf("already served by the agent on", "is in use by another client");
            assertThat(winner.awaitOutput("streaming WAL from", 60)).as(winner.output()).isTrue();
            assertThat(winner.alive()).isTrue();

            // Another cluster (its own repository prefix) naming the same slot: the server refuses the second client.
            Path other = fx.config("other", pg.port(), "postgres", "stream:\n  slot: shared_slot\n",
                    "agent:\n  http:\n    listen: off\n");
            Cli.Result r = Cli.run("agent", "--config", other.toString());
            assertThat(r.exit()).as(r.toString()).isEqualTo(9);
            assertThat(r.err()).contains("in use by another client", "agent.stream.slot");
            assertThat(winner.term(60)).as(winner.output()).isZero();
        } finally {
            a.close();
            b.close();
        }
        assertThat(Files.exists(fx.work)).isTrue();
    }
}
