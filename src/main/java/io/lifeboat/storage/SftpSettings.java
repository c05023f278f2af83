package io.lifeboat.storage;

import java.nio.file.Path;

/**
 * Where an SFTP repository is and how to trust and log in to it. The password, when used, comes
 * from the environment (LIFEBOAT_SFTP_PASSWORD) and is left out of toString().
 *
 * @param basePath           directory on the server holding the repository ("" = the login directory)
 * @param identityFile       OpenSSH private key file, or null
 * @param knownHosts         known_hosts file to check the server's host key against (when no fingerprint)
 * @param hostKeyFingerprint the expected host key, as `ssh-keygen -lf` prints it (SHA256:…), or null
 * @param channels           SFTP channels opened in parallel over the one SSH connection
 * @param timeouts           how long to wait for the server, and to retry when the connection breaks
 */
public record SftpSettings(String host, int port, String user, String basePath, Path identityFile, String password,
                           Path knownHosts, String hostKeyFingerprint, int channels, Timeouts timeouts) {
    public SftpSettings(String host, int port, String user, String basePath, Path identityFile, String password,
                        Path knownHosts, String hostKeyFingerprint, int channels) {
        this(host, port, user, basePath, identityFile, password, knownHosts, hostKeyFingerprint, channels, Timeouts.DEFAULT);
    }

    public String describe() {
        return "sftp://" + user + "@" + host + (port == 22 ? "" : ":" + port) + "/" + basePath;
    }

    @Override
    public String toString() {
        return "SftpSettings[" + describe() + ", identity=" + identityFile + ", password=" + (password == null ? "none" : "***")
                + ", knownHosts=" + knownHosts + ", fingerprint=" + hostKeyFingerprint + "]";
    }
}
