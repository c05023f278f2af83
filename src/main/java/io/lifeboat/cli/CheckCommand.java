package io.lifeboat.cli;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.config.ClusterConfig;
import io.lifeboat.engine.RepositoryAccess;
import io.lifeboat.engine.archive.ArchiveCheck;
import io.lifeboat.engine.archive.WalArchive;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "check", mixinStandardHelpOptions = true,
        description = "Check the configuration, the server's settings for backups and archiving, the repository, and "
                + "that archiving works end to end (switches WAL and waits for the segment in the repository).")
final class CheckCommand implements Callable<Integer> {
    @ParentCommand
    LifeboatCommand root;

    @Mixin
    ClusterOptions cluster;

    @Option(names = "--archive-timeout", defaultValue = "60", paramLabel = "SECONDS",
            description = "How long to wait for the switched segment (default: ${DEFAULT-VALUE}).")
    int timeout;

    /** The agent's stream, as its lease last reported it. */
    private static ArchiveCheck.Finding streamFinding(RepositoryAccess repo) {
        var lease = io.lifeboat.agent.AgentLease.read(repo.storage(), repo.catalog().layout());
        var presence = io.lifeboat.agent.AgentPresence.of(lease);
        boolean running = presence.state() == io.lifeboat.agent.AgentPresence.State.RUNNING;
        var stream = lease.map(io.lifeboat.agent.AgentLease.Record::stream).orElse(null);
        boolean ok = running && stream != null && "streaming".equals(stream.state());
        String detail = !running ? "no agent serves this cluster: " + presence.describe(lease.orElse(null),
                java.time.Instant.now()) : stream == null ? "the agent runs without a stream"
                : stream.state() + " on timeline " + stream.timeline() + ", stored up to " + stream.stored() + ", "
                + stream.lagBytes() + " bytes / " + String.format("%.1f", stream.lagSeconds()) + " s behind"
                + (stream.lastError() == null ? "" : "; last error: " + stream.lastError());
        return new ArchiveCheck.Finding("WAL stream", ok, detail, "start `lifeboat agent` (see its log, and `lifeboat status`)");
    }

    @Override
    public Integer call() {
        Output out = root.output();
        ClusterConfig cfg = cluster.load();
        List<ArchiveCheck.Finding> findings;
        java.nio.file.Path file = io.lifeboat.config.ConfigLoader.locate(cluster.config, System.getenv());
        io.lifeboat.config.AgentConfig.ClusterAgent agent = file == null ? null
                : io.lifeboat.config.AgentConfigLoader.load(file).clusters().get(cfg.name());
        String slot = agent == null || agent.stream() == null ? null : agent.stream().slot();
        try (RepositoryAccess repo = RepositoryAccess.open(cfg, out::warn)) {
            findings = new java.util.ArrayList<>(new ArchiveCheck(cfg.postgres(), repo.catalog(),
                    new WalArchive(repo.storage(), repo.catalog().layout(), repo.pipeline()), slot)
                    .run(Duration.ofSeconds(timeout)));
            if (slot != null) {
                findings.add(streamFinding(repo));
            }
            io.lifeboat.engine.physical.SummarizeWalCheck.Result wal = io.lifeboat.engine.physical.SummarizeWalCheck.run(cfg);
            if (wal != null) {
                findings.add(new ArchiveCheck.Finding("summarize_wal", wal.ok(), wal.detail(), wal.fix()));
            }
        }
        for (ArchiveCheck.Finding f : findings) {
            out.text(String.format("%-6s %-22s %s", f.ok() ? "ok" : f.skipped() ? "skip" : "FAIL", f.check(), f.detail()));
            if (f.failed() && f.fix() != null) {
                out.text("       fix: " + f.fix());
            }
        }
        List<String> failed = findings.stream().filter(ArchiveCheck.Finding::failed).map(ArchiveCheck.Finding::check).toList();
        List<String> skipped = findings.stream().filter(ArchiveCheck.Finding::skipped).map(ArchiveCheck.Finding::check).toList();
        out.result(Map.of("ok", failed.isEmpty() && skipped.isEmpty(), "checks", findings));
        if (!failed.isEmpty()) {
            throw new LifeboatException(ErrorKind.CONFIG, failed.size() + " check(s) failed: " + failed
                    + (skipped.isEmpty() ? "" : ", not checked because of them: " + skipped), "apply the fixes listed above");
        }
        return 0;
    }
}
