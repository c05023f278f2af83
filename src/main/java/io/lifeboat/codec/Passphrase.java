package io.lifeboat.codec;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.Set;

/**
 * Where the passphrase of passphrase (age scrypt) encryption comes from: the LIFEBOAT_PASSPHRASE
 * environment variable or a file readable by its owner only. The file is read, and its permissions
 * checked, only when something is encrypted or decrypted. {@link #toString()} never shows the secret,
 * so configuration records holding one can be printed and logged.
 */
public final class Passphrase {
    public static final String ENV = "LIFEBOAT_PASSPHRASE";
    static final Set<PosixFilePermission> TOO_OPEN = Set.of(PosixFilePermission.GROUP_READ,
            PosixFilePermission.GROUP_WRITE, PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE);

    private final Path file;
    private final byte[] fromEnv;
    private volatile byte[] bytes;

    private Passphrase(Path file, byte[] fromEnv) {
        this.file = file;
        this.fromEnv = fromEnv;
    }

    /** The passphrase in {@code file}: one line; a final line break is not part of it. */
    public static Passphrase ofFile(Path file) {
        return new Passphrase(file, null);
    }

    /** A passphrase given directly (LIFEBOAT_PASSPHRASE). */
    public static Passphrase ofEnvironment(String value) {
        return new Passphrase(null, value.getBytes(StandardCharsets.UTF_8));
    }

    /** The file the passphrase is read from, or null when it came from the environment. */
    public Path file() {
        return file;
    }

    /** Where the passphrase comes from, for messages: never the passphrase itself. */
    public String source() {
        return file == null ? ENV : "passphrase file " + file;
    }

    /** The passphrase as UTF-8 bytes (a copy). Throws KEY when the file is missing, empty or too open. */
    public byte[] bytes() {
        byte[] b = bytes;
        if (b == null) {
            synchronized (this) {
                if (bytes == null) {
                    bytes = fromEnv != null ? check(fromEnv.clone(), ENV) : read(file);
                }
                b = bytes;
            }
        }
        return b.clone();
    }

    private static byte[] read(Path file) {
        byte[] raw;
        try {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
            if (perms.stream().anyMatch(TOO_OPEN::contains)) {
                throw new LifeboatException(ErrorKind.KEY, "passphrase file " + file + " is accessible by other users ("
                        + PosixFilePermissions.toString(perms) + ")",
                        "a passphrase must be readable by its owner only: chmod 600 " + file);
            }
            raw = Files.readAllBytes(file);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new LifeboatException(ErrorKind.KEY, "passphrase file " + file + " does not exist",
                    "point encryption.passphrase-file (or --passphrase-file, LIFEBOAT_PASSPHRASE_FILE) at the file "
                            + "holding the passphrase, or set LIFEBOAT_PASSPHRASE");
        } catch (UnsupportedOperationException e) {
            throw new LifeboatException(ErrorKind.KEY, "cannot check the permissions of passphrase file " + file,
                    "keep the passphrase file on a POSIX file system");
        } catch (IOException e) {
            throw new LifeboatException(ErrorKind.KEY, "cannot read passphrase file " + file + ": " + e.getMessage(),
                    "check that this user may read it", e);
        }
        int end = raw.length;
        if (end > 0 && raw[end - 1] == '\n') {
            end--;
            if (end > 0 && raw[end - 1] == '\r') {
                end--;
            }
        }
        byte[] p = Arrays.copyOf(raw, end);
        Arrays.fill(raw, (byte) 0);
        for (byte c : p) {
            if (c == '\n' || c == '\r') {
                throw new LifeboatException(ErrorKind.KEY, "passphrase file " + file + " has more than one line",
                        "put the passphrase alone on the first line (a final line break is ignored)");
            }
        }
        return check(p, "passphrase file " + file);
    }

    private static byte[] check(byte[] p, String where) {
        if (p.length == 0) {
            throw new LifeboatException(ErrorKind.KEY, where + " holds an empty passphrase",
                    "use a long random passphrase, e.g. six or more words from a word list");
        }
        return p;
    }

    @Override
    public String toString() {
        return "Passphrase[" + (file == null ? ENV : file.toString()) + "]";
    }
}
