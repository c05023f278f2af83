package io.lifeboat.config;

import io.lifeboat.LifeboatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AgentConfigLoaderTest {
    @TempDir
    Path dir;

    Path write(String yaml) throws Exception {
        Path f = dir.resolve("lifeboat.yml");
        Files.writeString(f, yaml);
        return f;
    }

    static final String BASE = "clusters:\n  main:\n    repositories:\n      - uri: file:///mnt/x\n";

    @Test
    void readsStreamSchedulesHttpAndNotifications() throws Exception {
        Path f = write("agent:\n  http:\n    listen: 0.0.0.0:9999\n    token-file: /etc/t\n  notify:\n    webhook:\n"
                + "      url: http://127.0.0.1:1/hook\n      format: slack\n    email:\n      smtp-host: mail\n"
                + "      from: a@b.c\n      to: [x@y.z]\n" + BASE
                + "    agent:\n      stream:\n        slot: s1\n        flush-interval: 5s\n        synchronous: true\n"
                + "      schedules:\n        physical: '0 3 * * *'\n        drill: '30 4 * * 6'\n"
                + "  other:\n    repositories:\n      - uri: file:///mnt/y\n");
        AgentConfig c = AgentConfigLoader.load(f);
        assertThat(c.http().host()).isEqualTo("0.0.0.0");
        assertThat(c.http().port()).isEqualTo(9999);
        assertThat(c.notifications().webhook().slack()).isTrue();
        assertThat(c.notifications().email().port()).isEqualTo(587);
        assertThat(c.clusters()).containsOnlyKeys("main");
        AgentConfig.ClusterAgent a = c.clusters().get("main");
        assertThat(a.stream().slot()).isEqualTo("s1");
        assertThat(a.stream().flushInterval()).isEqualTo(Duration.ofSeconds(5));
        assertThat(a.stream().synchronous()).isTrue();
        assertThat(a.schedules()).containsOnlyKeys(AgentConfig.JobKind.PHYSICAL, AgentConfig.JobKind.DRILL);
        // a plain cluster file still loads for the one-shot commands
        assertThat(ConfigLoader.load(f, "main", java.util.Map.of(), java.util.Map.of()).name()).isEqualTo("main");
    }

    @Test
    void badCronNamesTheKeyAndLine() throws Exception {
        Path f = write(BASE + "    agent:\n      schedules:\n        physical: '61 * * * *'\n");
        assertThatThrownBy(() -> AgentConfigLoader.load(f)).isInstanceOf(LifeboatException.class)
                .hasMessageContaining("line 7").hasMessageContaining("'clusters.main.agent.schedules.physical'")
                .hasMessageContaining("not a cron expression");
    }

    @Test
    void theDashboardIsReadOnlyUnlessDrillsAreAllowed() throws Exception {
        String cluster = BASE + "    agent:\n      stream: {}\n";
        assertThat(AgentConfigLoader.load(write(cluster)).http().drills()).isFalse();
        assertThat(AgentConfigLoader.load(write("agent:\n  http:\n    listen: 127.0.0.1:9187\n" + cluster)).http().drills())
                .isFalse();
        assertThat(AgentConfigLoader.load(write("agent:\n  http:\n    drills: true\n" + cluster)).http().drills()).isTrue();
        assertThatThrownBy(() -> AgentConfigLoader.load(write("agent:\n  http:\n    drills: sometimes\n" + cluster)))
                .isInstanceOfSatisfying(LifeboatException.class, e -> {
                    assertThat(e.exitCode()).isEqualTo(3);
                    assertThat(e.getMessage()).contains("drills", "true or false");
                });
    }

    @Test
    void nonLoopbackListenerNeedsAToken() throws Exception {
        Path f = write("agent:\n  http:\n    listen: 0.0.0.0:9187\n" + BASE + "    agent:\n      stream: {}\n");
        assertThatThrownBy(() -> AgentConfigLoader.load(f)).hasMessageContaining("token-file");
    }

    @Test
    void unknownClusterAndClusterWithoutAgentAreRefused() throws Exception {
        Path f = write(BASE + "    agent:\n      stream: {}\n  plain:\n    repositories:\n      - uri: file:///mnt/y\n");
        AgentConfig c = AgentConfigLoader.load(f);
        List<String> names = ConfigLoader.clusterNames(f);
        assertThat(AgentConfigLoader.select(c, List.of(), f, names)).hasSize(1);
        assertThatThrownBy(() -> AgentConfigLoader.select(c, List.of("nope"), f, names))
                .hasMessageContaining("cluster 'nope' is not defined");
        assertThatThrownBy(() -> AgentConfigLoader.select(c, List.of("plain"), f, names))
                .hasMessageContaining("has no 'agent:' section");
    }

    @Test
    void badValuesNameTheirKey() throws Exception {
        assertThatThrownBy(() -> AgentConfigLoader.load(write(BASE + "    agent:\n      stream:\n        slot: Bad-Name\n")))
                .hasMessageContaining("'clusters.main.agent.stream.slot'");
        assertThatThrownBy(() -> AgentConfigLoader.load(write(BASE + "    agent:\n      stream:\n        flush-interval: soon\n")))
                .hasMessageContaining("flush-interval");
        assertThatThrownBy(() -> AgentConfigLoader.load(write(BASE + "    agent:\n      strem: {}\n")))
                .hasMessageContaining("is not a known setting");
        assertThatThrownBy(() -> AgentConfigLoader.load(write(BASE + "    agent:\n      stream:\n        lag-alert: 5s\n")))
                .hasMessageContaining("longer than flush-interval");
    }
}
