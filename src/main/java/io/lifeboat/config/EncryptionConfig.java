package io.lifeboat.config;

import io.lifeboat.codec.AgeEncryption;
import io.lifeboat.codec.AgeScrypt;
import io.lifeboat.codec.Encryption;
import io.lifeboat.codec.Passphrase;

import java.nio.file.Path;
import java.util.List;

/**
 * age encryption of a cluster's repositories: either recipients (public keys, enough to write; the
 * identity file, the private key, only where backups are read back) or a passphrase (the same secret
 * writes and reads). Neither secret is ever recorded; {@link Passphrase#toString()} hides the value.
 *
 * @param passphrase       passphrase source, or null
 * @param scryptWorkFactor log2(N) of scrypt for objects written with the passphrase
 */
public record EncryptionConfig(List<String> recipients, Path identityFile, Passphrase passphrase, int scryptWorkFactor) {
    public EncryptionConfig(List<String> recipients, Path identityFile) {
        this(recipients, identityFile, null, AgeScrypt.DEFAULT_WORK_FACTOR);
    }

    public Encryption stage() {
        return new AgeEncryption(recipients, identityFile, passphrase, scryptWorkFactor);
    }
}
