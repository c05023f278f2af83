package io.lifeboat.engine;

import io.lifeboat.config.ClusterConfig;
import io.lifeboat.config.RepositoryConfig;
import io.lifeboat.config.RepositoryUri;
import io.lifeboat.guard.SameServerGuard;

import java.util.function.Consumer;

/** Applies the off-server guard (invariant 1) to a cluster's repository before anything is written. */
final class OffServerCheck {
    private OffServerCheck() {
    }

    static void enforce(ClusterConfig cluster, RepositoryConfig repo, Consumer<String> warn) {
        SameServerGuard guard = SameServerGuard.forThisMachine();
        RepositoryUri uri = repo.uri();
        String dbHost = cluster.postgres().host();
        SameServerGuard.Verdict v = uri.scheme().equals("file") ? guard.checkFile(dbHost, uri.filePath())
                : guard.checkEndpoint(dbHost, uri.networkHost());
        SameServerGuard.enforce(v, "'" + repo.name() + "' (" + repo.location() + ")",
                repo.allowSameServer(), warn);
    }
}
