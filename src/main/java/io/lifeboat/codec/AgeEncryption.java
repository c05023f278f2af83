package io.lifeboat.codec;

import com.exceptionfactory.jagged.RecipientStanzaReader;
import com.exceptionfactory.jagged.RecipientStanzaWriter;
import com.exceptionfactory.jagged.framework.stream.StandardDecryptingChannelFactory;
import com.exceptionfactory.jagged.framework.stream.StandardEncryptingChannelFactory;
import com.exceptionfactory.jagged.x25519.X25519RecipientStanzaReaderFactory;
import com.exceptionfactory.jagged.x25519.X25519RecipientStanzaWriterFactory;
import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * age encryption (age-encryption.org/v1) with X25519 recipients. Writing needs only the public
 * recipients, so the database host cannot read what it stored; reading needs the identity file,
 * which is loaded (and its permissions checked) only when something is decrypted. Every object is an
 * ordinary age file: {@code age -d -i key.txt obj.zst.age | zstd -d} restores it by hand.
 */
public final class AgeEncryption implements Encryption {
    public static final String SCHEME = "age";
    private static final Set<PosixFilePermission> TOO_OPEN = Set.of(PosixFilePermission.GROUP_READ,
            PosixFilePermission.GROUP_WRITE, PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE);

    private final List<String> recipients;
    private final List<RecipientStanzaWriter> writers;
    private final Path identityFile;
    private volatile List<RecipientStanzaReader> readers;

    /**
     * @param recipients   age1… public keys objects are encrypted to (may be empty on a restore-only host)
     * @param identityFile file with AGE-SECRET-KEY-1… lines, or null where nothing is decrypted
     */
    public AgeEncryption(List<String> recipients, Path identityFile) {
        this.recipients = List.copyOf(recipients);
        this.identityFile = identityFile;
        List<RecipientStanzaWriter> w = new ArrayList<>();
        for (String r : recipients) {
            w.add(writerFor(r));
        }
        this.writers = List.copyOf(w);
    }

    /** Parses one recipient; throws CONFIG naming it when it is not an age X25519 public key. */
    public static RecipientStanzaWriter writerFor(String recipient) {
        try {
            return X25519RecipientStanzaWriterFactory.newRecipientStanzaWriter(recipient.trim());
        } catch (GeneralSecurityException | RuntimeException e) {
            throw new LifeboatException(ErrorKind.CONFIG, "'" + recipient + "' is not an age recipient (public key)",
                    "recipients look like age1… (62 characters); `lifeboat keygen` or `age-keygen` prints one");
        }
    }

    public List<String> recipients() {
        return recipients;
    }

    @Override
    public String scheme() {
        return SCHEME;
    }

    @Override
    public String suffix() {
        return ".age";
    }

    @Override
    public OutputStream encrypt(OutputStream out) throws IOException {
        if (writers.isEmpty()) {
            throw new LifeboatException(ErrorKind.KEY, "encryption is configured without recipients, so nothing can be "
                    + "written", "add the public key(s) under encryption.recipients in lifeboat.yml");
        }
        try {
            return Channels.newOutputStream(new StandardEncryptingChannelFactory()
                    .newEncryptingChannel(Channels.newChannel(out), writers));
        } catch (GeneralSecurityException e) {
            throw new LifeboatException(ErrorKind.KEY, "cannot start age encryption: " + e.getMessage(),
                    "check the configured recipients", e);
        }
    }

    @Override
    public InputStream decrypt(InputStream in) throws IOException {
        List<RecipientStanzaReader> r = readers();
        try {
            return Channels.newInputStream(new StandardDecryptingChannelFactory().newDecryptingChannel(Channels.newChannel(in), r));
        } catch (GeneralSecurityException e) {
            throw new LifeboatException(ErrorKind.KEY, "the identity in " + identityFile + " cannot decrypt this object ("
                    + e.getMessage() + ")", "it was encrypted to other recipients: use the identity (private key) that "
                    + "belongs to the recipients configured when the backup was taken", e);
        }
    }

    private List<RecipientStanzaReader> readers() {
        List<RecipientStanzaReader> r = readers;
        if (r == null) {
            synchronized (this) {
                if (readers == null) {
                    readers = loadIdentities(identityFile);
                }
                r = readers;
            }
        }
        return r;
    }

    /** Reads an age identity file, refusing one that others can read (like ssh does for keys). */
    public static List<RecipientStanzaReader> loadIdentities(Path file) {
        if (file == null) {
            throw new LifeboatException(ErrorKind.KEY, "this backup is encrypted with age and no identity is configured",
                    "set encryption.identity-file in lifeboat.yml, LIFEBOAT_IDENTITY_FILE or --identity-file to the file "
                            + "holding the AGE-SECRET-KEY-1… private key");
        }
        List<String> lines;
        try {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
            if (perms.stream().anyMatch(TOO_OPEN::contains)) {
                throw new LifeboatException(ErrorKind.KEY, "identity file " + file + " is accessible by other users ("
                        + java.nio.file.attribute.PosixFilePermissions.toString(perms) + ")",
                        "a private key must be readable by its owner only: chmod 600 " + file);
            }
            lines = Files.readAllLines(file);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new LifeboatException(ErrorKind.KEY, "identity file " + file + " does not exist",
                    "point identity-file at the file holding the AGE-SECRET-KEY-1… private key");
        } catch (UnsupportedOperationException e) {
            throw new LifeboatException(ErrorKind.KEY, "cannot check the permissions of identity file " + file,
                    "keep the identity on a POSIX file system");
        } catch (IOException e) {
            throw new LifeboatException(ErrorKind.KEY, "cannot read identity file " + file + ": " + e.getMessage(),
                    "check that this user may read it", e);
        }
        List<RecipientStanzaReader> out = new ArrayList<>();
        int n = 0;
        for (String line : lines) {
            n++;
            String t = line.trim();
            if (t.isEmpty() || t.startsWith("#")) {
                continue;
            }
            try {
                out.add(X25519RecipientStanzaReaderFactory.newRecipientStanzaReader(t));
            } catch (GeneralSecurityException | RuntimeException e) {
                // never echo the line: it may be a key with a typo
                throw new LifeboatException(ErrorKind.KEY, "identity file " + file + " line " + n + " is not an age identity",
                        "identities look like AGE-SECRET-KEY-1…; passphrase-protected identity files are not supported");
            }
        }
        if (out.isEmpty()) {
            throw new LifeboatException(ErrorKind.KEY, "identity file " + file + " holds no AGE-SECRET-KEY-1… line",
                    "use the file `lifeboat keygen` or `age-keygen` wrote");
        }
        return List.copyOf(out);
    }
}
