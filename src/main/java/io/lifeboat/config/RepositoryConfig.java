package io.lifeboat.config;

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
        int concurrency) {

    @Override
    public String toString() {
        return "RepositoryConfig[name=" + name + ", uri=" + uriText + ", compression=" + compression.id() + "/" + compressionLevel
                + ", allowSameServer=" + allowSameServer + ", credentials=" + (accessKeyId == null ? "default" : "***") + "]";
    }
}
