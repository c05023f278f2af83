package io.lifeboat.storage;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The storage contract and SFTP's own failure modes, against a real SSH server on loopback. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SftpStorageIT {
    static Path work;
    static TestSshServer ssh;
    static TcpRelay relay;
    static final AtomicInteger N = new AtomicInteger();

    @BeforeAll
    static void start() throws Exception {
        work = Files.createTempDirectory("lifeboat-sftp-");
        ssh = TestSshServer.start(work);
        relay = TcpRelay.start(ssh.port());
    }

    @AfterAll
    static void stop() throws Exception {
        relay.close();
        ssh.close();
        io.lifeboat.postgres.ScratchCluster.deleteTree(work);
    }

    /** The contract through a relay that resets the SSH connection: the driver reconnects and reads on. */
    @Nested
    @TestInstance(TestInstance.Lifecycle.PER_METHOD)
    class Contract extends StorageContract {
        @Override
        protected Storage open() throws Exception {
            relay.cutAfter(0, 0);
            String dir = "repo" + N.incrementAndGet();
            Files.createDirectories(ssh.root().resolve(dir));
            return new SftpStorage(new SftpSettings("127.0.0.1", relay.port(), TestSshServer.USER, dir, ssh.identity(), null,
                    null, ssh.hostKeyFingerprint(), 4, new Timeouts(Duration.ofSeconds(5), Duration.ofSeconds(5), RETRY)));
        }

        @Override
        protected Faults faults() {
            return new Faults() {
                @Override
                public void cutReads(int times) {
                    relay.cutAfter(256 * 1024, times);
                }

                @Override
                public void failReads(int times) {
                    relay.cutAfter(0, times);
                }

                @Override
                public boolean invalidListings(int times) {
                    return false; // an SFTP server ends a listing with an explicit status; there is no empty answer to give
                }

                @Override
                public void clear() {
                    relay.cutAfter(0, 0);
                }
            };
        }

        /** SFTP (version 3) gives modification times in whole seconds: a version is its size and time. */
        @Override
        protected void beforeReplacing() throws InterruptedException {
            Thread.sleep(1100);
        }
    }

    /** A connection that stops carrying anything mid-read is given up after about the read timeout, and the read goes on. */
    @Test
    void aStalledConnectionIsDroppedAndTheReadResumes() throws Exception {
        Files.createDirectories(ssh.root().resolve("stalled"));
        try (SftpStorage s = new SftpStorage(new SftpSettings("127.0.0.1", relay.port(), TestSshServer.USER, "stalled",
                ssh.identity(), null, null, ssh.hostKeyFingerprint(), 2, new Timeouts(Duration.ofSeconds(5),
                Duration.ofSeconds(3), Duration.ofSeconds(30))))) {
            byte[] data = StorageContract.bytes(4 * 1024 * 1024, 9);
            s.put("big", data);
            relay.stallAfter(512 * 1024, 1);
            long t0 = System.nanoTime();
            assertThat(s.get("big")).isEqualTo(data);
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(25));
            assertThat(relay.cuts()).isPositive();
        } finally {
            relay.cutAfter(0, 0);
        }
    }

    /** A healthy connection that carries nothing for longer than the read timeout (a slow producer) is kept. */
    @Test
    void aQuietHealthyConnectionIsKept() throws Exception {
        Files.createDirectories(ssh.root().resolve("quiet"));
        try (SftpStorage s = new SftpStorage(new SftpSettings("127.0.0.1", ssh.port(), TestSshServer.USER, "quiet",
                ssh.identity(), null, null, ssh.hostKeyFingerprint(), 1, new Timeouts(Duration.ofSeconds(5),
                Duration.ofSeconds(2), Duration.ofMillis(1))))) {
            try (ObjectWriter w = s.create("slow")) {
                w.write(new byte[] {1, 2, 3});
                Thread.sleep(5000);
                w.write(new byte[] {4});
                w.commit();
            }
            assertThat(s.get("slow")).containsExactly(1, 2, 3, 4);
        }
    }

    @Test
    void aVanishedRepositoryDirectoryIsAStorageErrorNeverMissing() throws Exception {
        Path dir = Files.createDirectories(ssh.root().resolve("vanishing"));
        try (SftpStorage s = new SftpStorage(ssh.settings("vanishing"))) {
            s.put("w/1", new byte[] {1});
            io.lifeboat.postgres.ScratchCluster.deleteTree(dir);
            for (org.assertj.core.api.ThrowableAssert.ThrowingCallable c : List.<org.assertj.core.api.ThrowableAssert
                    .ThrowingCallable>of(() -> s.list("w/"), () -> s.stat("w/1"), () -> s.get("w/1"))) {
                assertThatThrownBy(c).isInstanceOfSatisfying(LifeboatException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.STORAGE);
                    assertThat(e.getMessage()).contains("vanishing", "does not exist");
                });
            }
        }
    }

    private SftpSettings with(Path identity, String password, Path knownHosts, String fingerprint) throws Exception {
        Files.createDirectories(ssh.root().resolve("misc"));
        return new SftpSettings("127.0.0.1", ssh.port(), TestSshServer.USER, "misc", identity, password, knownHosts,
                fingerprint, 2);
    }

    @Test
    void passwordFromTheEnvironmentAndFingerprintWork() throws Exception {
        try (SftpStorage s = new SftpStorage(with(null, TestSshServer.PASSWORD, work.resolve("none"), ssh.hostKeyFingerprint()))) {
            s.probe();
            s.put("a/b", new byte[]{4, 2});
            assertThat(Files.readAllBytes(ssh.root().resolve("misc/a/b"))).containsExactly(4, 2);
            assertThat(s.describe()).doesNotContain(TestSshServer.PASSWORD);
        }
    }

    @Test
    void anUnknownOrChangedHostKeyIsRefused() throws Exception {
        Path empty = Files.writeString(work.resolve("empty_known_hosts"), "");
        assertThatThrownBy(() -> new SftpStorage(with(ssh.identity(), null, empty, null)))
                .isInstanceOfSatisfying(LifeboatException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.STORAGE);
                    assertThat(e.getMessage()).contains("refused SFTP server 127.0.0.1", ssh.hostKeyFingerprint(), "is not in");
                });
        Path other = work.resolve("changed_known_hosts");
        Files.writeString(other, "[127.0.0.1]:" + ssh.port() + " "
                + org.apache.sshd.common.config.keys.PublicKeyEntry.toString(TestSshServer.newKey().getPublic()) + "\n");
        assertThatThrownBy(() -> new SftpStorage(with(ssh.identity(), null, other, null)))
                .isInstanceOfSatisfying(LifeboatException.class, e -> {
                    assertThat(e.getMessage()).contains("host key changed", ssh.hostKeyFingerprint());
                    assertThat(e.hint()).contains("intercepting");
                });
        assertThatThrownBy(() -> new SftpStorage(with(ssh.identity(), null, null,
                "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")))
                .hasMessageContaining("host-key-fingerprint says SHA256:AAAA").hasMessageContaining(ssh.hostKeyFingerprint());
    }

    @Test
    void wrongCredentialsAndLooseKeyFilesAreRefused() throws Exception {
        Path stranger = TestSshServer.writeIdentity(TestSshServer.newKey(), work.resolve("stranger"));
        assertThatThrownBy(() -> new SftpStorage(with(stranger, null, ssh.knownHosts(), null)))
                .isInstanceOfSatisfying(LifeboatException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.STORAGE);
                    assertThat(e.getMessage()).contains("cannot log in", "127.0.0.1");
                });
        assertThatThrownBy(() -> new SftpStorage(with(null, "wrong password", ssh.knownHosts(), null)))
                .isInstanceOfSatisfying(LifeboatException.class, e -> assertThat(e.getMessage()).contains("cannot log in")
                        .doesNotContain("wrong password"));
        Path loose = TestSshServer.writeIdentity(TestSshServer.newKey(), work.resolve("loose"));
        Files.setPosixFilePermissions(loose, PosixFilePermissions.fromString("rw-r--r--"));
        assertThatThrownBy(() -> new SftpStorage(with(loose, null, ssh.knownHosts(), null)))
                .isInstanceOfSatisfying(LifeboatException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.CONFIG);
                    assertThat(e.getMessage()).contains("accessible by other users");
                });
        assertThatThrownBy(() -> new SftpStorage(with(null, null, ssh.knownHosts(), null)))
                .hasMessageContaining("no credentials");
    }

    @Test
    void aMissingBaseDirectoryIsReportedByProbe() throws Exception {
        try (SftpStorage s = new SftpStorage(ssh.settings("does/not/exist"))) {
            assertThatThrownBy(s::probe).isInstanceOfSatisfying(LifeboatException.class, e -> {
                assertThat(e.kind()).isEqualTo(ErrorKind.STORAGE);
                assertThat(e.getMessage()).contains("does not exist");
            });
        }
    }
}
