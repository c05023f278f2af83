package io.lifeboat.config;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Settings of `lifeboat agent`: the process-wide part (the top-level {@code agent:} section: HTTP
 * listener, notifications) and, per cluster, its {@code agent:} section (WAL stream, schedules).
 * A cluster without an {@code agent:} section (or with {@code enabled: false}) is not served.
 *
 * @param clusters the clusters the agent serves, in file order
 */
public record AgentConfig(Http http, Notify notifications, Map<String, ClusterAgent> clusters) {

    /**
     * The HTTP endpoint (/metrics, /healthz).
     *
     * @param host      the address to bind (default 127.0.0.1); null when the endpoint is off
     * @param tokenFile a file holding the bearer token that requests must carry, or null for none
     *                  (allowed only on a loopback address)
     * @param drills    the dashboard may start restore drills (scratch restores); off by default: read-only
     */
    public record Http(String host, int port, Path tokenFile, boolean drills) {
        public Http(String host, int port, Path tokenFile) {
            this(host, port, tokenFile, false);
        }

        public boolean enabled() {
            return host != null;
        }
    }

    /** Where alerts go; each part may be null. */
    public record Notify(Webhook webhook, Email email) {
        public static final Notify NONE = new Notify(null, null);
    }

    /**
     * @param slack post Slack/Mattermost-compatible JSON ({@code {"text": ...}}) instead of Lifeboat's own
     */
    public record Webhook(URI url, boolean slack, Duration timeout) {
    }

    /**
     * @param security     none, starttls (required) or tls (SMTPS)
     * @param passwordFile the SMTP password, read when a mail is sent; null for no login
     */
    public record Email(String host, int port, String security, String from, List<String> to, String username,
                        Path passwordFile) {
    }

    /** The agent's work for one cluster. */
    public record ClusterAgent(String cluster, Stream stream, Map<JobKind, CronSchedule> schedules) {
    }

    /** What a schedule can run. */
    public enum JobKind {
        PHYSICAL("physical"), LOGICAL("logical"), EXPIRE("expire"), VERIFY("verify"), DRILL("drill");

        private final String key;

        JobKind(String key) {
            this.key = key;
        }

        /** The key in lifeboat.yml and the name in job records and metrics. */
        public String key() {
            return key;
        }
    }

    /**
     * WAL streaming over a physical replication slot.
     *
     * @param slot            the slot's name
     * @param createSlot      create the slot when it is missing
     * @param flushInterval   the unfinished segment is stored as a .partial at least this often
     * @param synchronous     report a position flushed only once each received chunk is stored (RPO 0
     *                        with synchronous_standby_names naming {@code applicationName})
     * @param applicationName the name the agent connects with (what synchronous_standby_names lists)
     * @param lagAlert        alert when the oldest unstored WAL is older than this
     * @param retainedAlert   alert when the slot holds more than this many bytes of WAL on the server
     */
    public record Stream(String slot, boolean createSlot, Duration flushInterval, boolean synchronous,
                         String applicationName, Duration lagAlert, long retainedAlert) {
    }
}
