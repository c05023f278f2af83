package io.lifeboat.cli;

import com.exceptionfactory.jagged.x25519.X25519KeyPairGenerator;
import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "keygen", mixinStandardHelpOptions = true,
        description = "Create an age key pair for encrypted repositories: writes the identity (private key) to FILE, "
                + "readable by its owner only, and prints the recipient (public key) to put under encryption.recipients. "
                + "Keep the identity away from the database server; it is needed only to restore. "
                + "The file is the same format as age-keygen's.")
final class KeygenCommand implements Callable<Integer> {
    @ParentCommand
    LifeboatCommand root;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", required = true, description = "Identity file to create "
            + "(never overwritten).")
    Path output;

    @Override
    public Integer call() {
        Output out = root.output();
        KeyPair pair;
        try {
            pair = new X25519KeyPairGenerator().generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new LifeboatException(ErrorKind.GENERAL, "cannot generate an X25519 key pair: " + e.getMessage(),
                    "this Java runtime lacks X25519 (Java 11+ has it)", e);
        }
        String recipient = pair.getPublic().toString();
        String text = "# created: " + Instant.now() + "\n# public key: " + recipient + "\n" + pair.getPrivate() + "\n";
        try {
            Files.writeString(Files.createFile(output, PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rw-------"))), text, StandardCharsets.US_ASCII, StandardOpenOption.WRITE);
        } catch (FileAlreadyExistsException e) {
            throw new LifeboatException(ErrorKind.CONFLICT, "identity file " + output + " already exists",
                    "keys are never overwritten: choose another file name");
        } catch (IOException e) {
            throw new LifeboatException(ErrorKind.RESOURCE, "cannot write identity file " + output + ": " + e.getMessage(),
                    "check the directory exists and is writable", e);
        }
        out.text(recipient);
        out.result(Map.of("identityFile", output.toAbsolutePath().toString(), "recipient", recipient));
        return 0;
    }
}
