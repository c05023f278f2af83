package io.lifeboat.engine;

import io.lifeboat.config.ClusterConfig;
import io.lifeboat.config.RepositoryConfig;
import io.lifeboat.storage.DeferredStorage;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * Repositories opened ahead of the command that will use them: a command's start (the JVM, the
 * command line's model) takes about as long as creating an S3 client and its first TLS handshake,
 * so a command that knows early which configuration it will load opens its repositories on another
 * core meanwhile. Only a repository whose settings equal, field for field, those the command then
 * resolves is handed over ({@link #claim}); the off-server guard runs before anything connects,
 * as in {@link RepositoryAccess#open}, and the command runs it again with its warnings. A guess that
 * does not match, or that fails to load, costs only the work done in the background: the command
 * opens its repositories itself. What is not claimed is closed by {@link #close}.
 */
public final class PreparedRepositories implements AutoCloseable {
    private static final PreparedRepositories NONE = new PreparedRepositories(CompletableFuture.completedFuture(Map.of()));
    private final CompletableFuture<Map<RepositoryConfig, DeferredStorage>> opened;

    private PreparedRepositories(CompletableFuture<Map<RepositoryConfig, DeferredStorage>> opened) {
        this.opened = opened;
    }

    /** Nothing prepared: every repository is opened by the command. */
    public static PreparedRepositories none() {
        return NONE;
    }

    /**
     * Loads the configuration {@code guess} gives on a background thread and starts opening its
     * repositories (guard first). Any failure there is left for the command to meet and report.
     */
    public static PreparedRepositories start(Supplier<ClusterConfig> guess) {
        CompletableFuture<Map<RepositoryConfig, DeferredStorage>> f = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            Map<RepositoryConfig, DeferredStorage> m = new HashMap<>();
            try {
                ClusterConfig cluster = guess.get();
                for (RepositoryConfig repo : cluster.repositories()) {
                    OffServerCheck.enforce(cluster, repo, w -> { });
                }
                for (RepositoryConfig repo : cluster.repositories()) {
                    m.putIfAbsent(repo, RepositoryAccess.deferred(repo));
                }
                io.lifeboat.Trace.mark("repositories opening ahead of the command");
            } catch (RuntimeException | LinkageError e) {
                // the command loads the configuration itself and reports what is wrong with it
            }
            f.complete(m);
        }, "repository-ahead");
        t.setDaemon(true);
        t.start();
        return new PreparedRepositories(f);
    }

    /** The storage opened ahead for exactly these settings (its opening may still be under way), or null. */
    DeferredStorage claim(RepositoryConfig repo) {
        Map<RepositoryConfig, DeferredStorage> m = opened.join();
        if (m.isEmpty()) {
            return null;
        }
        synchronized (m) {
            return m.remove(repo);
        }
    }

    /** Closes, once they are open, the storages nobody claimed; does not wait for them. */
    @Override
    public void close() {
        opened.thenAccept(m -> {
            synchronized (m) {
                m.values().forEach(DeferredStorage::closeWhenOpen);
                m.clear();
            }
        });
    }
}
