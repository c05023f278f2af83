package io.lifeboat.it;

import io.lifeboat.postgres.PgSession;

import static org.assertj.core.api.Assertions.assertThat;

/** Test steps around a server whose archive_command is Lifeboat's wal-push. */
final class Archiving {
    private Archiving() {
    }

    /**
     * Switches to a new WAL segment and waits (up to a minute) until the one that was current is
     * archived; fails the test if it is not.
     *
     * @return the name of that segment
     */
    static String switchAndAwait(PgSession s) throws InterruptedException {
        String last = s.queryValue("SELECT pg_walfile_name(pg_current_wal_lsn())").orElseThrow();
        s.queryValue("SELECT pg_switch_wal()");
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (System.nanoTime() < deadline && last.compareTo(lastArchived(s)) > 0) {
            Thread.sleep(100);
        }
        assertThat(lastArchived(s)).as("last archived WAL").isGreaterThanOrEqualTo(last);
        return last;
    }

    private static String lastArchived(PgSession s) {
        return s.queryValue("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver").orElse("");
    }
}
