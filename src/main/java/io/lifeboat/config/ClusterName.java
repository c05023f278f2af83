package io.lifeboat.config;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;

/** The rule for a cluster's name: it is the first part of every key the cluster has in a repository. */
public final class ClusterName {
    private ClusterName() {
    }

    /** @throws LifeboatException CONFIG for a name that cannot be a key prefix */
    public static String check(String name) {
        if (name == null || !name.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,62}")) {
            throw new LifeboatException(ErrorKind.CONFIG, "invalid cluster name '" + name + "'",
                    "use letters, digits, '.', '_' and '-' (at most 63 characters)");
        }
        return name;
    }
}
