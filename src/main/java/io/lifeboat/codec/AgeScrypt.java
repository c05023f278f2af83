package io.lifeboat.codec;

import com.exceptionfactory.jagged.FileKey;
import com.exceptionfactory.jagged.RecipientStanza;
import com.exceptionfactory.jagged.RecipientStanzaReader;
import com.exceptionfactory.jagged.RecipientStanzaWriter;
import com.exceptionfactory.jagged.UnsupportedRecipientStanzaException;
import org.bouncycastle.crypto.generators.SCrypt;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The age "scrypt" recipient type (age-encryption.org/v1, passphrase encryption), written against
 * jagged's stanza interfaces because the jagged-scrypt module is not available to this build. The
 * primitives are BouncyCastle's scrypt (RFC 7914) and the JDK's ChaCha20-Poly1305; this class only
 * does what the age specification says around them:
 *
 * <pre>
 * -> scrypt BASE64(salt) LOG2(N)
 * BASE64(ChaCha20-Poly1305(key = scrypt(P = passphrase, S = "age-encryption.org/v1/scrypt" || salt,
 *                                       N, r = 8, p = 1, dkLen = 32),
 *                          nonce = 12 zero bytes, plaintext = file key))
 * </pre>
 *
 * Every stanza gets a fresh 16-byte salt, so the wrap key, used with the fixed zero nonce, is never
 * used twice: one scrypt derivation per encrypted file is the price of that.
 */
public final class AgeScrypt {
    public static final String TYPE = "scrypt";
    /** age's default for new files (about a second); Lifeboat writes with {@link #DEFAULT_WORK_FACTOR}. */
    public static final int AGE_DEFAULT_WORK_FACTOR = 18;
    /** Lifeboat's default log2(N): see docs/encryption.md for the measurements behind it. */
    public static final int DEFAULT_WORK_FACTOR = 16;
    public static final int MIN_WORK_FACTOR = 10;
    /** The highest log2(N) a reader accepts, as age's default maximum: 2^22 takes 4 GiB and many seconds. */
    public static final int MAX_WORK_FACTOR = 22;

    static final byte[] LABEL = "age-encryption.org/v1/scrypt".getBytes(StandardCharsets.US_ASCII);
    private static final int SALT_LENGTH = 16;
    private static final int FILE_KEY_LENGTH = 16;
    private static final int BODY_LENGTH = FILE_KEY_LENGTH + 16;
    private static final Pattern DECIMAL = Pattern.compile("[1-9][0-9]?");
    private static final SecureRandom RANDOM = new SecureRandom();

    private AgeScrypt() {
    }

    /** A stanza whose header is malformed as the specification defines it ("header failure"). */
    public static final class MalformedStanzaException extends GeneralSecurityException {
        MalformedStanzaException(String message) {
            super(message);
        }
    }

    /** A well-formed stanza whose work factor is above what this reader accepts. */
    public static final class WorkFactorException extends GeneralSecurityException {
        private final int workFactor;

        WorkFactorException(int workFactor, int max) {
            super("scrypt work factor 2^" + workFactor + " is above the limit 2^" + max);
            this.workFactor = workFactor;
        }

        public int workFactor() {
            return workFactor;
        }
    }

    /** The body did not authenticate under the derived key: another passphrase ("no match"). */
    public static final class WrongPassphraseException extends GeneralSecurityException {
        WrongPassphraseException(Throwable cause) {
            super("the passphrase does not unwrap the file key", cause);
        }
    }

    private record Stanza(String getType, List<String> getArguments, byte[] body) implements RecipientStanza {
        @Override
        public byte[] getBody() {
            return body.clone();
        }
    }

    static byte[] wrapKey(byte[] passphrase, byte[] salt, int workFactor) {
        byte[] s = Arrays.copyOf(LABEL, LABEL.length + salt.length);
        System.arraycopy(salt, 0, s, LABEL.length, salt.length);
        return SCrypt.generate(passphrase, s, 1 << workFactor, 8, 1, 32);
    }

    private static Cipher chacha(int mode, byte[] key) throws GeneralSecurityException {
        Cipher c = Cipher.getInstance("ChaCha20-Poly1305");
        c.init(mode, new SecretKeySpec(key, "ChaCha20"), new IvParameterSpec(new byte[12]));
        return c;
    }

    /** Writes one scrypt stanza with a fresh salt for every file key. */
    public static final class Writer implements RecipientStanzaWriter {
        private final Passphrase passphrase;
        private final int workFactor;

        public Writer(Passphrase passphrase, int workFactor) {
            if (workFactor < MIN_WORK_FACTOR || workFactor > MAX_WORK_FACTOR) {
                throw new IllegalArgumentException("scrypt work factor must be " + MIN_WORK_FACTOR + ".." + MAX_WORK_FACTOR);
            }
            this.passphrase = passphrase;
            this.workFactor = workFactor;
        }

        public int workFactor() {
            return workFactor;
        }

