package io.lifeboat.storage;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.config.RepositoryConfig;
import io.lifeboat.config.RepositoryUri;

import java.net.URI;

/** Opens the driver a repository's URI names. */
public final class StorageFactory {
    private StorageFactory() {
    }

    public static Storage open(RepositoryConfig repo) {
        RepositoryUri uri = repo.uri();
        return switch (uri.scheme()) {
            case "file" -> new FsStorage(uri.filePath());
            case "s3" -> new S3Storage(new S3Settings(uri.bucket(), uri.path(),
                    uri.params().containsKey("endpoint") ? URI.create(uri.params().get("endpoint")) : null,
                    uri.params().getOrDefault("region", "us-east-1"),
                    Boolean.parseBoolean(uri.params().getOrDefault("path-style", "false")),
                    repo.accessKeyId(), repo.secretAccessKey(), repo.partSizeMiB() * 1024 * 1024, repo.concurrency()));
            default -> throw new LifeboatException(ErrorKind.CONFIG, "repository '" + repo.name() + "': " + uri.scheme()
                    + " repositories are not supported by this version", "use an s3:// or file:// repository");
        };
    }
}
