package io.lifeboat.agent.runtime;

import io.lifeboat.agent.ProblemBoard;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;

/**
 * The whole `lifeboat agent` process: one {@link ClusterAgent} per served cluster, plus
 * process-wide parts (the HTTP endpoint, notifications) that see every cluster. Stops cleanly on
 * SIGTERM: a shutdown hook stops everything within a bounded time (the streams store what they
 * received and tell the server; a running job is finished or abandoned safely).
 */
public final class Agent {
    /** A process-wide part, started after the clusters and stopped before them. */
    public interface Part {
        void start(List<io.lifeboat.agent.ClusterState> clusters);

        void stop();
    }

    private final List<ClusterAgent> clusters;
    private final List<Part> parts;
    private final ProblemBoard problems;
    private final Consumer<String> log;
    private final Duration grace;
    private final List<ClusterAgent> running = new ArrayList<>();
    private final List<Part> runningParts = new ArrayList<>();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private boolean stopDone;

    public Agent(List<ClusterAgent> clusters, List<Part> parts, ProblemBoard problems, Consumer<String> log, Duration grace) {
        this.clusters = List.copyOf(clusters);
        this.parts = List.copyOf(parts);
        this.problems = problems;
        this.log = log;
        this.grace = grace;
    }

    public ProblemBoard problems() {
        return problems;
    }

    public List<ClusterAgent> clusters() {
        return clusters;
    }

    /** Starts every cluster, then the parts; when one cannot start, stops what started and rethrows. */
    public synchronized void start() {
        try {
            for (ClusterAgent c : clusters) {
                c.start();
                running.add(c);
            }
            for (Part p : parts) {
                p.start(clusters.stream().map(ClusterAgent::state).toList());
                runningParts.add(p);
            }
        } catch (RuntimeException e) {
            stop();
            throw e;
        }
    }

    /** Registers the shutdown hook (SIGTERM, SIGINT): a clean stop within the grace time. */
    public void stopOnShutdown() {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            log.accept("agent: stopping (signal)");
            stop();
            // A clean stop on SIGTERM is success (exit 0), not 143: systemd and scripts read it so.
            Runtime.getRuntime().halt(0);
        }, "lifeboat-agent-shutdown"));
    }

    /** Stops the parts, then the clusters in reverse order; idempotent. */
    public synchronized void stop() {
        if (stopDone) {
            return;
        }
        stopDone = true;
        for (int i = runningParts.size() - 1; i >= 0; i--) {
            try {
                runningParts.get(i).stop();
            } catch (RuntimeException e) {
                log.accept("warning: " + e.getMessage());
            }
        }
        for (int i = running.size() - 1; i >= 0; i--) {
            running.get(i).stop(grace);
        }
        log.accept("agent: stopped");
        stopped.countDown();
    }

    /** Blocks until the agent is stopped. */
    public void await() throws InterruptedException {
        stopped.await();
    }
}
