package io.lifeboat.engine;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.Catalog;
import io.lifeboat.catalog.RepositoryLayout;
import io.lifeboat.codec.Encryption;
import io.lifeboat.config.ClusterConfig;
import io.lifeboat.config.RepositoryConfig;
import io.lifeboat.storage.DeferredStorage;
import io.lifeboat.storage.Storage;
import io.lifeboat.storage.StorageFactory;

import java.io.IOException;
import java.util.function.Consumer;

/**
 * An opened repository of one cluster: the storage driver (after the off-server guard let it
 * through), its catalog, and the object pipeline with the repository's codecs.
 */
public final class RepositoryAccess implements AutoCloseable {
    private final RepositoryConfig config;
    private final Storage storage;
    private final Catalog catalog;
    private final ObjectPipeline pipeline;

    private RepositoryAccess(RepositoryConfig config, Storage storage, Catalog catalog, ObjectPipeline pipeline) {
        this.config = config;
        this.storage = storage;
        this.catalog = catalog;
        this.pipeline = pipeline;
    }

    /**
     * Opens the cluster's primary repository. The guard runs at once; the driver opens in the
     * background and the first storage call waits for it (see {@link DeferredStorage}).
     *
     * @param warn receives warnings (e.g. allow-same-server in effect)
     */
    public static RepositoryAccess open(ClusterConfig cluster, Consumer<String> warn) {
        if (cluster.repositories().isEmpty()) {
            throw new LifeboatException(ErrorKind.CONFIG, "cluster '" + cluster.name() + "' has no repository",
                    "add one under repositories: in lifeboat.yml, or pass --repo URI (LIFEBOAT_REPO)");
        }
        RepositoryConfig repo = cluster.primaryRepository();
        OffServerCheck.enforce(cluster, repo, warn);
        io.lifeboat.Trace.mark("guard done");
        Storage storage = new DeferredStorage("'" + repo.name() + "' (" + repo.uriText().replaceAll("\\?.*$", "") + ")", () -> {
            Storage s = StorageFactory.open(repo);
            try {
                s.probe();
                io.lifeboat.Trace.mark("storage opened and probed");
                return s;
            } catch (IOException e) {
                s.close();
                throw new LifeboatException(ErrorKind.STORAGE, "repository '" + repo.name() + "' (" + s.describe()
                        + ") is not usable: " + e.getMessage(), "check the repository URI and that it is reachable", e);
            } catch (RuntimeException e) {
                s.close();
                throw e;
            }
        });
        Catalog catalog = new Catalog(storage, new RepositoryLayout(cluster.name()));
        ObjectPipeline pipeline = new ObjectPipeline(storage, repo.compression(), repo.compressionLevel(), Encryption.NONE);
        return new RepositoryAccess(repo, storage, catalog, pipeline);
    }

    public RepositoryConfig config() {
        return config;
    }

    public Storage storage() {
        return storage;
    }

    public Catalog catalog() {
        return catalog;
    }

    public ObjectPipeline pipeline() {
        return pipeline;
    }

    @Override
    public void close() {
        storage.close();
    }
}
