package io.lifeboat.codec;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * An encryption stage, applied after compression. {@link #NONE} passes bytes through. The scheme id
 * is recorded in manifests (never the key), so restore knows which stage to reverse.
 */
public interface Encryption {
    /** Scheme id stored in manifests, e.g. "none" or "age". */
    String scheme();

    /** True when this stage can reverse objects recorded with {@code scheme} (given the keys it has). */
    default boolean reads(String scheme) {
        return scheme().equals(scheme);
    }

    /** The file name suffix of objects recorded with a scheme: ".age" for both age schemes. */
    static String suffixOf(String scheme) {
        if (scheme == null || "none".equals(scheme)) {
            return "";
        }
        return scheme.startsWith("age") ? ".age" : "." + scheme;
    }

    /** File name suffix including the dot, e.g. ".age", or "" for none. */
    String suffix();

    /** Wraps the output; closing the returned stream finishes encryption and closes {@code out}. */
    OutputStream encrypt(OutputStream out) throws IOException;

    /** Wraps the input; fails with a CORRUPT or CONFIG LifeboatException on a wrong or missing key. */
    InputStream decrypt(InputStream in) throws IOException;

    Encryption NONE = new Encryption() {
        @Override
        public String scheme() {
            return "none";
        }

        @Override
        public String suffix() {
            return "";
        }

        @Override
        public OutputStream encrypt(OutputStream out) {
            return out;
        }

        @Override
        public InputStream decrypt(InputStream in) {
            return in;
        }
    };
}
