package io.lifeboat.config;

import io.lifeboat.SecretMask;
import io.lifeboat.codec.Compression;

/**
 * One repository of a cluster. Secrets (secretAccessKey) are held in memory only and left out of
 * toString().
 */
public record RepositoryConfig(
        String name,
        RepositoryUri uri,
        String uriText,
        Compression compression,
        int compressionLevel,
        boolean allowSameServer,
        String accessKeyId,
        String secretAccessKey,
        int partSizeMiB,
        int concurrency,
        SftpOptions sftp,
        NetworkOptions network) {

    /**
     * How a network repository is waited for, retried and trusted; a null duration means the
     * driver's default (storage.Timeouts).
     *
     * @param connectTimeout how long to wait for a connection
     * @param readTimeout    how long an answer may stall before the request is retried
     * @param retryTime      how long failing requests (and reads that make no progress) are retried
     * @param caFile         PEM file of the CAs an https endpoint's certificate must chain to, or null
     * @param verifyTls      false only when configured so: no certificate check at all (warned on every run)
     */
    public record NetworkOptions(java.time.Duration connectTimeout, java.time.Duration readTimeout,
                                 java.time.Duration retryTime, java.nio.file.Path caFile, boolean verifyTls) {
        public static final NetworkOptions DEFAULT = new NetworkOptions(null, null, null, null, true);
    }

    /**
     * How an SFTP repository is trusted and logged in to; the password (from LIFEBOAT_SFTP_PASSWORD)
     * is held in memory only.
     */
    public record SftpOptions(java.nio.file.Path identityFile, java.nio.file.Path knownHosts, String hostKeyFingerprint,
                              String password) {
        @Override
        public String toString() {
            return "SftpOptions[identity=" + identityFile + ", knownHosts=" + knownHosts + ", fingerprint="
                    + hostKeyFingerprint + ", password=" + (password == null ? "none" : "***") + "]";
        }
    }

    public RepositoryConfig(String name, RepositoryUri uri, String uriText, Compression compression, int compressionLevel,
                            boolean allowSameServer, String accessKeyId, String secretAccessKey, int partSizeMiB,
                            int concurrency) {
        this(name, uri, uriText, compression, compressionLevel, allowSameServer, accessKeyId, secretAccessKey, partSizeMiB,
                concurrency, null, NetworkOptions.DEFAULT);
    }

    /** Where the repository is, fit to show: the URI without its query, secrets masked ({@link SecretMask}). */
    public String location() {
        return SecretMask.uri(uriText.replaceAll("\\?.*$", ""));
    }

    @Override
    public String toString() {
        return "RepositoryConfig[name=" + name + ", uri=" + SecretMask.uri(uriText) + ", compression=" + compression.id() + "/" + compressionLevel
                + ", allowSameServer=" + allowSameServer + ", credentials=" + (accessKeyId == null ? "default" : "***") + "]";
    }
}
