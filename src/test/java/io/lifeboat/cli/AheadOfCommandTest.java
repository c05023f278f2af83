package io.lifeboat.cli;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The configuration options a restore's arguments give, read the way picocli reads them. */
class AheadOfCommandTest {
    @Test
    void readsTheClusterOptionsInEveryForm() {
        assertThat(AheadOfCommand.options(new String[] {"restore", "--config", "/a.yml", "--cluster=pb", "-D", "/d",
                "--allow-same-server", "--repo", "s3://b/p", "-j4", "--type", "physical"}))
                .isEqualTo(Map.of("config", "/a.yml", "cluster", "pb", "allow-same-server", "true", "repo", "s3://b/p",
                        "jobs", "4"));
        assertThat(AheadOfCommand.options(new String[] {"restore", "-c/b.yml", "--allow-same-server=false", "-c", "/c.yml"}))
                .as("the last one counts").isEqualTo(Map.of("config", "/c.yml", "allow-same-server", "false"));
        assertThat(AheadOfCommand.options(new String[] {"restore", "-D", "/d", "--", "--cluster", "x"})).isEmpty();
    }
}
