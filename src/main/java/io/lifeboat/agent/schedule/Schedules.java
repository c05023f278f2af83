package io.lifeboat.agent.schedule;

import io.lifeboat.agent.AgentService;
import io.lifeboat.agent.ServiceFactory;
import io.lifeboat.config.ClusterConfig;

import java.time.Clock;
import java.util.List;
import java.util.function.Function;

/** The scheduler of each cluster that has schedules. */
public final class Schedules {
    private Schedules() {
    }

    /** The repository watcher of every served cluster (metrics, status, WAL gaps). */
    public static ServiceFactory watcher(java.time.Duration every) {
        return (cluster, agent, repo, state, problems, log) -> List.of(new CatalogWatcher(cluster.name(), repo.catalog(),
                new io.lifeboat.engine.archive.WalArchive(repo.storage(), repo.catalog().layout(), repo.pipeline()), state,
                problems, log, every));
    }

    /** @param restoreCommand the restore_command for a cluster's physical drills */
    public static ServiceFactory factory(Function<ClusterConfig, String> restoreCommand) {
        return (cluster, agent, repo, state, problems, log) -> {
            if (agent.schedules().isEmpty()) {
                return List.<AgentService>of();
            }
            return List.of(new Scheduler(cluster.name(), agent.schedules(),
                    new EngineJobs(cluster, repo, log, restoreCommand.apply(cluster)),
                    new JobRecords(repo.storage(), repo.catalog().layout()), state, problems, log, Clock.systemUTC()));
        };
    }
}
