package io.lifeboat.cli;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.config.ClusterConfig;
import io.lifeboat.engine.RepositoryAccess;
import io.lifeboat.engine.archive.WalArchive;
import io.lifeboat.engine.archive.WalFetch;
import io.lifeboat.postgres.WalFileName;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "wal-fetch", mixinStandardHelpOptions = true,
        description = "restore_command: fetch a WAL file from the repository, verified, and prefetch the next ones. "
                + "Exits 1 quietly when the archive does not have it (the end of the archive); exits 200 on a storage "
                + "or integrity failure, which stops recovery instead of ending it early. "
                + "Use: restore_command = 'lifeboat wal-fetch %%f %%p'")
final class WalFetchCommand implements Callable<Integer> {
    static final int NOT_IN_ARCHIVE = 1;
    /** Above 125: PostgreSQL aborts recovery instead of treating the file as missing. */
    static final int ABORT_RECOVERY = 200;

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
        WalFileName wal = WalFileName.parse(name);
        try {
            ClusterConfig cfg = cluster.load();
            try (RepositoryAccess repo = RepositoryAccess.open(cfg, w -> { })) {
                WalFetch fetch = new WalFetch(new WalArchive(repo.storage(), repo.catalog().layout(), repo.pipeline()));
                if (!fetch.run(wal, target)) {
                    return NOT_IN_ARCHIVE;
                }
            }
            startPrefetcher(wal);
            return 0;
        } catch (LifeboatException e) {
            if (e.kind() == ErrorKind.USAGE || e.kind() == ErrorKind.CONFIG) {
                throw e;
            }
            root.report(e);
            return ABORT_RECOVERY;
        } catch (Exception e) {
            root.report(e);
            return ABORT_RECOVERY;
        }
    }

    /** A detached `lifeboat wal-prefetch` with our options, so recovery is not bound by one download at a time. */
    private void startPrefetcher(WalFileName wal) {
        if (wal.kind() != WalFileName.Kind.SEGMENT) {
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
        args.add(wal.name());
        args.add(target.toAbsolutePath().getParent().toString());
        Detached.start(args);
    }
}
