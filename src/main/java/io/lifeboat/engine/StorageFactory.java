package io.lifeboat.engine;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.config.RepositoryConfig;
import io.lifeboat.config.RepositoryUri;
import io.lifeboat.storage.FsStorage;
import io.lifeboat.storage.S3Settings;
import io.lifeboat.storage.S3Storage;
import io.lifeboat.storage.SftpSettings;
import io.lifeboat.storage.SftpStorage;
import io.lifeboat.storage.Storage;
import io.lifeboat.storage.Timeouts;
import io.lifeboat.storage.TlsSettings;

import java.net.URI;
import java.nio.file.Path;

/** Opens the driver a repository's URI names, with the driver's own settings taken from the configuration. */
public final class StorageFactory {
    private StorageFactory() {
    }

    public static Storage open(RepositoryConfig repo) {
        RepositoryUri uri = repo.uri();
        RepositoryConfig.NetworkOptions net = repo.network() == null ? RepositoryConfig.NetworkOptions.DEFAULT : repo.network();
        Timeouts timeouts = new Timeouts(or(net.connectTimeout(), Timeouts.DEFAULT.connect()),
                or(net.readTimeout(), Timeouts.DEFAULT.read()), or(net.retryTime(), Timeouts.DEFAULT.retry()));
        return switch (uri.scheme()) {
            case "file" -> new FsStorage(uri.filePath(), timeouts.retry());
            case "s3" -> new S3Storage(new S3Settings(uri.bucket(), uri.path(),
                    uri.params().containsKey("endpoint") ? URI.create(uri.params().get("endpoint")) : null,
                    uri.params().getOrDefault("region", "us-east-1"),
                    Boolean.parseBoolean(uri.params().getOrDefault("path-style", "false")),
                    repo.accessKeyId(), repo.secretAccessKey(), repo.partSizeMiB() * 1024 * 1024, repo.concurrency(),
                    timeouts, new TlsSettings(net.caFile(), net.verifyTls())),
                    MemoryBudget.ofThisJvm().uploadParts(repo.partSizeMiB() * 1024 * 1024));
            case "sftp" -> {
                RepositoryConfig.SftpOptions o = repo.sftp() != null ? repo.sftp()
                        : new RepositoryConfig.SftpOptions(null, Path.of(System.getProperty("user.home"), ".ssh", "known_hosts"),
                        null, null);
                yield new SftpStorage(new SftpSettings(uri.host(), uri.port(),
                        uri.user() != null ? uri.user() : System.getProperty("user.name"), uri.path(), o.identityFile(),
                        o.password(), o.knownHosts(), o.hostKeyFingerprint(), repo.concurrency(), timeouts));
            }
            default -> throw new LifeboatException(ErrorKind.CONFIG, "repository '" + repo.name() + "': " + uri.scheme()
                    + " repositories are not supported by this version", "use an s3://, sftp:// or file:// repository");
        };
    }

    private static java.time.Duration or(java.time.Duration d, java.time.Duration otherwise) {
        return d != null ? d : otherwise;
    }
}
