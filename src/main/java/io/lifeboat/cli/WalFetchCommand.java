package io.lifeboat.cli;

import io.lifeboat.config.ClusterConfig;
import io.lifeboat.engine.RepositoryAccess;
import io.lifeboat.engine.archive.WalArchive;
import io.lifeboat.engine.archive.WalFetch;
import io.lifeboat.engine.archive.WalPrefetcher;
import io.lifeboat.postgres.WalPageHeader;
import io.lifeboat.postgres.WalFileName;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "wal-fetch", mixinStandardHelpOptions = true,
        description = "restore_command: fetch a WAL file from the repository, verified, and prefetch the next ones. "
                + "Through bin/lifeboat: exits 1 quietly only when the repository answered that it does not have the "
                + "file (the end of the archive); every other failure (storage, integrity, configuration, usage, the "
                + "launcher or the JVM itself) exits 200, which stops recovery instead of ending it early. "
                + "Use: restore_command = '/path/to/bin/lifeboat wal-fetch %%f %%p'")
final class WalFetchCommand implements Callable<Integer> {
    /**
     * The JVM's "not in the archive", proven by the repository's answer. Not 1, which a JVM that
     * cannot start, or dies of an uncaught error, exits with: bin/lifeboat turns exactly this code
     * into PostgreSQL's 1 and every other failure into {@link #ABORT_RECOVERY}.
     */
    static final int NOT_IN_ARCHIVE = 44;
    /** Above 125: PostgreSQL aborts recovery instead of treating the file as missing. */
    static final int ABORT_RECOVERY = 200;

    /** Whether {@code args} run wal-fetch (the first argument that is not an option names the command). */
    static boolean invoked(String[] args) {
        for (String a : args) {
            if (!a.startsWith("-")) {
                return a.equals("wal-fetch");
            }
        }
        return false;
    }

    /**
     * What a wal-fetch run exits with, whatever failed (a bad command line included): success,
     * the proven "not in the archive", or {@link #ABORT_RECOVERY}.
     */
    static int exitCode(int code) {
        return code == 0 || code == NOT_IN_ARCHIVE ? code : ABORT_RECOVERY;
    }

    @ParentCommand
    LifeboatCommand root;

    @Mixin
    ClusterOptions cluster;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "%f", description = "The file name PostgreSQL asks for.")
    String name;

    @Parameters(index = "1", paramLabel = "%p", description = "Where to put it (relative to the data directory).")
    Path target;

    @Override
    public Integer call() {
        Output out = root.output();
        try {
            WalFileName wal = WalFileName.parse(name);
            ClusterConfig cfg = cluster.load();
            try (RepositoryAccess repo = RepositoryAccess.open(cfg, w -> { })) {
                WalFetch fetch = new WalFetch(new WalArchive(repo.storage(), repo.catalog().layout(), repo.pipeline()));
                if (!fetch.run(wal, target)) {
                    return NOT_IN_ARCHIVE;
                }
            }
            startPrefetcher(wal);
            return 0;
        } catch (Exception e) {
            // A configuration the server's user cannot read, a bad argument, an unreachable repository:
            // none of them proves the file absent, so each stops recovery (PostgreSQL ends it below 126).
            root.report(e);
            return ABORT_RECOVERY;
        }
    }

    /**
     * The recovery's prefetcher, unless it runs (in the restore that started the server, or detached):
     * a detached `lifeboat wal-prefetch` with our options, which lives until recovery ends, so that
     * the next calls are answered by the launcher from its spool.
     */
    private void startPrefetcher(WalFileName wal) {
        Path pgWal = target.toAbsolutePath().getParent();
        if (wal.kind() != WalFileName.Kind.SEGMENT || WalPrefetcher.running(pgWal)) {
            return;
        }
        List<String> args = new ArrayList<>(spec.commandLine().getParseResult().originalArgs());
        int at = args.indexOf("wal-fetch");
        if (at < 0 || args.size() < at + 3) {
            return;
        }
        args.remove(args.size() - 1);
        args.remove(args.size() - 1);
        args.set(at, "wal-prefetch");
        try {
            // the names that follow depend on it (segments per log): the header of what was just fetched says
            args.add("--segment-size=" + WalPageHeader.read(target).segmentSize());
        } catch (IOException | RuntimeException e) {
            // the default, or what the spool records
        }
        args.add(wal.name());
        args.add(pgWal.toString());
        Detached.start(args);
    }
}
