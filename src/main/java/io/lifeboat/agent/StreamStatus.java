package io.lifeboat.agent;

import java.time.Instant;

/**
 * What the WAL stream of one cluster is doing, as the stream last reported it: for metrics,
 * /healthz, the lease object (which `lifeboat status` reads) and notifications.
 *
 * @param state         connecting, streaming, retrying (after a failure, backing off) or stopped
 * @param timeline      the timeline being received
 * @param received      the end of the WAL received from the server (LSN text), null before any
 * @param stored        the end of the WAL stored in the repository (full segments and partials)
 * @param serverEnd     the end of the server's WAL, as its last message said
 * @param lagBytes      serverEnd - stored
 * @param lagSeconds    how long the oldest WAL not yet stored has been on the server
 * @param retainedBytes WAL the slot holds on the server (serverEnd - the position reported flushed)
 * @param lastError     the failure that made the stream retry, or null
 */
public record StreamStatus(String state, String slot, long timeline, String received, String stored, String serverEnd,
                           long lagBytes, double lagSeconds, long retainedBytes, long segmentsStored, long partialsStored,
                           long bytesStored, long reconnects, Instant lastStoredAt, String lastError, boolean synchronous) {
    /** The same, in another state. */
    public StreamStatus withState(String newState) {
        return new StreamStatus(newState, slot, timeline, received, stored, serverEnd, lagBytes, lagSeconds, retainedBytes,
                segmentsStored, partialsStored, bytesStored, reconnects, lastStoredAt, lastError, synchronous);
    }

    public static StreamStatus initial(String slot, boolean synchronous) {
        return new StreamStatus("connecting", slot, 0, null, null, null, 0, 0, 0, 0, 0, 0, 0, null, null, synchronous);
    }
}
