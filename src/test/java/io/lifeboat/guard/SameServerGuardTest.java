package io.lifeboat.guard;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Every case of invariant 1, with a fake machine: its mounts, addresses and name resolution (no network traffic). */
class SameServerGuardTest {
    static InetAddress ip(String s) {
        try {
            return InetAddress.getByName(s); // literal addresses: no lookup
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    static final MountTable MOUNTS = MountTable.parse(List.of(
            "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw",
            "30 22 0:40 / /mnt/nfs rw,relatime shared:2 - nfs4 filer:/export/backups rw,vers=4.2",
            "31 22 0:41 / /mnt/smb rw,relatime shared:3 - cifs //nas/backups rw",
            "32 22 0:42 / /mnt/sshfs rw,relatime shared:4 - fuse.sshfs backup@vault:/srv rw",
            "33 22 0:43 / /mnt/with\\040space rw,relatime shared:5 - nfs filer:/x rw",
            "34 22 8:1 / /data rw,relatime shared:6 - xfs /dev/sdb1 rw"));

    // This machine is 10.0.0.5; "db.local" is this machine, "db.remote" is 192.0.2.10, "s3.remote" 192.0.2.20,
    // "s3.same" resolves to the database server 192.0.2.10.
    static final Map<String, List<InetAddress>> DNS = Map.of(
            "localhost", List.of(ip("127.0.0.1")),
            "db.local", List.of(ip("10.0.0.5")),
            "db.remote", List.of(ip("192.0.2.10")),
            "s3.remote", List.of(ip("192.0.2.20")),
            "s3.same", List.of(ip("192.0.2.10")));

    static List<InetAddress> resolve(String host) {
        if (DNS.containsKey(host)) {
            return DNS.get(host);
        }
        if (host.matches("[0-9.]+")) {
            return List.of(ip(host));
        }
        return List.of();
    }

    final SameServerGuard guard = new SameServerGuard(MOUNTS, Set.of(ip("127.0.0.1"), ip("10.0.0.5")), SameServerGuardTest::resolve);

    @Test
    void localDiskWithLocalDatabaseIsRefused() {
        for (String db : new String[] {"localhost", "127.0.0.1", "/var/run/postgresql", "db.local", "10.0.0.5", ""}) {
            assertThat(guard.checkFile(db, Path.of("/data/backups")).sameServer()).as(db).isTrue();
            assertThat(guard.checkFile(db, Path.of("/var/backups/pg")).sameServer()).as(db).isTrue();
        }
        assertThat(guard.checkFile("localhost", Path.of("/data/backups")).reason()).contains("xfs at /data");
    }

    @Test
    void localDiskOfABackupHostWithARemoteDatabaseIsFine() {
        assertThat(guard.checkFile("db.remote", Path.of("/data/backups")).sameServer()).isFalse();
        assertThat(guard.checkFile("192.0.2.10", Path.of("/data/backups")).sameServer()).isFalse();
    }

    @Test
    void networkFilesystemsCountAsRemote() {
        for (String p : new String[] {"/mnt/nfs/pg", "/mnt/smb/x/y", "/mnt/sshfs", "/mnt/with space/deeper"}) {
            SameServerGuard.Verdict v = guard.checkFile("localhost", Path.of(p));
            assertThat(v.sameServer()).as(p).isFalse();
            assertThat(v.reason()).contains("network filesystem");
        }
    }

    @Test
    void endpointsOnTheDatabaseServerAreRefused() {
        assertThat(guard.checkEndpoint("localhost", "127.0.0.1").sameServer()).isTrue();
        assertThat(guard.checkEndpoint("/var/run/postgresql", "localhost").sameServer()).isTrue();
        assertThat(guard.checkEndpoint("db.local", "10.0.0.5").sameServer()).isTrue();
        assertThat(guard.checkEndpoint("db.remote", "s3.same").sameServer()).isTrue();
        assertThat(guard.checkEndpoint("db.remote", "s3.same").reason()).contains("192.0.2.10");
    }

    @Test
    void endpointsElsewhereAreFine() {
        assertThat(guard.checkEndpoint("localhost", "s3.remote").sameServer()).isFalse();
        assertThat(guard.checkEndpoint("db.remote", "s3.remote").sameServer()).isFalse();
        // A backup host running its own S3 (MinIO) for a remote database: not the database server.
        assertThat(guard.checkEndpoint("db.remote", "127.0.0.1").sameServer()).isFalse();
        assertThat(guard.checkEndpoint("localhost", null).sameServer()).isFalse();
        assertThat(guard.checkEndpoint("localhost", "does.not.resolve").sameServer()).isFalse();
    }

    @Test
    void refusedUnlessAllowedAndThenWarnedEveryTime() {
        SameServerGuard.Verdict v = guard.checkFile("localhost", Path.of("/data/b"));
        assertThatThrownBy(() -> SameServerGuard.enforce(v, "'r1' (file:///data/b)", false, w -> { }))
                .isInstanceOfSatisfying(LifeboatException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.SAME_SERVER);
                    assertThat(e.exitCode()).isEqualTo(4);
                    assertThat(e.getMessage()).contains("r1", "/data/b", "localhost");
                    assertThat(e.hint()).contains("allow-same-server");
                });
        List<String> warnings = new ArrayList<>();
        SameServerGuard.enforce(v, "'r1'", true, warnings::add);
        SameServerGuard.enforce(v, "'r1'", true, warnings::add);
        assertThat(warnings).hasSize(2).allMatch(w -> w.startsWith("WARNING") && w.contains("allow-same-server"));
        SameServerGuard.enforce(guard.checkFile("db.remote", Path.of("/data/b")), "'r1'", false, warnings::add);
        assertThat(warnings).hasSize(2);
    }

    @Test
    void thisMachinesRealMountTableParses() {
        MountTable t = MountTable.current();
        assertThat(t.mountOf(Path.of("/"))).isPresent();
    }
}
