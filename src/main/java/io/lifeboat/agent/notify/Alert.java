package io.lifeboat.agent.notify;

import java.time.Instant;

/**
 * One notification: a problem opened, or resolved. The JSON document a webhook receives.
 *
 * @param event    "problem" or "resolved"
 * @param problem  the problem's key: stream, stream-lag, slot-retention, wal-gap, drill, job:physical, ...
 * @param resolved how it was resolved (resolved events only)
 */
public record Alert(String event, String cluster, String problem, String message, Instant since, String resolved,
                    String host, Instant time) {
    public String subject() {
        return "[lifeboat] " + (event.equals("problem") ? "PROBLEM " : "RESOLVED ") + cluster + "/" + problem;
    }

    /** One line for chat (Slack/Mattermost) and the first line of a mail. */
    public String text() {
        return event.equals("problem")
                ? ":rotating_light: Lifeboat: " + cluster + "/" + problem + ": " + message + " (on " + host + ")"
                : ":white_check_mark: Lifeboat: " + cluster + "/" + problem + " resolved: " + resolved + " (open since "
                + since + ", on " + host + ")";
    }
}
