package io.lifeboat.agent;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** What `status` makes of a lease: a dead agent of this host at once, another host's late renewal said as such. */
class AgentPresenceTest {
    static final Instant NOW = Instant.parse("2026-12-01T10:00:00Z");

    static Optional<AgentLease.Record> lease(String host, long pid, Instant renewed, Instant expires) {
        return Optional.of(new AgentLease.Record(host, pid, "t", renewed.minusSeconds(60), renewed, expires, null, List.of(),
                Map.of()));
    }

    static AgentPresence of(Optional<AgentLease.Record> l, boolean alive) {
        return AgentPresence.of(l, NOW, "backup1", pid -> alive);
    }

    @Test
    void aLeaseOfAProcessOfThisHostThatIsGoneIsADeadAgentBeforeItExpires() {
        var l = lease("backup1", 4242, NOW.minusSeconds(3), NOW.plusSeconds(27));
        assertThat(of(l, true).state()).isEqualTo(AgentPresence.State.RUNNING);
        assertThat(of(l, true).running()).isTrue();
        AgentPresence gone = of(l, false);
        assertThat(gone.state()).isEqualTo(AgentPresence.State.GONE);
        assertThat(gone.running()).isFalse();
        assertThat(gone.describe(l.get(), NOW)).contains("backup1 (pid 4242) is gone", "3 s ago");
    }

    @Test
    void anotherHostsLeaseNotRenewedOnTimeSaysSinceWhen() {
        var fresh = lease("backup2", 42, NOW.minusSeconds(5), NOW.plusSeconds(25));
        // the pid means nothing here: another host's process is never looked up
        assertThat(of(fresh, false).state()).isEqualTo(AgentPresence.State.RUNNING);
        var late = lease("backup2", 42, NOW.minusSeconds(20), NOW.plusSeconds(10));
        AgentPresence p = of(late, false);
        assertThat(p.state()).isEqualTo(AgentPresence.State.NOT_RENEWED);
        assertThat(p.running()).isTrue(); // it still holds the lease: a second agent is refused until it expires
        assertThat(p.describe(late.get(), NOW)).startsWith("not renewed since 2026-12-01T09:59:40Z (20 s ago) by the agent on "
                + "backup2 (pid 42)").contains("expires at 2026-12-01T10:00:10Z");
    }

    @Test
    void stoppedExpiredAndNever() {
        assertThat(of(lease("backup1", 1, NOW.minusSeconds(50), NOW.minusSeconds(50)), true).state())
                .isEqualTo(AgentPresence.State.STOPPED);
        assertThat(of(lease("backup2", 1, NOW.minusSeconds(50), NOW.minusSeconds(20)), true).state())
                .isEqualTo(AgentPresence.State.EXPIRED);
        assertThat(of(Optional.empty(), true).state()).isEqualTo(AgentPresence.State.NEVER);
        assertThat(AgentPresence.State.NOT_RENEWED.id()).isEqualTo("not-renewed");
    }
}
