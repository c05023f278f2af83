package io.lifeboat.codec;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** SHA-256, the checksum of every stored object (invariant 4). */
public final class Digest {
    public static final String ALGORITHM = "sha256";

    private Digest() {
    }

    public static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM has no SHA-256", e);
        }
    }

    public static String hex(MessageDigest md) {
        return HexFormat.of().formatHex(md.digest());
    }

    public static String sha256(byte[] data) {
        return sha256(data, 0, data.length);
    }

    public static String sha256(byte[] data, int off, int len) {
        MessageDigest md = newSha256();
        md.update(data, off, len);
        return hex(md);
    }
}
