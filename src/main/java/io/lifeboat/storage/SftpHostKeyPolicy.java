package io.lifeboat.storage;

import org.apache.sshd.client.keyverifier.KnownHostsServerKeyVerifier;
import org.apache.sshd.client.keyverifier.ServerKeyVerifier;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.config.keys.KeyUtils;

import java.net.SocketAddress;
import java.nio.file.Path;
import java.security.PublicKey;

/**
 * Refuses any server whose host key is not the expected one: either a configured fingerprint, or
 * an entry in a known_hosts file. Unknown hosts are refused too (no trust on first use: a backup
 * tool should not send a database to whoever answers). The reason is kept for the error message.
 */
final class SftpHostKeyPolicy implements ServerKeyVerifier {
    private final String fingerprint;
    private final ServerKeyVerifier knownHosts;
    private volatile String rejection;

    SftpHostKeyPolicy(String fingerprint, Path knownHostsFile) {
        this.fingerprint = fingerprint;
        if (fingerprint != null) {
            this.knownHosts = null;
        } else {
            KnownHostsServerKeyVerifier v = new KnownHostsServerKeyVerifier((session, address, key) -> {
                rejection = "its host key " + KeyUtils.getFingerPrint(key) + " is not in " + knownHostsFile;
                return false;
            }, knownHostsFile);
            v.setModifiedServerKeyAcceptor((session, address, entry, expected, actual) -> {
                rejection = "its host key changed: " + knownHostsFile + " has " + KeyUtils.getFingerPrint(expected)
                        + ", the server presented " + KeyUtils.getFingerPrint(actual);
                return false;
            });
            this.knownHosts = v;
        }
    }

    @Override
    public boolean verifyServerKey(ClientSession session, SocketAddress address, PublicKey key) {
        if (fingerprint != null) {
            String got = KeyUtils.getFingerPrint(key);
            if (fingerprint.equals(got)) {
                return true;
            }
            rejection = "its host key is " + got + ", host-key-fingerprint says " + fingerprint;
            return false;
        }
        return knownHosts.verifyServerKey(session, address, key);
    }

    /** Why the last host key was refused, or null. */
    String rejection() {
        return rejection;
    }
}
