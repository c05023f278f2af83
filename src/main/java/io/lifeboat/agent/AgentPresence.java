package io.lifeboat.agent;

import com.fasterxml.jackson.annotation.JsonValue;

import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Optional;
import java.util.function.LongPredicate;

/**
 * Whether an agent serves a cluster, as far as its lease tells and this host can prove: a lease that
 * has not expired but belongs to a process of this host that is gone (kill -9, a crash) is a dead
 * agent at once, as the lease takeover decides too; a lease of another host that was not renewed for
 * longer than the renewal interval allows is said to be so, with the time of its last renewal.
 *
 * @param running an agent holds the lease: it has not expired and its holder is not proven gone
 */
public record AgentPresence(State state, boolean running, Instant renewed, Instant expires) {
    /** A lease renewed longer ago than this (one and a half renewal intervals) is late. */
    public static final Duration LATE = AgentLease.RENEW_EVERY.plus(AgentLease.RENEW_EVERY.dividedBy(2));

    public enum State {
        /** the lease is held and renewed on time */
        RUNNING,
        /** held, but not renewed on time by an agent of another host (stuck, cut off from the repository, or gone) */
        NOT_RENEWED,
        /** held by a process of this host that is gone */
        GONE,
        /** released by a clean stop */
        STOPPED,
        /** expired without a clean stop */
        EXPIRED,
        /** no lease: no agent ever served the cluster */
        NEVER;

        @JsonValue
        public String id() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    /**
     * @param thisHost     the host asking (as {@link AgentLease#hostName()} names it)
     * @param processAlive whether a process id of this host is alive
     */
    public static AgentPresence of(Optional<AgentLease.Record> lease, Instant now, String thisHost, LongPredicate processAlive) {
        if (lease.isEmpty()) {
            return new AgentPresence(State.NEVER, false, null, null);
        }
        AgentLease.Record r = lease.get();
        State s;
        if (r.expired(now)) {
            s = r.expires() != null && r.expires().equals(r.renewed()) ? State.STOPPED : State.EXPIRED;
        } else if (thisHost.equals(r.host()) && !processAlive.test(r.pid())) {
            s = State.GONE;
        } else if (!thisHost.equals(r.host()) && (r.renewed() == null || r.renewed().plus(LATE).isBefore(now))) {
            s = State.NOT_RENEWED;
        } else {
            s = State.RUNNING;
        }
        return new AgentPresence(s, s == State.RUNNING || s == State.NOT_RENEWED, r.renewed(), r.expires());
    }

    /** As {@link #of(Optional, Instant, String, LongPredicate)} from this host, now. */
    public static AgentPresence of(Optional<AgentLease.Record> lease) {
        return of(lease, Instant.now(), AgentLease.hostName(), AgentLease::alive);
    }

    /** What `status` and `check` say about it, e.g. "not renewed since 2026-12-01T10:00:00Z by db2 (pid 42)". */
    public String describe(AgentLease.Record r, Instant now) {
        String owner = r == null ? null : r.owner();
        return switch (state) {
            case RUNNING -> "running on " + owner + ", lease renewed " + ago(renewed, now);
            case NOT_RENEWED -> "not renewed since " + renewed + " (" + ago(renewed, now) + ") by the agent on " + owner
                    + ": stuck, cut off from the repository or gone; its lease expires at " + expires;
            case GONE -> "not running: the agent on " + owner + " is gone (killed or crashed; last renewed "
                    + ago(renewed, now) + "); a new agent may start at once";
            case STOPPED -> "not running (stopped on " + r.host() + " " + ago(renewed, now) + ")";
            case EXPIRED -> "not running (the lease of " + owner + " expired; last renewed " + ago(renewed, now) + ")";
            case NEVER -> "never ran";
        };
    }

    /** "12 s ago", "5 min ago", "3 h ago", "2 d ago". */
    public static String ago(Instant t, Instant now) {
        if (t == null) {
            return "?";
        }
        long s = Duration.between(t, now).toSeconds();
        return s < 120 ? s + " s ago" : s < 7200 ? s / 60 + " min ago" : s < 172800 ? s / 3600 + " h ago" : s / 86400 + " d ago";
    }
}
