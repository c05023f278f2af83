package io.lifeboat.config;

import io.lifeboat.codec.AgeEncryption;
import io.lifeboat.codec.Encryption;

import java.nio.file.Path;
import java.util.List;

/**
 * age encryption of a cluster's repositories. The recipients (public keys) are enough to write; the
 * identity file (private key) is only needed where backups are read back, and is never recorded.
 */
public record EncryptionConfig(List<String> recipients, Path identityFile) {
    public Encryption stage() {
        return new AgeEncryption(recipients, identityFile);
    }
}
