package io.lifeboat.agent;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.Json;
import io.lifeboat.catalog.RepositoryLayout;
import io.lifeboat.storage.Storage;

import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * One agent per repository prefix: an object in the repository ({@code <cluster>/agent/lease.json})
 * names the agent that serves the cluster (host, pid) and until when; the agent renews it, and with
 * it reports its state for `lifeboat status`. A second agent refuses to start while another's lease
 * runs. Two agents started at the same moment both write, wait, and read again: the storage keeps
 * one write, and the agent whose write was lost steps back. (The replication slot, active for one
 * client at a time, is the second guard for the stream.)
 */
public final class AgentLease {
    public static final Duration TTL = Duration.ofSeconds(30);
    /** How often a serving agent renews its lease (with its state). */
    public static final Duration RENEW_EVERY = Duration.ofSeconds(10);

    /** The lease object. */
    public record Record(String host, long pid, String token, Instant acquired, Instant renewed, Instant expires,
                         StreamStatus stream, List<ProblemBoard.Problem> problems, Map<String, Instant> nextRuns) {
        public boolean expired(Instant now) {
            return expires == null || expires.isBefore(now);
        }

        public String owner() {
            return host + " (pid " + pid + ")";
        }
    }

    private final Storage storage;
    private final RepositoryLayout layout;
    private final Duration settle;
    private final String token = UUID.randomUUID().toString();
    private final String host = hostName();
    private final long pid = ProcessHandle.current().pid();
    private Instant acquired;

    public AgentLease(Storage storage, RepositoryLayout layout, Duration settle) {
        this.storage = storage;
        this.layout = layout;
        this.settle = settle;
    }

    /** This host's name, as leases, job records and alerts name it. */
    public static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "unknown-host";
        }
    }

    /** The lease of a cluster as stored, if there is one. */
    public static Optional<Record> read(Storage storage, RepositoryLayout layout) {
        try {
            return Optional.of(Json.MAPPER.readValue(storage.get(layout.agentLease()), Record.class));
        } catch (LifeboatException e) {
            if (e.kind() == ErrorKind.NOT_FOUND) {
                return Optional.empty();
            }
            throw e;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new LifeboatException(ErrorKind.CORRUPT, "the agent lease " + layout.agentLease() + " is not valid JSON: "
                    + e.getOriginalMessage(), "stop every agent of this cluster and delete the object", e);
        } catch (IOException e) {
            throw new LifeboatException(ErrorKind.STORAGE, "cannot read the agent lease " + layout.agentLease() + ": "
                    + e.getMessage(), "check the repository", e);
        }
    }

    /** Takes the lease, or fails with CONFLICT naming the agent that holds it. */
    public void acquire() {
        Instant now = Instant.now();
        Optional<Record> held = read(storage, layout);
        if (held.isPresent() && !held.get().expired(now) && !held.get().token().equals(token) && !deadHere(held.get())) {
            throw taken(held.get());
        }
        acquired = now;
        write(null, List.of(), Map.of());
        try {
            Thread.sleep(settle.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LifeboatException(ErrorKind.INTERRUPTED, "interrupted while taking the agent lease");
        }
        Optional<Record> after = read(storage, layout);
        if (after.isEmpty() || !after.get().token().equals(token)) {
            throw after.map(this::taken).orElseGet(() -> new LifeboatException(ErrorKind.CONFLICT, "the agent lease "
                    + layout.agentLease() + " vanished while it was being taken", "is another agent starting? try again"));
        }
    }

    /** The lease of a process on this host that is gone (killed, crashed): restarting need not wait for it to expire. */
    private boolean deadHere(Record r) {
        return host.equals(r.host()) && r.pid() != pid && !alive(r.pid());
    }

    /** Whether a process of this host is alive. */
    public static boolean alive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    private LifeboatException taken(Record r) {
        return new LifeboatException(ErrorKind.CONFLICT, "cluster '" + layout.cluster() + "' is already served by the "
                + "agent on " + r.owner() + ", whose lease runs until " + r.expires(), "run one agent per cluster: stop "
                + "the other one first (its lease expires " + TTL.toSeconds() + " s after it stops renewing it)");
    }

    /**
     * Renews the lease with the agent's current state. Throws CONFLICT when another agent has taken
     * it meanwhile (this agent must then stop serving the cluster).
     */
    public void renew(StreamStatus stream, List<ProblemBoard.Problem> problems, Map<String, Instant> nextRuns) {
        Optional<Record> now = read(storage, layout);
        if (now.isPresent() && !now.get().token().equals(token) && !now.get().expired(Instant.now())) {
            throw taken(now.get());
        }
        write(stream, problems, nextRuns);
    }

    private void write(StreamStatus stream, List<ProblemBoard.Problem> problems, Map<String, Instant> nextRuns) {
        Instant now = Instant.now();
        Record r = new Record(host, pid, token, acquired, now, now.plus(TTL), stream, problems, nextRuns);
        try {
            storage.put(layout.agentLease(), Json.MAPPER.writeValueAsBytes(r));
        } catch (IOException e) {
            throw new LifeboatException(ErrorKind.STORAGE, "cannot write the agent lease " + layout.agentLease() + ": "
                    + e.getMessage(), "check the repository", e);
        }
    }

    /** Gives the lease up (on a clean stop), with the final state; leaves another agent's lease alone. */
    public void release(StreamStatus stream) {
        try {
            Optional<Record> now = read(storage, layout);
            if (now.isPresent() && now.get().token().equals(token)) {
                Instant t = Instant.now();
                Record r = new Record(host, pid, token, acquired, t, t, stream == null ? null
                        : stream.withState("stopped"), List.of(), Map.of());
                storage.put(layout.agentLease(), Json.MAPPER.writeValueAsBytes(r));
            }
        } catch (IOException | RuntimeException e) {
            // it expires by itself
        }
    }
}
