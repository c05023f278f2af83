package io.lifeboat.agent.status;

import io.lifeboat.LifeboatException;
import io.lifeboat.agent.AgentLease;
import io.lifeboat.agent.AgentPresence;
import io.lifeboat.agent.JobRecord;
import io.lifeboat.agent.ProblemBoard;
import io.lifeboat.agent.StreamStatus;
import io.lifeboat.agent.schedule.JobRecords;
import io.lifeboat.catalog.BackupEntry;
import io.lifeboat.catalog.BackupManifest;
import io.lifeboat.catalog.BackupType;
import io.lifeboat.config.AgentConfig;
import io.lifeboat.config.ClusterConfig;
import io.lifeboat.engine.RepositoryAccess;
import io.lifeboat.engine.verify.DrillRecord;
import io.lifeboat.engine.verify.RestoreDrill;
import io.lifeboat.postgres.PgConnectionSettings;
import io.lifeboat.postgres.PgSession;
import io.lifeboat.storage.ObjectInfo;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Reads one cluster's status for `lifeboat status` (see {@link ClusterStatus}). */
public final class StatusReader {
    private StatusReader() {
    }

    public static ClusterStatus read(ClusterConfig cfg, AgentConfig.ClusterAgent agent, RepositoryAccess repo) {
        List<String> notes = new ArrayList<>();
        Instant now = Instant.now();
        Optional<AgentLease.Record> lease = AgentLease.read(repo.storage(), repo.catalog().layout());
        AgentPresence presence = AgentPresence.of(lease);
        boolean running = presence.running();
        String summary = presence.describe(lease.orElse(null), now);
        ClusterStatus.Agent a = lease.map(l -> new ClusterStatus.Agent(running, presence.state(), l.host(), l.pid(),
                        l.renewed(), l.expires(), summary))
                .orElse(new ClusterStatus.Agent(false, presence.state(), null, null, null, null, summary));
        StreamStatus stream = lease.map(AgentLease.Record::stream).orElse(null);
        if (stream != null && !running) {
            stream = stream.withState("not running (agent " + presence.state().id() + "; last state " + stream.state() + ")");
        } else if (stream != null && presence.state() == AgentPresence.State.NOT_RENEWED) {
            stream = stream.withState(stream.state() + " as of " + presence.renewed() + " (not renewed since)");
        }
        List<ProblemBoard.Problem> problems = running ? lease.get().problems() : List.of();
        ClusterStatus.Slot slot = agent == null || agent.stream() == null ? null : slot(cfg.postgres(), agent.stream().slot());

        Map<String, ClusterStatus.Backup> backups = new LinkedHashMap<>();
        Instant oldest = null;
        ClusterStatus.Drill drill = null;
        List<BackupEntry> entries = repo.catalog().list();
        for (BackupEntry e : entries) {
            if (!e.complete()) {
                continue;
            }
            BackupManifest m = e.manifest();
            backups.put(m.type().id(), new ClusterStatus.Backup(m.id().toString(), m.stopTime(),
                    Duration.between(m.startTime(), m.stopTime()).toMillis() / 1000.0));
            if (m.type() == BackupType.PHYSICAL && (oldest == null || m.stopTime().isBefore(oldest))) {
                oldest = m.stopTime();
            }
            Optional<DrillRecord> d = RestoreDrill.latest(repo.catalog(), e.id());
            if (d.isPresent() && (drill == null || d.get().time().isAfter(drill.time()))) {
                drill = new ClusterStatus.Drill(e.id().toString(), d.get().time(), d.get().ok(), d.get().restoreSeconds());
            }
        }
        Instant newest = null;
        try {
            newest = repo.storage().list(repo.catalog().layout().walPrefix()).stream().map(ObjectInfo::lastModified)
                    .filter(t -> t != null).max(Instant::compareTo).orElse(null);
        } catch (IOException e) {
            notes.add("cannot list the WAL archive: " + e.getMessage());
        }
        if (oldest == null) {
            newest = null; // no physical backup: no point-in-time recovery
        }
        Map<String, ClusterStatus.Job> jobs = new LinkedHashMap<>();
        if (agent != null) {
            JobRecords records = new JobRecords(repo.storage(), repo.catalog().layout());
            ZonedDateTime z = now.atZone(ZoneOffset.UTC);
            for (var e : agent.schedules().entrySet()) {
                JobRecord last = records.latest(e.getKey().key()).orElse(null);
                Instant next = e.getValue().next(z).map(ZonedDateTime::toInstant).orElse(null);
                jobs.put(e.getKey().key(), new ClusterStatus.Job(last, next));
            }
        } else {
            notes.add("the agent is not configured for this cluster (no 'agent:' section)");
        }
        return new ClusterStatus(cfg.name(), a, stream, slot, backups, oldest, newest, drill, jobs, problems, notes);
    }

    /** The slot as the server sees it now; an unreachable server is noted, not fatal. */
    public static ClusterStatus.Slot slot(PgConnectionSettings conn, String name) {
        try (PgSession s = PgSession.open(conn)) {
            List<List<String>> rows = s.query("SELECT active, wal_status, pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() "
                    + "THEN pg_last_wal_receive_lsn() ELSE pg_current_wal_lsn() END, restart_lsn)::bigint "
                    + "FROM pg_replication_slots WHERE slot_name = " + PgSession.quoteLiteral(name));
            if (rows.isEmpty()) {
                return new ClusterStatus.Slot(name, false, null, null, null, null);
            }
            List<String> r = rows.get(0);
            return new ClusterStatus.Slot(name, true, "t".equals(r.get(0)), r.get(2) == null ? null : Long.parseLong(r.get(2)),
                    r.get(1), null);
        } catch (LifeboatException e) {
            return new ClusterStatus.Slot(name, null, null, null, null, e.getMessage());
        }
    }
}
