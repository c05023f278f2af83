package io.lifeboat.codec;

import com.exceptionfactory.jagged.FileKey;
import com.exceptionfactory.jagged.RecipientStanza;
import com.exceptionfactory.jagged.RecipientStanzaReader;
import com.exceptionfactory.jagged.RecipientStanzaWriter;
import com.exceptionfactory.jagged.UnsupportedRecipientStanzaException;
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
 * age encryption (age-encryption.org/v1) with X25519 recipients or a passphrase (the age "scrypt"
 * recipient type). With recipients, writing needs only the public keys, so the database host cannot
 * read what it stored; reading needs the identity file, which is loaded (and its permissions checked)
 * only when something is decrypted. With a passphrase, the same secret writes and reads. Which key
 * reads an object is chosen from its header: an scrypt stanza needs the passphrase, anything else an
 * identity, so one host can read backups of both kinds. Every object is an ordinary age file:
 * {@code age -d -i key.txt obj.zst.age | zstd -d} (or {@code age -d} and the passphrase) restores it by hand.
 */
public final class AgeEncryption implements Encryption {
    /** Manifest scheme of objects encrypted to X25519 recipients. */
    public static final String SCHEME = "age";
    /** Manifest scheme of objects encrypted with a passphrase (age scrypt stanza). */
    public static final String SCRYPT_SCHEME = "age-scrypt";
    private static final Set<PosixFilePermission> TOO_OPEN = Passphrase.TOO_OPEN;

    private final List<String> recipients;
    private final List<RecipientStanzaWriter> writers;
    private final Path identityFile;
    private final Passphrase passphrase;
    private final AgeScrypt.Reader scryptReader;
    private volatile List<RecipientStanzaReader> readers;

    /**
     * @param recipients   age1… public keys objects are encrypted to (may be empty on a restore-only host)
     * @param identityFile file with AGE-SECRET-KEY-1… lines, or null where nothing is decrypted
     */
    public AgeEncryption(List<String> recipients, Path identityFile) {
        this(recipients, identityFile, null, AgeScrypt.DEFAULT_WORK_FACTOR);
    }

