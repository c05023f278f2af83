package io.lifeboat.codec;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.security.MessageDigest;

/** Passes bytes through while counting them and computing their SHA-256. */
public final class HashingOutputStream extends FilterOutputStream {
    private final MessageDigest md = Digest.newSha256();
    private long count;
    private String hex;

    public HashingOutputStream(OutputStream out) {
        super(out);
    }

    @Override
    public void write(int b) throws IOException {
        out.write(b);
        md.update((byte) b);
        count++;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        out.write(b, off, len);
        md.update(b, off, len);
        count += len;
    }

    public long count() {
        return count;
    }

    /** The digest of everything written; call once writing is finished. */
    public String sha256() {
        if (hex == null) {
            hex = Digest.hex(md);
        }
        return hex;
    }
}
