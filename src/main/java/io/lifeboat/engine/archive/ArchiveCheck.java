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
import java.util.Set;
import java.util.UUID;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * `lifeboat check`: the server's settings for backups and archiving, the repository, and an end to
 * end test of archiving (write WAL, switch, wait for that segment in the repository). Every check
 * is listed, also after another failed (a check that cannot run without the one before is listed
 * as skipped), and every problem comes with the change that fixes it.
 */
public final class ArchiveCheck {
    /**
     * @param ok      passed
     * @param skipped not run, because a check it needs failed (not ok either)
     */
    public record Finding(String check, boolean ok, String detail, String fix, boolean skipped) {
        public Finding(String check, boolean ok, String detail, String fix) {
            this(check, ok, detail, fix, false);
        }

        static Finding skip(String check, String why) {
            return new Finding(check, false, "not checked: " + why, null, true);
        }

        public boolean failed() {
            return !ok && !skipped;
        }
    }

    static final List<String> SERVER_CHECKS = List.of("wal_level", "archive_mode", "archive_command", "max_wal_senders",
            "replication role");
    static final String END_TO_END = "archiving end to end";

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
        boolean connected = false;
        boolean archiving = false;
        try (PgSession s = PgSession.open(conn)) {
            connected = true;
            out.add(new Finding("connect", true, "PostgreSQL " + s.serverVersion() + " at " + conn.host() + ":" + conn.port(), null));
            archiving = serverChecks(s, out);
        } catch (LifeboatException e) {
            if (!connected) {
                out.add(new Finding("connect", false, e.getMessage(), e.hint()));
                SERVER_CHECKS.forEach(c -> out.add(Finding.skip(c, "no connection to PostgreSQL")));
            } else {
                out.add(new Finding("server settings", false, e.getMessage(), e.hint()));
            }
        }
        boolean repository = repositoryCheck(out);
        if (!connected || !repository || !archiving) {
            out.add(Finding.skip(END_TO_END, !connected ? "no connection to PostgreSQL" : !repository
                    ? "the repository does not work" : "archiving is not set up (see above)"));
            return out;
        }
        out.add(endToEnd(archiveTimeout));
        return out;
    }

    /** Each setting on its own, so that one that cannot be read does not hide the others; true if archiving is set up. */
    private boolean serverChecks(PgSession s, List<Finding> out) {
        Finding walLevel = guarded("wal_level", () -> {
            String v = s.queryValue("SHOW wal_level").orElse("");
            return new Finding("wal_level", !v.equals("minimal"), v, "set wal_level = replica in postgresql.conf and restart");
        });
        // Streamed by the agent: the slot takes archiving's place, and archive_command (if set) only runs beside it.
        Finding mode = streamSlot != null ? guarded("replication slot", () -> streamSlotFinding(s))
                : guarded("archive_mode", () -> {
                    String v = s.queryValue("SHOW archive_mode").orElse("off");
                    return new Finding("archive_mode", !v.equals("off"), v, "set archive_mode = on and restart");
                });
        Finding command = guarded("archive_command", () -> {
            String v = s.queryValue("SHOW archive_command").orElse("");
            boolean ours = v.contains("wal-push") && v.contains("%p");
            if (streamSlot != null) {
                return new Finding("archive_command", true, (ours ? v : "not used") + " (WAL is streamed by the agent over "
                        + "slot " + streamSlot + ")", null);
            }
            return new Finding("archive_command", ours, v.isEmpty() ? "(empty)" : v,
                    "set archive_command = '/path/to/lifeboat wal-push %p' (with --config/--cluster if needed) and reload");
        });
        Finding senders = guarded("max_wal_senders", () -> {
            int n = Integer.parseInt(s.queryValue("SHOW max_wal_senders").orElse("0"));
            return new Finding("max_wal_senders", n > 0, Integer.toString(n),
                    "set max_wal_senders = 10 and restart (physical backups need a replication connection)");
        });
        Finding role = guarded("replication role", () -> {
            boolean r = s.queryValue("SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user")
                    .map(v -> v.equals("t")).orElse(false);
            return new Finding("replication role", r, conn.user() + (r ? " may replicate" : " may not replicate"),
                    "ALTER ROLE " + conn.user() + " REPLICATION (physical backups), and a 'replication' line in pg_hba.conf");
        });
        out.addAll(List.of(walLevel, mode, command, senders, role));
        try {
            List<List<String>> archiver = s.query("SELECT archived_count, failed_count, coalesce(last_failed_wal, ''), "
                    + "coalesce(last_failed_time::text, '') FROM pg_stat_archiver");
            if (!archiver.isEmpty() && !archiver.get(0).get(1).equals("0")) {
                out.add(new Finding("archiver history", true, "archived " + archiver.get(0).get(0) + ", failed "
                        + archiver.get(0).get(1) + " times (last: " + archiver.get(0).get(2) + " at " + archiver.get(0).get(3)
                        + ")", null));
            }
        } catch (LifeboatException e) {
            // informational only: its absence is no failure
        }
        return mode.ok() && command.ok();
    }

    /** Whether the server's archiver reports this segment (or a later one) archived, i.e. archive_command succeeded. */
    private static boolean archived(PgSession s, String segment) {
        String last = s.queryValue("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver").orElse("");
        // history files sort apart from segments: only a segment (or a backup history file) tells
        return last.length() >= 24 && last.substring(0, 24).matches("[0-9A-F]{24}") && last.substring(0, 24).compareTo(segment) >= 0;
    }

    private static Finding guarded(String check, Supplier<Finding> f) {
        try {
            return f.get();
        } catch (LifeboatException | NumberFormatException e) {
            return new Finding(check, false, "cannot be read: " + e.getMessage(),
                    e instanceof LifeboatException le ? le.hint() : null);
        }
    }

    private boolean repositoryCheck(List<Finding> out) {
        String probe = Keys.join(catalog.layout().cluster(), "check", UUID.randomUUID() + ".probe");
        try {
            byte[] data = UUID.randomUUID().toString().getBytes();
            catalog.storage().put(probe, data);
            boolean same = Arrays.equals(catalog.storage().get(probe), data);
            catalog.storage().delete(probe);
            out.add(new Finding("repository", same, catalog.storage().describe() + (same ? " is writable and readable"
                    : " returned different bytes"), "check the storage service"));
            return same;
        } catch (IOException | LifeboatException e) {
            out.add(new Finding("repository", false, e.getMessage(), e instanceof LifeboatException le ? le.hint() : null));
            return false;
        }
    }

    /**
     * Proves that archiving works now: writes a WAL record, so the segment being written holds
     * something only this check wrote; a copy of that segment that is in the repository already
     * must be someone else's (so it does not count), and only a copy that appears after the switch
     * is proof. Without the record, a server idle since its last switch would name the segment it
     * archived before, which is found at once even while archiving is stuck.
     */
    private Finding endToEnd(Duration timeout) {
        try (PgSession s = PgSession.open(conn)) {
            long segmentSize = Long.parseLong(s.queryValue("SELECT setting FROM pg_settings WHERE name = 'wal_segment_size'")
                    .orElse("16777216"));
            String segment = null;
            for (int i = 0; i < 3 && segment == null; i++) {
                s.queryValue("SELECT pg_logical_emit_message(false, 'lifeboat', 'check " + UUID.randomUUID() + "')");
                List<String> at = s.query("SELECT pg_walfile_name(pg_current_wal_insert_lsn()), "
                        + "(pg_current_wal_insert_lsn() - '0/0'::pg_lsn) % " + segmentSize).get(0);
                // exactly at a segment boundary the name is the previous, complete segment's: write again
                segment = at.get(1).equals("0") ? null : at.get(0);
            }
            if (segment == null) {
                return new Finding(END_TO_END, false, "could not find the segment being written", null);
            }
            WalFileName name = WalFileName.parse(segment);
            Set<String> before = archive.find(name).stream().map(WalArchive.Archived::key).collect(Collectors.toSet());
            if (!before.isEmpty()) {
                return new Finding(END_TO_END, false, "the repository already holds segment " + segment + " although the "
                        + "server is still writing it: another server, or an earlier history of this one, archived a "
                        + "segment of this name into this cluster's prefix, and this server's wal-push of it will be refused",
                        "find the server that archives into this prefix (a restored copy with archiving on, another "
                                + "cluster with the same name) and stop it; never remove archived WAL by hand to get past this");
            }
            long started = System.nanoTime();
            s.queryValue("SELECT pg_switch_wal()");
            long deadline = started + timeout.toNanos();
            boolean arrived = false;
            boolean acknowledged = false;
            // Streamed WAL never passes the server's archiver: only its arrival in the repository tells.
            boolean streamed = streamSlot != null;
            while (System.nanoTime() < deadline && !(arrived && acknowledged)) {
                arrived = arrived || archive.find(name).stream().anyMatch(a -> !before.contains(a.key()));
                acknowledged = acknowledged || streamed || archived(s, segment);
                if (!(arrived && acknowledged)) {
                    Thread.sleep(250);
                }
            }
            double seconds = Math.round((System.nanoTime() - started) / 1e8) / 10.0;
            String failed = s.queryValue("SELECT coalesce(last_failed_wal, '') FROM pg_stat_archiver").orElse("");
            String fix = streamed ? "see the agent's log and `lifeboat status`" : "look for archive_command errors in "
                    + "the PostgreSQL log; run the archive_command by hand as the server's OS user";
            if (arrived && !acknowledged) {
                // e.g. the archive-ahead process stored it, but archive_command itself fails: WAL piles up in pg_wal
                return new Finding(END_TO_END, false, "segment " + segment + ", written by this check, reached the "
                        + "repository, but the server's archiver has not reported it archived within "
                        + timeout.toSeconds() + " s" + (failed.isEmpty() ? "" : " (last failed: " + failed + ")"), fix);
            }
            return new Finding(END_TO_END, arrived, arrived ? "segment " + segment + ", written by this check, reached the "
                    + "repository" + (streamed ? " through the stream" : " and the server reported it archived") + " in "
                    + seconds + " s" : "segment " + segment
                    + ", written by this check, did not reach the repository within " + timeout.toSeconds() + " s"
                    + (failed.isEmpty() ? "" : " (last failed: " + failed + ")"), fix);
        } catch (IOException | LifeboatException e) {
            return new Finding(END_TO_END, false, e.getMessage(), e instanceof LifeboatException le ? le.hint() : null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Finding(END_TO_END, false, "interrupted", null);
        }
    }
}
