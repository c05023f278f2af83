package io.lifeboat.catalog;

/**
 * One object of a backup as recorded in its manifest.
 *
 * @param path        path relative to the backup's directory, including codec suffixes
 * @param size        stored size in bytes (after compression and encryption)
 * @param sha256      SHA-256 of the stored bytes, verified before anything is trusted
 * @param rawSize     size of the original content
 * @param compression codec id (zstd, lz4, gzip, none)
 * @param encryption  scheme id (none, age)
 */
public record StoredObject(String path, long size, String sha256, long rawSize, String compression, String encryption) {
}
