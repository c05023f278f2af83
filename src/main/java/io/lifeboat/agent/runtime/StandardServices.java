package io.lifeboat.agent.runtime;

import io.lifeboat.agent.AgentService;
import io.lifeboat.agent.ClusterState;
import io.lifeboat.agent.ProblemBoard;
import io.lifeboat.agent.ServiceFactory;
import io.lifeboat.agent.stream.WalStreamService;
import io.lifeboat.config.AgentConfig;
import io.lifeboat.config.ClusterConfig;
import io.lifeboat.engine.RepositoryAccess;
import io.lifeboat.engine.archive.WalArchive;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/** The services of a cluster, in start order: the WAL stream first (it protects data), then the rest. */
public final class StandardServices implements ServiceFactory {
    private final List<ServiceFactory> more;

    /** @param more further services (scheduler, catalog watcher), started after the stream */
    public StandardServices(List<ServiceFactory> more) {
        this.more = List.copyOf(more);
    }

    @Override
    public List<AgentService> services(ClusterConfig cluster, AgentConfig.ClusterAgent agent, RepositoryAccess repo,
                                       ClusterState state, ProblemBoard problems, Consumer<String> log) {
        List<AgentService> out = new ArrayList<>();
        if (agent.stream() != null) {
            out.add(new WalStreamService(cluster.name(), cluster.postgres(), agent.stream(), repo.catalog(),
                    new WalArchive(repo.storage(), repo.catalog().layout(), repo.pipeline()), state, problems, log));
        }
        for (ServiceFactory f : more) {
            out.addAll(f.services(cluster, agent, repo, state, problems, log));
        }
        return out;
    }
}
