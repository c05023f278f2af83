package io.lifeboat.agent;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The agent's open problems (a failed job, a stream behind, a WAL gap, a repository error), each
 * under a key so that it is raised once and resolved once: listeners (notifications) hear of each
 * change of state, not of every repetition. /healthz and `lifeboat status` show what is open.
 */
public final class ProblemBoard {
    /** An open problem. {@code key} is stable per cause, e.g. "stream", "job:physical", "wal-gap". */
    public record Problem(String cluster, String key, String message, Instant since) {
    }

    /** Told when a problem opens and when it is resolved. */
    public interface Listener {
        void opened(Problem p);

        void resolved(Problem p, String how);
    }

    private final Map<String, Problem> open = new ConcurrentHashMap<>();
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();

    public void listen(Listener l) {
        listeners.add(l);
    }

    /** Opens a problem, or keeps it open with the newer message (listeners hear only of the first). */
    public void raise(String cluster, String key, String message) {
        String id = cluster + "/" + key;
        Problem fresh = new Problem(cluster, key, message, Instant.now());
        Problem before = open.putIfAbsent(id, fresh);
        if (before == null) {
            listeners.forEach(l -> l.opened(fresh));
        } else {
            open.put(id, new Problem(cluster, key, message, before.since()));
        }
    }

    /** Resolves a problem if it is open. */
    public void resolve(String cluster, String key, String how) {
        Problem p = open.remove(cluster + "/" + key);
        if (p != null) {
            listeners.forEach(l -> l.resolved(p, how));
        }
    }

    public List<Problem> open() {
        List<Problem> out = new ArrayList<>(open.values());
        out.sort((a, b) -> a.since().compareTo(b.since()));
        return out;
    }

    public List<Problem> open(String cluster) {
        return open().stream().filter(p -> p.cluster().equals(cluster)).toList();
    }
}