        @Override
        public Iterable<RecipientStanza> getRecipientStanzas(FileKey fileKey) throws GeneralSecurityException {
            byte[] salt = new byte[SALT_LENGTH];
            RANDOM.nextBytes(salt);
            byte[] p = passphrase.bytes();
            byte[] key = wrapKey(p, salt, workFactor);
            Arrays.fill(p, (byte) 0);
            byte[] fk = fileKey.getEncoded();
            try {
                byte[] body = chacha(Cipher.ENCRYPT_MODE, key).doFinal(fk);
                String saltText = Base64.getEncoder().withoutPadding().encodeToString(salt);
                return List.of(new Stanza(TYPE, List.of(saltText, Integer.toString(workFactor)), body));
            } finally {
                Arrays.fill(key, (byte) 0);
                Arrays.fill(fk, (byte) 0);
            }
        }
    }

    /**
     * Unwraps the file key from a header whose only stanza is an scrypt stanza. Derived wrap keys
     * are kept per (salt, work factor) for this reader's lifetime, so reading one object twice (a
     * restore first proves the key on its smallest object) costs one derivation; objects have
     * salts of their own, so every other object costs one.
     */
    public static final class Reader implements RecipientStanzaReader {
        private static final int CACHE_SIZE = 64;
        private final Passphrase passphrase;
        private final int maxWorkFactor;
        private final java.util.concurrent.atomic.AtomicInteger derivations = new java.util.concurrent.atomic.AtomicInteger();
        private final Map<String, byte[]> cache = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, byte[]> eldest) {
                return size() > CACHE_SIZE;
            }
        };

        public Reader(Passphrase passphrase, int maxWorkFactor) {
            this.passphrase = passphrase;
            this.maxWorkFactor = maxWorkFactor;
        }

        public Reader(Passphrase passphrase) {
            this(passphrase, MAX_WORK_FACTOR);
        }

        /** How many scrypt derivations this reader has run (the rest came from its cache). */
        public int derivations() {
            return derivations.get();
        }

        /** True when the header holds an scrypt stanza (alone or not). */
        public static boolean isScrypt(Iterable<RecipientStanza> stanzas) {
            for (RecipientStanza s : stanzas) {
                if (TYPE.equals(s.getType())) {
                    return true;
                }
            }
            return false;
        }

        @Override
        public FileKey getFileKey(Iterable<RecipientStanza> stanzas) throws GeneralSecurityException {
            int count = 0;
            RecipientStanza scrypt = null;
            for (RecipientStanza s : stanzas) {
                count++;
                if (TYPE.equals(s.getType())) {
                    scrypt = s;
                }
            }
            if (scrypt == null) {
                throw new UnsupportedRecipientStanzaException("no scrypt stanza in the header");
            }
            if (count != 1) {
                throw new MalformedStanzaException("an scrypt stanza must be the only stanza in the header, found " + count);
            }
            List<String> args = scrypt.getArguments();
            if (args.size() != 2) {
                throw new MalformedStanzaException("an scrypt stanza has a salt and a work factor, found " + args.size()
                        + " arguments");
            }
            byte[] salt = canonicalBase64(args.get(0));
            if (salt.length != SALT_LENGTH) {
                throw new MalformedStanzaException("scrypt salt has " + salt.length + " bytes, not " + SALT_LENGTH);
            }
            if (!DECIMAL.matcher(args.get(1)).matches()) {
                throw new MalformedStanzaException("scrypt work factor '" + printable(args.get(1))
                        + "' is not a decimal number without leading zeros");
            }
            int workFactor = Integer.parseInt(args.get(1));
            if (workFactor > maxWorkFactor) {
                throw new WorkFactorException(workFactor, maxWorkFactor);
            }
            byte[] body = scrypt.getBody();
            if (body.length != BODY_LENGTH) {
                throw new MalformedStanzaException("scrypt stanza body has " + body.length + " bytes, not " + BODY_LENGTH);
            }
            byte[] key = derive(args.get(0) + " " + workFactor, salt, workFactor);
            byte[] fk;
            try {
                fk = chacha(Cipher.DECRYPT_MODE, key).doFinal(body);
            } catch (AEADBadTagException e) {
                throw new WrongPassphraseException(e);
            }
            return new FileKey(fk); // keeps the array; the framework destroys the key after use
        }

        private byte[] derive(String id, byte[] salt, int workFactor) {
            synchronized (cache) {
                byte[] k = cache.get(id);
                if (k != null) {
                    return k;
                }
            }
            byte[] p = passphrase.bytes();
            byte[] k = wrapKey(p, salt, workFactor);
            Arrays.fill(p, (byte) 0);
            derivations.incrementAndGet();
            synchronized (cache) {
                cache.put(id, k);
            }
            return k;
        }

        private static byte[] canonicalBase64(String text) throws MalformedStanzaException {
            byte[] decoded;
            try {
                decoded = Base64.getDecoder().decode(text);
            } catch (IllegalArgumentException e) {
                throw new MalformedStanzaException("scrypt salt is not base64");
            }
            // age writes unpadded base64 and rejects any other spelling of the same bytes
            if (!Base64.getEncoder().withoutPadding().encodeToString(decoded).equals(text)) {
                throw new MalformedStanzaException("scrypt salt is not canonical (unpadded) base64");
            }
            return decoded;
        }

        private static String printable(String s) {
            String t = s.length() > 12 ? s.substring(0, 12) + "…" : s;
            return t.replaceAll("[^\\x21-\\x7e]", "?");
        }
    }
}
