package io.lifeboat.cli;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.agent.JobRecord;
import io.lifeboat.agent.ProblemBoard;
import io.lifeboat.agent.StreamStatus;
import io.lifeboat.agent.status.ClusterStatus;
import io.lifeboat.agent.status.StatusReader;
import io.lifeboat.config.AgentConfig;
import io.lifeboat.config.AgentConfigLoader;
import io.lifeboat.config.ClusterConfig;
import io.lifeboat.config.ConfigLoader;
import io.lifeboat.engine.RepositoryAccess;
import io.lifeboat.engine.Spool;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.ParentCommand;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "status", mixinStandardHelpOptions = true,
        description = "Per cluster: the agent and its WAL stream (state, lag, the slot on the server), the newest "
                + "backups, the scheduled runs (last and next), the point-in-time recovery window, the last restore "
                + "drill, and open problems. Read from the repository (and the server, for the slot).")
final class StatusCommand implements Callable<Integer> {
    @ParentCommand
    LifeboatCommand root;

    @Mixin
    ConfigFileOptions options;

    @Override
    public Integer call() {
        Output out = root.output();
        Path file = options.file("status");
        List<String> clusters = options.clusters;
        AgentConfig agentCfg = AgentConfigLoader.load(file);
        List<String> defined = ConfigLoader.clusterNames(file);
        for (String n : clusters) {
            if (!defined.contains(n)) {
                throw new LifeboatException(ErrorKind.USAGE, "cluster '" + n + "' is not defined in " + file,
                        "defined clusters: " + String.join(", ", defined));
            }
        }
        List<ClusterStatus> all = new ArrayList<>();
        for (String name : clusters.isEmpty() ? defined : clusters) {
            ClusterConfig cc = ConfigLoader.load(file, name, System.getenv(), Map.of());
            try (RepositoryAccess repo = RepositoryAccess.open(cc, w -> { })) {
                ClusterStatus s = StatusReader.read(cc, agentCfg.clusters().get(name), repo);
                all.add(s);
                print(out, s);
            }
        }
        out.result(Map.of("clusters", all));
        return 0;
    }

    private static void print(Output out, ClusterStatus s) {
        Instant now = Instant.now();
        out.text("cluster " + s.name());
        ClusterStatus.Agent a = s.agent();
        out.text("  agent      " + a.summary());
        StreamStatus st = s.stream();
        if (st != null) {
            out.text("  stream     " + st.state() + (st.synchronous() ? " (synchronous)" : "") + ", timeline " + st.timeline()
                    + ", stored up to " + st.stored() + ", lag " + Spool.human(st.lagBytes()) + " / "
                    + String.format("%.1f s", st.lagSeconds()) + ", " + st.segmentsStored() + " segments and "
                    + st.partialsStored() + " partials stored" + (st.lastError() == null ? "" : "; last error: " + st.lastError()));
        }
        ClusterStatus.Slot slot = s.slot();
        if (slot != null) {
            out.text("  slot       " + slot.name() + ": " + (slot.error() != null ? "cannot ask the server (" + slot.error() + ")"
                    : !slot.exists() ? "does not exist on the server"
                    : (slot.active() ? "active" : "not active") + ", holds " + (slot.retainedBytes() == null ? "?"
                    : Spool.human(slot.retainedBytes())) + " of WAL on the server (wal_status " + slot.walStatus() + ")"));
        }
        for (String type : List.of("physical", "logical")) {
            ClusterStatus.Backup b = s.lastBackups().get(type);
            out.text(String.format("  %-10s %s", type, b == null ? "no complete backup" : b.id() + ", ended "
                    + ago(b.end(), now) + ", took " + b.seconds() + " s"));
        }
        out.text("  PITR       " + (s.pitrOldest() == null ? "none (no physical backup)"
                : "from " + s.pitrOldest() + " to " + (s.pitrNewest() == null ? "?" : s.pitrNewest())));
        ClusterStatus.Drill d = s.lastDrill();
        out.text("  drill      " + (d == null ? "none" : (d.ok() ? "ok" : "FAILED") + ": " + d.backup() + " " + ago(d.time(), now)
                + ", restored in " + d.seconds() + " s"));
        for (var e : s.jobs().entrySet()) {
            JobRecord r = e.getValue().last();
            out.text(String.format("  job %-7s last: %s; next: %s", e.getKey(), r == null ? "never"
                    : (r.ok() ? "ok" : "FAILED") + " " + ago(r.started(), now) + " (" + r.seconds() + " s): " + r.summary(),
                    e.getValue().next()));
        }
        if (s.problems().isEmpty()) {
            out.text("  problems   none");
        }
        for (ProblemBoard.Problem p : s.problems()) {
            out.text("  PROBLEM    " + p.key() + " since " + p.since() + ": " + p.message());
        }
        s.notes().forEach(n -> out.text("  note       " + n));
    }

    private static String ago(Instant t, Instant now) {
        return io.lifeboat.agent.AgentPresence.ago(t, now);
    }
}
