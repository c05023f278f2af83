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

    @Override
    public Integer call() {
        Output out = root.output();
        ClusterConfig cfg = cluster.load();
        List<ArchiveCheck.Finding> findings;
        try (RepositoryAccess repo = RepositoryAccess.open(cfg, out::warn)) {
            findings = new ArchiveCheck(cfg.postgres(), repo.catalog(),
                    new WalArchive(repo.storage(), repo.catalog().layout(), repo.pipeline())).run(Duration.ofSeconds(timeout));
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
