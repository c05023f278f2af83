package io.lifeboat.agent;

import io.lifeboat.config.AgentConfig;
import io.lifeboat.config.ClusterConfig;
import io.lifeboat.engine.RepositoryAccess;

import java.util.List;
import java.util.function.Consumer;

/** Builds a cluster's services once its repository is open and its lease taken (the runtime's one seam per area). */
@FunctionalInterface
public interface ServiceFactory {
    List<AgentService> services(ClusterConfig cluster, AgentConfig.ClusterAgent agent, RepositoryAccess repo,
                                ClusterState state, ProblemBoard problems, Consumer<String> log);
}
