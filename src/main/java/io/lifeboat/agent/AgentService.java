package io.lifeboat.agent;

import java.time.Duration;

/**
 * One long-running part of the agent for one cluster (the WAL stream, the scheduler, the catalog
 * watcher). Started in order, stopped in reverse order.
 */
public interface AgentService {
    String name();

    /** Starts the service's own threads and returns. */
    void start();

    /** Finishes or abandons current work safely within {@code grace}, then returns. */
    void stop(Duration grace);
}
