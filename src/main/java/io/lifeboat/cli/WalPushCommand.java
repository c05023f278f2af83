package io.lifeboat.cli;

import io.lifeboat.config.ClusterConfig;
import io.lifeboat.engine.RepositoryAccess;
import io.lifeboat.engine.archive.ArchiveAhead;
import io.lifeboat.engine.archive.PushState;
import io.lifeboat.engine.archive.WalArchive;
import io.lifeboat.engine.archive.WalPush;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "wal-push", mixinStandardHelpOptions = true,
        description = "archive_command: archive a WAL file (and the others already waiting) to the repository. "
                + "Exits 0 only when the file is stored and checked. Use: archive_command = 'lifeboat wal-push %%p'")
final class WalPushCommand implements Callable<Integer> {
    @ParentCommand
    LifeboatCommand root;

    @Mixin
    ClusterOptions cluster;

    @Parameters(index = "0", paramLabel = "%p", description = "The file, as PostgreSQL passes it (relative to the data directory).")
    Path file;

    @Option(names = "--batch", defaultValue = "32", description = "Also archive up to this many other waiting files (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--ahead", hidden = true, description = "Run as the archive-ahead process for the pg_wal "
            + "directory given instead of %%p (started by wal-push itself).")
    boolean ahead;

    @Option(names = "--ahead-idle", hidden = true, defaultValue = "600", description = "Seconds without waiting WAL "
            + "after which the archive-ahead process exits.")
    int aheadIdle;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Output out = root.output();
        Path pgWal = ahead ? file.toAbsolutePath() : file.toAbsolutePath().getParent();
        Path state = PushState.directory(pgWal,
                PushState.destination(spec.commandLine().getParseResult().originalArgs(), file, ahead));
        if (ahead) {
            return runAhead(out, state);
        }
        ClusterConfig cfg = cluster.load();
        try (RepositoryAccess repo = RepositoryAccess.open(cfg, out::warn)) {
            WalArchive archive = new WalArchive(repo.storage(), repo.catalog().layout(), repo.pipeline());
            int jobs = Math.max(2, cfg.jobs() * 2);
            WalPush.Result r = new WalPush(archive, out::warn).run(file, state, batch, jobs);
            out.result(Map.of("file", file.getFileName().toString(), "outcome", r.outcome().name().toLowerCase(),
                    "batched", r.batched()));
        }
        startAhead(state);
        return 0;
    }

    /** The archive-ahead process: its lock first (the launcher waits on it), then the repository. */
    private int runAhead(Output out, Path state) throws Exception {
        var claim = ArchiveAhead.claim(state);
        if (claim.isEmpty()) {
            out.result(Map.of("archivedAhead", 0));
            return 0; // another one runs
        }
        try (ArchiveAhead.Claim held = claim.get()) {
            ClusterConfig cfg = cluster.load();
            try (RepositoryAccess repo = RepositoryAccess.open(cfg, out::warn)) {
                WalArchive archive = new WalArchive(repo.storage(), repo.catalog().layout(), repo.pipeline());
                int n = new ArchiveAhead(archive, file, state, out::warn).run(Duration.ofSeconds(Math.max(1, aheadIdle)),
                        Math.max(2, cfg.jobs() * 2));
                out.result(Map.of("archivedAhead", n));
                return 0;
            }
        }
    }

    /**
     * Starts a detached archive-ahead process for this pg_wal (unless one runs): the next segments are
     * then stored before PostgreSQL asks, and the launcher answers those calls without a JVM.
     */
    private void startAhead(Path state) {
        Path pgWal = file.toAbsolutePath().getParent();
        if (!Detached.available() || "off".equals(System.getenv("LIFEBOAT_ARCHIVE_AHEAD"))
                || pgWal == null || !Files.exists(pgWal.resolve("archive_status")) || ArchiveAhead.running(state)) {
            return;
        }
        List<String> args = new ArrayList<>(spec.commandLine().getParseResult().originalArgs());
        int at = args.indexOf("wal-push");
        int walArg = args.lastIndexOf(file.toString()); // %p, wherever archive_command put it
        if (at < 0 || walArg <= at) {
            return;
        }
        args.remove(walArg);
        args.add("--ahead");
        args.add(pgWal.toString());
        Path starting = state.resolve("ahead.starting");
        try {
            // Until the new process writes its pid, this tells the launcher one is on its way.
            Files.createDirectories(starting.getParent());
            Files.writeString(starting, Long.toString(System.currentTimeMillis() / 1000));
            if (!Detached.start(args)) {
                Files.deleteIfExists(starting);
            }
        } catch (IOException e) {
            // the launcher stops waiting for it after a few seconds anyway
        }
    }
}
