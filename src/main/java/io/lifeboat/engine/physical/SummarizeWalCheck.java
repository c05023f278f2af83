package io.lifeboat.engine.physical;

import io.lifeboat.LifeboatException;
import io.lifeboat.config.ClusterConfig;
import io.lifeboat.postgres.PgSession;

/**
 * Whether a cluster whose physical backups are incrementals over the replication protocol (a
 * full-every policy, source remote) can have them: PostgreSQL 17 or newer with summarize_wal on.
 * Null where it does not apply (local source, no full-every).
 */
public final class SummarizeWalCheck {
    /** @param fix what to change, when not ok */
    public record Result(boolean ok, String detail, String fix) {
    }

    private SummarizeWalCheck() {
    }

    public static Result run(ClusterConfig cfg) {
        if (cfg.fullEvery() == null || cfg.localSource()) {
            return null;
        }
        try (PgSession s = PgSession.open(cfg.postgres())) {
            int major = s.serverVersion().major();
            if (major < 17) {
                return new Result(false, "full-every asks for incrementals, and the server is PostgreSQL " + major
                        + ": over the replication protocol every backup is a full one", "set source: local (Lifeboat on the "
                        + "database host takes block-level incrementals on any version), or upgrade to PostgreSQL 17");
            }
            String on = s.queryValue("SHOW summarize_wal").orElse("off");
            return "on".equals(on)
                    ? new Result(true, "on (PostgreSQL " + major + " takes incrementals over the replication protocol)", null)
                    : new Result(false, "off: full-every asks for incrementals, and PostgreSQL's incremental backups need "
                    + "its WAL summaries; every backup is a full one until it is on",
                    "ALTER SYSTEM SET summarize_wal = on; SELECT pg_reload_conf(); (as a superuser, no restart)");
        } catch (LifeboatException e) {
            return new Result(false, "cannot ask the server: " + e.getMessage(), e.hint());
        }
    }
}
