package io.lifeboat.engine.archive;

import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.Catalog;
import io.lifeboat.postgres.PgConnectionSettings;
import io.lifeboat.postgres.PgSession;
import io.lifeboat.postgres.WalFileName;
import io.lifeboat.storage.Keys;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;

/**
 * `lifeboat check`: the server's settings for backups and archiving, the repository, and an end to
 * end test of archiving (switch WAL, wait for that segment in the repository). Every problem comes
 * with the change that fixes it.
 */
public final class ArchiveCheck {
    public record Finding(String check, boolean ok, String detail, String fix) {
    }

    private final PgConnectionSettings conn;
    private final Catalog catalog;
    private final WalArchive archive;

    public ArchiveCheck(PgConnectionSettings conn, Catalog catalog, WalArchive archive) {
        this.conn = conn;
        this.catalog = catalog;
        this.archive = archive;
    }

    public List<Finding> run(Duration archiveTimeout) {
        List<Finding> out = new ArrayList<>();
        boolean archiving;
        try (PgSession s = PgSession.open(conn)) {
            out.add(new Finding("connect", true, "PostgreSQL " + s.serverVersion() + " at " + conn.host() + ":" + conn.port(), null));
            String walLevel = s.queryValue("SHOW wal_level").orElse("");
            out.add(new Finding("wal_level", !walLevel.equals("minimal"), walLevel,
                    "set wal_level = replica in postgresql.conf and restart"));
            String mode = s.queryValue("SHOW archive_mode").orElse("off");
            archiving = !mode.equals("off");
            out.add(new Finding("archive_mode", archiving, mode, "set archive_mode = on and restart"));
            String command = s.queryValue("SHOW archive_command").orElse("");
            boolean ours = command.contains("wal-push") && command.contains("%p");
            out.add(new Finding("archive_command", ours, command.isEmpty() ? "(empty)" : command,
                    "set archive_command = '/path/to/lifeboat wal-push %p' (with --config/--cluster if needed) and reload"));
            archiving &= ours;
            int senders = Integer.parseInt(s.queryValue("SHOW max_wal_senders").orElse("0"));
            out.add(new Finding("max_wal_senders", senders > 0, Integer.toString(senders),
                    "set max_wal_senders = 10 and restart (physical backups need a replication connection)"));
            boolean replication = s.queryValue("SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user")
                    .map(v -> v.equals("t")).orElse(false);
            out.add(new Finding("replication role", replication, conn.user() + (replication ? " may replicate" : " may not replicate"),
                    "ALTER ROLE " + conn.user() + " REPLICATION (physical backups), and a 'replication' line in pg_hba.conf"));
            List<List<String>> archiver = s.query("SELECT archived_count, failed_count, coalesce(last_failed_wal, ''), "
                    + "coalesce(last_failed_time::text, '') FROM pg_stat_archiver");
            if (!archiver.isEmpty() && !archiver.get(0).get(1).equals("0")) {
                out.add(new Finding("archiver history", true, "archived " + archiver.get(0).get(0) + ", failed "
                        + archiver.get(0).get(1) + " times (last: " + archiver.get(0).get(2) + " at " + archiver.get(0).get(3) + ")",
                        null));
            }
        } catch (LifeboatException e) {
            out.add(new Finding("connect", false, e.getMessage(), e.hint()));
            return out;
        }
        String probe = Keys.join(catalog.layout().cluster(), "check", UUID.randomUUID() + ".probe");
        try {
            byte[] data = UUID.randomUUID().toString().getBytes();
            catalog.storage().put(probe, data);
            boolean same = Arrays.equals(catalog.storage().get(probe), data);
            catalog.storage().delete(probe);
            out.add(new Finding("repository", same, catalog.storage().describe() + (same ? " is writable and readable"
                    : " returned different bytes"), "check the storage service"));
        } catch (IOException | LifeboatException e) {
            out.add(new Finding("repository", false, e.getMessage(), e instanceof LifeboatException le ? le.hint() : null));
            return out;
        }
        if (!archiving) {
            out.add(new Finding("archiving end to end", false, "skipped: archiving is not set up", "fix the settings above"));
            return out;
        }
        try (PgSession s = PgSession.open(conn)) {
            String segment = s.queryValue("SELECT pg_walfile_name(pg_current_wal_lsn())").orElseThrow();
            s.queryValue("SELECT pg_switch_wal()");
            long deadline = System.nanoTime() + archiveTimeout.toNanos();
            boolean arrived = false;
            while (System.nanoTime() < deadline) {
                if (!archive.find(WalFileName.parse(segment)).isEmpty()) {
                    arrived = true;
                    break;
                }
                Thread.sleep(250);
            }
            String failed = s.queryValue("SELECT coalesce(last_failed_wal, '') FROM pg_stat_archiver").orElse("");
            out.add(new Finding("archiving end to end", arrived, arrived ? "segment " + segment + " reached the repository"
                    : "segment " + segment + " did not reach the repository within " + archiveTimeout.toSeconds() + " s"
                    + (failed.isEmpty() ? "" : " (last failed: " + failed + ")"),
                    "look for archive_command errors in the PostgreSQL log; run the archive_command by hand as the "
                            + "server's OS user"));
        } catch (IOException e) {
            out.add(new Finding("archiving end to end", false, e.toString(), null));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return out;
    }
}
