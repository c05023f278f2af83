package io.lifeboat.cli;

import io.lifeboat.storage.EmbeddedS3Server;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** A local S3 server for trying Lifeboat and for benchmarks; not for real backups (it runs on this machine). */
@Command(name = "s3-server", hidden = true, mixinStandardHelpOptions = true,
        description = "Run an S3 server (s3proxy, filesystem backend) on 127.0.0.1 until stopped, over http or https. For trials and benchmarks.")
final class S3ServerCommand implements Callable<Integer> {
    @ParentCommand
    LifeboatCommand root;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--dir", required = true, paramLabel = "DIR", description = "Where the objects are kept.")
    Path dir;

    @Option(names = "--port", defaultValue = "0", description = "Port on 127.0.0.1 (0: a free one).")
    int port;

    @Option(names = "--bucket", defaultValue = "lifeboat", description = "Bucket to create (default: ${DEFAULT-VALUE}).")
    String bucket;

    @Option(names = "--env-file", required = true, paramLabel = "FILE",
            description = "Write LIFEBOAT_S3_ENDPOINT and the credentials here (mode 0600), not to the terminal.")
    Path envFile;

    @Option(names = "--tls-key-store", paramLabel = "FILE",
            description = "Serve https only, with the key and certificate of this PKCS#12 key store.")
    Path keyStore;

    @Option(names = "--tls-password-file", paramLabel = "FILE",
            description = "The key store's password (first line), kept out of the process arguments.")
    Path passwordFile;

    @Override
    public Integer call() throws Exception {
        if ((keyStore == null) != (passwordFile == null)) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--tls-key-store and --tls-password-file go together");
        }
        try (EmbeddedS3Server s3 = keyStore == null ? EmbeddedS3Server.start(dir, port)
                : EmbeddedS3Server.startTls(dir, port, keyStore, Files.readAllLines(passwordFile).get(0).strip())) {
            s3.createBucket(bucket);
            Path tmp = envFile.resolveSibling(envFile.getFileName() + ".tmp");
            Files.deleteIfExists(tmp);
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.write(tmp, List.of("LIFEBOAT_S3_ENDPOINT=" + s3.endpoint(), "LIFEBOAT_S3_ACCESS_KEY_ID=" + s3.accessKey(),
                    "LIFEBOAT_S3_SECRET_ACCESS_KEY=" + s3.secretKey()));
            Files.move(tmp, envFile, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            root.output().info("S3 server on " + s3.endpoint() + ", bucket " + bucket + "; credentials in " + envFile);
            CountDownLatch forever = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(forever::countDown));
            forever.await();
        }
        return 0;
    }
}
