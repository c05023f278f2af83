package io.lifeboat.agent.runtime;

import io.lifeboat.LifeboatException;
import io.lifeboat.agent.AgentLease;
import io.lifeboat.agent.AgentService;
import io.lifeboat.agent.ClusterState;
import io.lifeboat.agent.ProblemBoard;
import io.lifeboat.agent.ServiceFactory;
import io.lifeboat.config.AgentConfig;
import io.lifeboat.config.ClusterConfig;
import io.lifeboat.engine.RepositoryAccess;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The agent's runtime for one cluster: its repository, its lease, and its services, started in
 * order and stopped in reverse order. The lease is renewed with the cluster's state every few
 * seconds; when another agent took it, this one stops serving the cluster.
 */
public final class ClusterAgent {
    private final ClusterConfig config;
    private final AgentConfig.ClusterAgent agent;
    private final ProblemBoard problems;
    private final ClusterState state;
    private final Consumer<String> log;
    private final ServiceFactory factory;
    private final Duration leaseSettle;
    private final List<AgentService> started = new ArrayList<>();
    private RepositoryAccess repo;
    private AgentLease lease;
    private Thread renewer;
    private volatile boolean stopping;

    public ClusterAgent(ClusterConfig config, AgentConfig.ClusterAgent agent, ProblemBoard problems, Consumer<String> log,
                        ServiceFactory factory, Duration leaseSettle) {
        this.config = config;
        this.agent = agent;
        this.problems = problems;
        this.log = log;
        this.factory = factory;
        this.leaseSettle = leaseSettle;
        this.state = new ClusterState(config.name());
    }

    public String name() {
        return config.name();
    }

    public ClusterState state() {
        return state;
    }

    public ClusterConfig config() {
        return config;
    }

    public AgentConfig.ClusterAgent agentConfig() {
        return agent;
    }

    /** The cluster's repositories, open while the agent serves the cluster (null before start). */
    public RepositoryAccess repository() {
        return repo;
    }

    /** Opens the repository, takes the lease, starts the services; on any failure undoes what it did. */
    public void start() {
        repo = RepositoryAccess.open(config, log);
        try {
            lease = new AgentLease(repo.storage(), repo.catalog().layout(), leaseSettle);
            lease.acquire();
            for (AgentService s : factory.services(config, agent, repo, state, problems, log)) {
                s.start();
                started.add(s);
                log.accept("cluster '" + name() + "': " + s.name() + " started");
            }
        } catch (RuntimeException e) {
            stop(Duration.ofSeconds(10));
            throw e;
        }
        renewer = new Thread(this::renewLoop, "lifeboat-lease-" + name());
        renewer.setDaemon(true);
        renewer.start();
    }

    private void renewLoop() {
        long wait = 1000; // the first renewal soon after start: `status` shows the running services' state
        while (!stopping) {
            try {
                Thread.sleep(wait);
            } catch (InterruptedException e) {
                return;
            }
            wait = AgentLease.RENEW_EVERY.toMillis();
            if (stopping) {
                return;
            }
            try {
                lease.renew(state.stream(), problems.open(name()), state.nextRuns());
                problems.resolve(name(), "lease", "lease renewed");
            } catch (LifeboatException e) {
                if (e.kind() == io.lifeboat.ErrorKind.CONFLICT) {
                    problems.raise(name(), "lease", e.getMessage() + "; this agent stops serving the cluster");
                    log.accept("warning: " + e.getMessage() + "; stopping the services of cluster '" + name() + "'");
                    stopServices(Duration.ofSeconds(20));
                    return;
                }
                state.repositoryError();
                problems.raise(name(), "lease", "cannot renew the agent lease: " + e.getMessage());
            }
        }
    }

    private synchronized void stopServices(Duration grace) {
        for (int i = started.size() - 1; i >= 0; i--) {
            AgentService s = started.get(i);
            try {
                s.stop(grace);
                log.accept("cluster '" + name() + "': " + s.name() + " stopped");
            } catch (RuntimeException e) {
                log.accept("warning: cluster '" + name() + "': stopping " + s.name() + " failed: " + e.getMessage());
            }
        }
        started.clear();
    }

    /** Stops the services (reverse order, each within {@code grace}), releases the lease, closes the repository. */
    public void stop(Duration grace) {
        stopping = true;
        if (renewer != null) {
            renewer.interrupt();
        }
        stopServices(grace);
        if (lease != null) {
            lease.release(state.stream());
        }
        if (repo != null) {
            repo.close();
        }
    }
}
