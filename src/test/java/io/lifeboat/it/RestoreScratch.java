package io.lifeboat.it;

import io.lifeboat.postgres.PgBinaries;
import io.lifeboat.postgres.ScratchCluster;
import io.lifeboat.postgres.ServerControl;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

/**
 * A test's working directory: a file repository whose cluster's WAL prefix the server's user can
 * write (archive_command and restore_command run as postgres, the in-process backups as root), and
 * the data directories restored into it, whose servers are stopped at the end.
 */
final class RestoreScratch implements AutoCloseable {
    final Path work;
    final Path repo;
    private final List<Path> restored = new ArrayList<>();

    private RestoreScratch(Path work, Path repo) {
        this.work = work;
        this.repo = repo;
    }

    /** A new directory with repo/CLUSTER/wal (for each cluster named) made beforehand and given to the server's user. */
    static RestoreScratch create(String name, String... clusters) throws IOException {
        Path work = Files.createTempDirectory("lifeboat-" + name + "-");
        Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path repo = Files.createDirectories(work.resolve("repo"));
        for (String c : clusters) {
            Files.createDirectories(repo.resolve(c).resolve("wal"));
        }
        ScratchCluster.giveToServerUser(repo);
        return new RestoreScratch(work, repo);
    }

    /** A data directory to restore into (absent until the restore makes it); its server is stopped at the end. */
    Path dataDirectory(String name) {
        Path d = work.resolve(name);
        restored.add(d);
        return d;
    }

    /** Stops the server running on a restored data directory, if one does. */
    static void stop(Path dataDir) {
        if (Files.exists(dataDir.resolve("postmaster.pid"))) {
            Path bin = new PgBinaries(null).newest("pg_ctl").path().getParent();
            new ServerControl(bin, dataDir, ScratchCluster.OS_USER).stop("fast");
        }
    }

    void stopAll() {
        restored.forEach(RestoreScratch::stop);
    }

    @Override
    public void close() {
        stopAll();
        ScratchCluster.deleteTree(work);
    }
}
