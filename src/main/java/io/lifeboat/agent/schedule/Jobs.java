package io.lifeboat.agent.schedule;

import io.lifeboat.config.AgentConfig;

/** Runs one job of a cluster to its end; returns what it did, throws when it failed. */
@FunctionalInterface
public interface Jobs {
    String run(AgentConfig.JobKind kind) throws Exception;
}
