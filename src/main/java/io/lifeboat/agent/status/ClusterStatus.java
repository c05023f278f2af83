package io.lifeboat.agent.status;

import io.lifeboat.agent.AgentPresence;
import io.lifeboat.agent.JobRecord;
import io.lifeboat.agent.ProblemBoard;
import io.lifeboat.agent.StreamStatus;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * What `lifeboat status` shows for one cluster, read from the repository (the agent's lease with
 * its last reported state, job records, backups, drills) and, when reachable, the server (the slot).
 */
public record ClusterStatus(String name, Agent agent, StreamStatus stream, Slot slot, Map<String, Backup> lastBackups,
                            Instant pitrOldest, Instant pitrNewest, Drill lastDrill, Map<String, Job> jobs,
                            List<ProblemBoard.Problem> problems, List<String> notes) {
    /**
     * @param running whether an agent holds the lease: not expired, and its holder not proven gone
     * @param state   running, not-renewed (another host's agent late renewing it), gone (a process of this
     *                host that is not there any more), stopped, expired or never
     * @param summary what `status` prints
     */
    public record Agent(boolean running, AgentPresence.State state, String host, Long pid, Instant renewed, Instant expires,
                        String summary) {
    }

    /** The slot as the server reports it (null fields when the server could not be asked). */
    public record Slot(String name, Boolean exists, Boolean active, Long retainedBytes, String walStatus, String error) {
    }

    public record Backup(String id, Instant end, double seconds) {
    }

    public record Drill(String backup, Instant time, boolean ok, double seconds) {
    }

    public record Job(JobRecord last, Instant next) {
    }
}
