package io.lifeboat.storage;

import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.config.keys.writer.openssh.OpenSSHKeyPairResourceWriter;
import org.apache.sshd.common.file.virtualfs.VirtualFileSystemFactory;
import org.apache.sshd.common.keyprovider.KeyPairProvider;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.sftp.server.SftpSubsystemFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.List;

/**
 * A real SSH server with the SFTP subsystem (Apache MINA SSHD) on a free loopback port, serving a
 * temporary directory; one user logs in with a generated key pair or a password.
 */
public final class TestSshServer implements AutoCloseable {
    public static final String USER = "backup";
    public static final String PASSWORD = "sftp-test-password";

    private final SshServer server;
    private final Path root;
    private final Path identity;
    private final Path knownHosts;
    private final KeyPair hostKey;

    private TestSshServer(SshServer server, Path root, Path identity, Path knownHosts, KeyPair hostKey) {
        this.server = server;
        this.root = root;
        this.identity = identity;
        this.knownHosts = knownHosts;
        this.hostKey = hostKey;
    }

    public static KeyPair newKey() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    /** Writes an OpenSSH private key file, mode 0600. */
    public static Path writeIdentity(KeyPair key, Path file) throws IOException, GeneralSecurityException {
        try (OutputStream out = Files.newOutputStream(file)) {
            OpenSSHKeyPairResourceWriter.INSTANCE.writePrivateKey(key, "lifeboat-test", null, out);
        }
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        return file;
    }

    public static TestSshServer start(Path work) throws IOException, GeneralSecurityException {
        Path root = Files.createDirectories(work.resolve("sftp-root"));
        KeyPair client = newKey();
        KeyPair host = newKey();
        Path identity = writeIdentity(client, work.resolve("id_ecdsa"));
        SshServer sshd = SshServer.setUpDefaultServer();
        sshd.setHost("127.0.0.1");
        sshd.setPort(0);
        sshd.setKeyPairProvider(KeyPairProvider.wrap(host));
        sshd.setPublickeyAuthenticator((user, key, session) -> USER.equals(user) && KeyUtils.compareKeys(key, client.getPublic()));
        sshd.setPasswordAuthenticator((user, password, session) -> USER.equals(user) && PASSWORD.equals(password));
        sshd.setSubsystemFactories(List.of(new SftpSubsystemFactory()));
        sshd.setFileSystemFactory(new VirtualFileSystemFactory(root));
        sshd.start();
        Path knownHosts = work.resolve("known_hosts");
        Files.writeString(knownHosts, "[127.0.0.1]:" + sshd.getPort() + " " + PublicKeyEntry.toString(host.getPublic()) + "\n");
        return new TestSshServer(sshd, root, identity, knownHosts, host);
    }

    public int port() {
        return server.getPort();
    }

    public Path root() {
        return root;
    }

    public Path identity() {
        return identity;
    }

    public Path knownHosts() {
        return knownHosts;
    }

    public String hostKeyFingerprint() {
        return KeyUtils.getFingerPrint(hostKey.getPublic());
    }

    public String uri(String path) {
        return "sftp://" + USER + "@127.0.0.1:" + port() + "/" + path;
    }

    public SftpSettings settings(String basePath) {
        return new SftpSettings("127.0.0.1", port(), USER, basePath, identity, null, knownHosts, null, 4);
    }

    @Override
    public void close() throws IOException {
        server.stop(true);
    }
}
