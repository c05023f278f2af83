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
        SftpOptions sftp) {

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
                concurrency, null);
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