    /**
     * @param passphrase  writes (when there are no recipients) and reads scrypt objects; null for none
     * @param workFactor  log2 of the scrypt cost N for objects written with the passphrase
     */
    public AgeEncryption(List<String> recipients, Path identityFile, Passphrase passphrase, int workFactor) {
        if (passphrase != null && !recipients.isEmpty()) {
            throw new LifeboatException(ErrorKind.CONFIG, "encryption has both recipients and a passphrase",
                    "configure either recipients (key pairs) or a passphrase, not both");
        }
        this.recipients = List.copyOf(recipients);
        this.identityFile = identityFile;
        this.passphrase = passphrase;
        this.scryptReader = passphrase == null ? null : new AgeScrypt.Reader(passphrase);
        List<RecipientStanzaWriter> w = new ArrayList<>();
        for (String r : recipients) {
            w.add(writerFor(r));
        }
        if (passphrase != null) {
            w.add(new AgeScrypt.Writer(passphrase, workFactor));
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

    /** scrypt derivations run to read objects so far (for measurements and tests). */
    public int scryptDerivations() {
        return scryptReader == null ? 0 : scryptReader.derivations();
    }

    /** The passphrase source, or null. */
    public Passphrase passphrase() {
        return passphrase;
    }

    @Override
    public String scheme() {
        return passphrase != null ? SCRYPT_SCHEME : SCHEME;
    }

    @Override
    public boolean reads(String scheme) {
        return SCHEME.equals(scheme) || SCRYPT_SCHEME.equals(scheme);
    }

    @Override
    public String suffix() {
        return ".age";
    }

    @Override
    public OutputStream encrypt(OutputStream out) throws IOException {
        if (writers.isEmpty()) {
            throw new LifeboatException(ErrorKind.KEY, "encryption is configured without recipients or a passphrase, so "
                    + "nothing can be written", "add the public key(s) under encryption.recipients in lifeboat.yml, or "
                    + "set a passphrase (encryption.passphrase-file or LIFEBOAT_PASSPHRASE)");
        }
        try {
            return Channels.newOutputStream(new StandardEncryptingChannelFactory()
                    .newEncryptingChannel(Channels.newChannel(out), writers));
        } catch (GeneralSecurityException e) {
            throw new LifeboatException(ErrorKind.KEY, "cannot start age encryption: " + e.getMessage(),
                    "check the configured recipients or passphrase", e);
        }
    }

    @Override
    public InputStream decrypt(InputStream in) throws IOException {
        KeyChooser chooser = new KeyChooser();
        try {
            return Channels.newInputStream(new StandardDecryptingChannelFactory()
                    .newDecryptingChannel(Channels.newChannel(in), List.of(chooser)));
        } catch (GeneralSecurityException e) {
            throw chooser.explain(e);
        }
    }

    /**
     * Picks the key from the header's stanza types, once per object, and remembers how far it got so
     * that a failure is reported as what it is: no key, the wrong key, or a damaged header.
     */
    private final class KeyChooser implements RecipientStanzaReader {
        private boolean called;
        private boolean scrypt;
        private boolean unwrapped;

        @Override
        public FileKey getFileKey(Iterable<RecipientStanza> stanzas) throws GeneralSecurityException {
            called = true;
            if (AgeScrypt.Reader.isScrypt(stanzas)) {
                scrypt = true;
                if (scryptReader == null) {
                    throw new LifeboatException(ErrorKind.KEY, "this object is encrypted with a passphrase (age scrypt) "
                            + "and no passphrase is configured", "set LIFEBOAT_PASSPHRASE, or encryption.passphrase-file "
                            + "in lifeboat.yml (or --passphrase-file, LIFEBOAT_PASSPHRASE_FILE), to the passphrase the "
                            + "backup was written with");
                }
                FileKey k = scryptReader.getFileKey(stanzas);
                unwrapped = true;
                return k;
            }
            GeneralSecurityException last = null;
            for (RecipientStanzaReader r : readers()) {
                try {
                    FileKey k = r.getFileKey(stanzas);
                    unwrapped = true;
                    return k;
                } catch (GeneralSecurityException e) {
                    last = e;
                }
            }
            throw last != null ? last : new UnsupportedRecipientStanzaException("no identity");
        }

        LifeboatException explain(GeneralSecurityException e) {
            if (!called) {
                return new LifeboatException(ErrorKind.CORRUPT, "the object is not a readable age file (" + e.getMessage()
                        + ")", "the stored copy is damaged; restore from another backup or repository", e);
            }
            if (unwrapped) {
                return new LifeboatException(ErrorKind.CORRUPT, "the object's age header does not authenticate ("
                        + e.getMessage() + ")", "the key matched but the header was altered; restore from another "
                        + "backup or repository", e);
            }
            if (!scrypt) {
                return new LifeboatException(ErrorKind.KEY, "the identity in " + identityFile + " cannot decrypt this "
                        + "object (" + e.getMessage() + ")", "it was encrypted to other recipients: use the identity "
                        + "(private key) that belongs to the recipients configured when the backup was taken", e);
            }
            if (e instanceof AgeScrypt.WrongPassphraseException) {
                return new LifeboatException(ErrorKind.KEY, "the passphrase from " + passphrase.source() + " cannot "
                        + "decrypt this object", "it was encrypted with another passphrase: use the one configured when "
                        + "the backup was taken (a final line break in a passphrase file is ignored, other spaces count)", e);
            }
            if (e instanceof AgeScrypt.WorkFactorException w) {
                return new LifeboatException(ErrorKind.CORRUPT, "the object's " + e.getMessage() + " that Lifeboat "
                        + "reads", "Lifeboat never writes more than 2^" + AgeScrypt.MAX_WORK_FACTOR + ": this object "
                        + "was written by another tool or altered", e);
            }
            return new LifeboatException(ErrorKind.CORRUPT, "the object's age header is malformed (" + e.getMessage() + ")",
                    "the stored copy is damaged or was not written by an age implementation", e);
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
            throw new LifeboatException(ErrorKind.KEY, "this backup is encrypted with age (key pair) and no identity is "
                    + "configured", "set encryption.identity-file in lifeboat.yml, LIFEBOAT_IDENTITY_FILE or --identity-file to the file "
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
