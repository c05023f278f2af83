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

    private final String streamSlot;

    public ArchiveCheck(PgConnectionSettings conn, Catalog catalog, WalArchive archive) {
        this(conn, catalog, archive, null);
    }

    /**
     * @param streamSlot the replication slot the agent streams WAL over, or null when archive_command
     *                   archives it: then archive_mode may be off, the slot must exist and be active,
     *                   and the end-to-end test waits for the segment to arrive through the stream
     */
    public ArchiveCheck(PgConnectionSettings conn, Catalog catalog, WalArchive archive, String streamSlot) {
        this.conn = conn;
        this.catalog = catalog;
        this.archive = archive;
        this.streamSlot = streamSlot;
    }

    /** The agent's slot: it exists, is physical, and a client (the agent) streams from it; how much WAL it holds. */
    private Finding streamSlotFinding(PgSession s) {
        List<List<String>> rows = s.query("SELECT slot_type, active, coalesce(wal_status, ''), coalesce(pg_wal_lsn_diff(CASE "
                + "WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn() ELSE pg_current_wal_lsn() END, restart_lsn)::bigint, 0) "
                + "FROM pg_replication_slots WHERE slot_name = " + PgSession.quoteLiteral(streamSlot));
        if (rows.isEmpty()) {
            return new Finding("replication slot", false, streamSlot + " does not exist",
                    "start `lifeboat agent` (it creates the slot), or create it: SELECT pg_create_physical_replication_slot('"
                            + streamSlot + "', true);");
        }
        List<String> r = rows.get(0);
        boolean physical = r.get(0).equals("physical");
        boolean active = r.get(1).equals("t");
        String detail = streamSlot + ": " + r.get(0) + (active ? ", active" : ", not active") + ", holds " + r.get(3)
                + " bytes of WAL (wal_status " + r.get(2) + ")";
        return new Finding("replication slot", physical && active && !r.get(2).equals("lost"), detail, !physical
                ? "name a physical slot in agent.stream.slot" : r.get(2).equals("lost")
                ? "the slot lost WAL the agent had not stored: take a new physical backup, and raise max_slot_wal_keep_size"
                : "start `lifeboat agent` for this cluster (nothing streams from the slot, so WAL piles up on the server)");
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
            String command = s.queryValue("SHOW archive_command").orElse("");
            boolean ours = command.contains("wal-push") && command.contains("%p");
            if (streamSlot != null) {
                out.add(streamSlotFinding(s));
                out.add(new Finding("archive_command", true, (archiving && ours ? command : "not used")
                        + " (WAL is streamed by the agent over slot " + streamSlot + ")", null));
                archiving = out.get(out.size() - 2).ok();
            } else {
                out.add(new Finding("archive_mode", archiving, mode, "set archive_mode = on and restart"));
                out.add(new Finding("archive_command", ours, command.isEmpty() ? "(empty)" : command,
                        "set archive_command = '/path/to/lifeboat wal-push %p' (with --config/--cluster if needed) and reload"));
                archiving &= ours;
            }
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
                    streamSlot != null ? "see the agent's log and `lifeboat status`" : "look for archive_command errors in "
                            + "the PostgreSQL log; run the archive_command by hand as the server's OS user"));
        } catch (IOException e) {
            out.add(new Finding("archiving end to end", false, e.toString(), null));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return out;
    }
}
