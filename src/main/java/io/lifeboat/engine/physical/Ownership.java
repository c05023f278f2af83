package io.lifeboat.engine.physical;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.postgres.ExternalProcess;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.nio.file.attribute.UserPrincipalNotFoundException;

/**
 * Who owns restored files. PostgreSQL refuses a data directory that is not owned by the user it
 * runs as, so a restore done as root hands everything to that user (and its primary group); a
 * restore done as anyone else leaves the files to that user.
 */
final class Ownership {
    private final String userName;
    private final UserPrincipal user;
    private final GroupPrincipal group;

    private Ownership(String userName, UserPrincipal user, GroupPrincipal group) {
        this.userName = userName;
        this.user = user;
        this.group = group;
    }

    /** Files stay with the user running Lifeboat. */
    static Ownership unchanged() {
        return new Ownership(System.getProperty("user.name"), null, null);
    }

    /**
     * The owner for a restore into {@code dataDir}: {@code requested} if given; else, as root, the
     * owner of the nearest existing parent directory unless that is root, else 'postgres'; not as
     * root: unchanged.
     */
    static Ownership choose(String requested, Path dataDir) {
        if (!ExternalProcess.runningAsRoot()) {
            if (requested != null && !requested.equals(System.getProperty("user.name"))) {
                throw new LifeboatException(ErrorKind.USAGE, "--owner " + requested + " needs root",
                        "run the restore as root, or as " + requested + " without --owner");
            }
            return unchanged();
        }
        String name = requested;
        if (name == null) {
            try {
                Path p = dataDir.toAbsolutePath();
                while (p != null && !Files.exists(p)) {
                    p = p.getParent();
                }
                String parentOwner = p == null ? "root" : Files.getOwner(p).getName();
                name = parentOwner.equals("root") ? "postgres" : parentOwner;
            } catch (IOException e) {
                name = "postgres";
            }
        }
        return of(name);
    }

    static Ownership of(String name) {
        UserPrincipalLookupService lookup = Path.of("/").getFileSystem().getUserPrincipalLookupService();
        try {
            UserPrincipal u = lookup.lookupPrincipalByName(name);
            GroupPrincipal g = primaryGroup(lookup, name);
            return new Ownership(name, u, g);
        } catch (UserPrincipalNotFoundException e) {
            throw new LifeboatException(ErrorKind.USAGE, "no OS user '" + name + "' to own the restored files",
                    "pass --owner USER: the user the PostgreSQL server will run as");
        } catch (IOException e) {
            throw new LifeboatException(ErrorKind.RESOURCE, "cannot look up OS user '" + name + "': " + e.getMessage(), null, e);
        }
    }

    /**
     * The user's primary group: its gid in /etc/passwd and that gid's name in /etc/group, without
     * starting a process (which cost a restore 20-30 ms); `id -gn` for a user only a name service
     * (LDAP, ...) knows.
     */
    private static GroupPrincipal primaryGroup(UserPrincipalLookupService lookup, String user) {
        String gid = field(Path.of("/etc/passwd"), 0, user, 3);
        if (gid != null) {
            String name = field(Path.of("/etc/group"), 2, gid, 0);
            try {
                return lookup.lookupPrincipalByGroupName(name != null ? name : gid); // a number is taken as the gid
            } catch (IOException e) {
                // not resolvable here: ask id below
            }
        }
        ExternalProcess.Result r = new ExternalProcess(java.util.List.of("id", "-gn", user), java.util.Map.of()).run();
        if (!r.ok()) {
            return null;
        }
        try {
            return lookup.lookupPrincipalByGroupName(r.stdout().trim());
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * In a colon-separated file such as /etc/passwd or /etc/group: field {@code want} of the first
     * line whose field {@code key} equals {@code value}, if it is a number or (field 0) a name; null
     * if there is none or the file cannot be read.
     */
    static String field(Path file, int key, String value, int want) {
        try (java.util.stream.Stream<String> lines = Files.lines(file)) {
            return lines.map(l -> l.split(":", -1))
                    .filter(f -> f.length > Math.max(key, want) && f[key].equals(value) && !f[want].isEmpty()
                            && (want == 0 || f[want].chars().allMatch(Character::isDigit)))
                    .map(f -> f[want]).findFirst().orElse(null);
        } catch (IOException | java.io.UncheckedIOException e) {
            return null;
        }
    }

    /** The OS user name that will own the files (and should run the server). */
    String userName() {
        return userName;
    }

    /** The group the files get, or null to leave it. */
    GroupPrincipal group() {
        return group;
    }

    boolean changes() {
        return user != null;
    }

    /** Whether a file with these attributes already has the owner (and group) {@link #apply} would give it. */
    boolean owns(java.nio.file.attribute.PosixFileAttributes a) {
        return user == null || (a.owner().equals(user) && (group == null || a.group().equals(group)));
    }

    void apply(Path p) throws IOException {
        if (user == null) {
            return;
        }
        PosixFileAttributeView v = Files.getFileAttributeView(p, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
        v.setOwner(user);
        if (group != null) {
            v.setGroup(group);
        }
    }
}
