package io.lifeboat.agent;

import java.time.Instant;

/**
 * One run of a scheduled job, stored in the repository ({@code <cluster>/jobs/<kind>/<start>.json})
 * so that `lifeboat status` and a second agent host can read it.
 *
 * @param kind      physical, logical, expire, verify or drill
 * @param scheduled the cron time the run was for (a run missed while the agent was down has an older one)
 * @param ok        whether it succeeded
 * @param summary   what it did (a backup id, what expire deleted), or the error
 * @param host      where the agent ran
 */
public record JobRecord(String kind, Instant scheduled, Instant started, Instant finished, double seconds, boolean ok,
                        String summary, String host) {
}
