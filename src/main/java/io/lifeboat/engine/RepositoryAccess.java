package io.lifeboat.engine;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.Catalog;
import io.lifeboat.catalog.RepositoryLayout;
import io.lifeboat.config.ClusterConfig;
import io.lifeboat.config.RepositoryConfig;
import io.lifeboat.storage.DeferredStorage;
import io.lifeboat.storage.MirroredStorage;
import io.lifeboat.storage.Storage;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
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
    private final List<Member> members;

    /**
     * One configured repository on its own (not through the mirror), for checks that must look at
     * every copy: its name, its location (URI without query), and a catalog and pipeline over it alone.
     */
    public record Member(String name, String location, Storage storage, Catalog catalog, ObjectPipeline pipeline) {
        /** "repository 'name' (location)", the prefix of every problem found in it. */
        public String describe() {
            return "repository '" + name + "' (" + location + ")";
        }
    }

    private RepositoryAccess(RepositoryConfig config, Storage storage, Catalog catalog, ObjectPipeline pipeline,
                             List<Member> members) {
        this.config = config;
        this.storage = storage;
        this.catalog = catalog;
        this.pipeline = pipeline;
        this.members = List.copyOf(members);
    }

    /**
     * Opens the cluster's repositories. The guard runs at once for each; drivers open in the
     * background and the first storage call waits for them (see {@link DeferredStorage}). With
     * several repositories, writes go to all (at least min-repositories must take them) and reads
     * come from the first that answers (see {@link MirroredStorage}).
     *
     * @param warn receives warnings (e.g. allow-same-server in effect, a repository down)
     */
    public static RepositoryAccess open(ClusterConfig cluster, Consumer<String> warn) {
        return open(cluster, warn, PreparedRepositories.none());
    }

    /** As {@link #open(ClusterConfig, Consumer)}, taking the repositories {@code prepared} opened ahead where they match. */
    public static RepositoryAccess open(ClusterConfig cluster, Consumer<String> warn, PreparedRepositories prepared) {
        if (cluster.repositories().isEmpty()) {
            throw new LifeboatException(ErrorKind.CONFIG, "cluster '" + cluster.name() + "' has no repository",
                    "add one under repositories: in lifeboat.yml, or pass --repo URI (LIFEBOAT_REPO)");
        }
        for (RepositoryConfig repo : cluster.repositories()) {
            OffServerCheck.enforce(cluster, repo, warn);
            if (repo.network() != null && !repo.network().verifyTls()) {
                warn.accept("repository '" + repo.name() + "' has verify-tls: false: the TLS certificate of "
                        + repo.uri().params().get("endpoint") + " is not checked, so anyone on the network path can read "
                        + "and change what is stored and restored; trust its CA with ca-file instead");
            }
        }
        io.lifeboat.Trace.mark("guard done");
        List<MirroredStorage.Member> members = new ArrayList<>();
        List<Member> each = new ArrayList<>();
        RepositoryLayout layout = new RepositoryLayout(cluster.name());
        for (RepositoryConfig repo : cluster.repositories()) {
            Storage s = prepared.claim(repo);
            if (s == null) {
                s = deferred(repo);
            }
            members.add(new MirroredStorage.Member(repo.name(), s));
            each.add(new Member(repo.name(), repo.location(), s, new Catalog(s, layout),
                    new ObjectPipeline(s, repo.compression(), repo.compressionLevel(), cluster.encryptionStage())));
        }
        Storage storage = members.size() == 1 ? members.get(0).storage()
                : new MirroredStorage(members, Math.max(1, cluster.minRepositories()), warn);
        RepositoryConfig primary = cluster.primaryRepository();
        Catalog catalog = new Catalog(storage, layout);
        ObjectPipeline pipeline = new ObjectPipeline(storage, primary.compression(), primary.compressionLevel(),
                cluster.encryptionStage());
        return new RepositoryAccess(primary, storage, catalog, pipeline, each);
    }

    static DeferredStorage deferred(RepositoryConfig repo) {
        return new DeferredStorage("'" + repo.name() + "' (" + repo.location() + ")", () -> {
            Storage s = StorageFactory.open(repo);
            io.lifeboat.Trace.mark("storage driver created");
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

    /** Every configured repository on its own, in configured order (one for a single repository). */
    public List<Member> members() {
        return members;
    }

    @Override
    public void close() {
        storage.close();
    }
}
