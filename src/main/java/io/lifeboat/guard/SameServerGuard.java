package io.lifeboat.guard;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;

import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Invariant 1: backups must never be stored on the database server. Decides whether a repository
 * lives on the same machine as the database and refuses it, unless the user opted out
 * (allow-same-server), in which case every run prints a warning.
 */
public final class SameServerGuard {
    /** Whether the repository is on the database server, and why we think so. */
    public record Verdict(boolean sameServer, String reason) {
        static Verdict no(String reason) {
            return new Verdict(false, reason);
        }

        static Verdict yes(String reason) {
            return new Verdict(true, reason);
        }
    }

    private final MountTable mounts;
    private final Set<InetAddress> localAddresses;
    private final Function<String, List<InetAddress>> resolver;

    public SameServerGuard(MountTable mounts, Set<InetAddress> localAddresses, Function<String, List<InetAddress>> resolver) {
        this.mounts = mounts;
        this.localAddresses = Set.copyOf(localAddresses);
        this.resolver = resolver;
    }

    /** A guard for this machine: its mounts, its interfaces' addresses, the system resolver. */
    public static SameServerGuard forThisMachine() {
        return new SameServerGuard(MountTable.current(), interfaceAddresses(), SameServerGuard::resolve);
    }

    static Set<InetAddress> interfaceAddresses() {
        Set<InetAddress> out = new HashSet<>();
        try {
            for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                out.addAll(Collections.list(nif.getInetAddresses()));
            }
        } catch (SocketException ignored) {
            // no interfaces visible: only loopback counts as local
        }
        return out;
    }

    static List<InetAddress> resolve(String host) {
        try {
            return List.of(InetAddress.getAllByName(host));
        } catch (UnknownHostException e) {
            return List.of();
        }
    }

    /** The database host is this machine: a Unix socket directory, loopback, or one of our addresses. */
    public boolean isThisMachine(String dbHost) {
        if (dbHost == null || dbHost.isBlank() || dbHost.startsWith("/")) {
            return true;
        }
        for (InetAddress a : resolver.apply(dbHost)) {
            if (a.isLoopbackAddress() || a.isAnyLocalAddress() || localAddresses.contains(a)) {
                return true;
            }
        }
        return false;
    }

    /** A file:// repository at {@code repoPath} for a database at {@code dbHost}. */
    public Verdict checkFile(String dbHost, Path repoPath) {
        if (!isThisMachine(dbHost)) {
            return Verdict.no("the database server " + dbHost + " is another machine");
        }
        var mount = mounts.mountOf(repoPath);
        if (mount.isPresent() && mount.get().isNetwork()) {
            return Verdict.no(repoPath + " is on a network filesystem (" + mount.get().fsType() + " from "
                    + mount.get().source() + ")");
        }
        String fs = mount.map(m -> m.fsType() + " at " + m.mountPoint()).orElse("a local filesystem");
        return Verdict.yes(repoPath + " is on " + fs + " of this machine, which is also the database server ("
                + (dbHost == null || dbHost.isBlank() ? "local socket" : dbHost) + ")");
    }

    /** A network repository (S3 endpoint, SFTP host) at {@code endpointHost} for a database at {@code dbHost}. */
    public Verdict checkEndpoint(String dbHost, String endpointHost) {
        if (endpointHost == null) {
            return Verdict.no("the endpoint is a public cloud service");
        }
        List<InetAddress> endpoint = resolver.apply(endpointHost);
        if (endpoint.isEmpty()) {
            return Verdict.no("the endpoint " + endpointHost + " does not resolve (reported when it is used)");
        }
        boolean endpointLocal = endpoint.stream().anyMatch(a -> a.isLoopbackAddress() || a.isAnyLocalAddress()
                || localAddresses.contains(a));
        if (endpointLocal && isThisMachine(dbHost)) {
            return Verdict.yes("the endpoint " + endpointHost + " and the database " + describeDb(dbHost)
                    + " are both this machine");
        }
        if (dbHost != null && !dbHost.isBlank() && !dbHost.startsWith("/")) {
            Set<InetAddress> db = new HashSet<>(resolver.apply(dbHost));
            for (InetAddress a : endpoint) {
                if (db.contains(a)) {
                    return Verdict.yes("the endpoint " + endpointHost + " resolves to " + a.getHostAddress()
                            + ", the address of the database server " + dbHost);
                }
            }
        }
        return Verdict.no("the endpoint " + endpointHost + " is not the database server");
    }

    private static String describeDb(String dbHost) {
        return dbHost == null || dbHost.isBlank() || dbHost.startsWith("/") ? "(local socket)" : dbHost;
    }

    /**
     * Refuses a same-server verdict, or, when allowed, passes it with a warning.
     *
     * @param repository the repository's name and location, for the message
     */
    public static void enforce(Verdict v, String repository, boolean allowSameServer, Consumer<String> warn) {
        if (!v.sameServer()) {
            return;
        }
        if (allowSameServer) {
            warn.accept("WARNING: repository " + repository + " is on the database server (" + v.reason()
                    + "); allowed by allow-same-server. A backup there is lost with the server: use this for demos "
                    + "and tests only.");
            return;
        }
        throw new LifeboatException(ErrorKind.SAME_SERVER, "repository " + repository + " is on the database server: "
                + v.reason(), "store backups on another machine (S3, SFTP, or a network filesystem such as NFS); "
                + "for demos and tests only, set allow-same-server: true (or --allow-same-server)");
    }
}
