package io.lifeboat.storage;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;

import java.io.IOException;
import java.io.InputStream;

/**
 * A stored object's bytes from an offset that survive the network: when reading fails (a reset,
 * a timeout, a body that ends before the object's size), the object is opened again from the byte
 * reached, asking for the same version so that two versions are never spliced, until the
 * repository's retry budget is spent without progress. Every driver reads through one of these.
 * It ends exactly at the object's last byte; when it finally fails, the STORAGE error names the
 * object, the repository and how far it got.
 */
public final class ResumingInputStream extends InputStream {
    /**
     * One opened body of the object.
     *
     * @param stream  the bytes from {@code start} on
     * @param start   where in the object the stream begins (at most the offset asked for: a server that
     *                ignores a range sends everything from 0, and the bytes before the offset are skipped)
     * @param size    the size of the object (this version of it) as the storage reports it: the read ends
     *                there, and a body that ends before it is a transport failure, never a short object
     * @param version what identifies this version (an ETag, a file's identity); null if the storage has none
     * @param discard what drops the body without reading the rest (for a failed or abandoned one)
     */
    public record Body(InputStream stream, long start, long size, String version, Runnable discard) {
        public Body(InputStream stream, long start, long size, String version) {
            this(stream, start, size, version, () -> {
                try {
                    stream.close();
                } catch (IOException | RuntimeException ignored) {
                    // a broken body: nothing to save
                }
            });
        }
    }

    /** What an opener throws when the storage refuses the version asked for (S3: 412 on If-Match): it was replaced. */
    public static final class Changed extends IOException {
        public Changed() {
            super("the object was replaced");
        }
    }

    /** Opens the object from an offset; one attempt. */
    public interface Opener {
        /**
         * @param version null for the first opening, then the first body's version: the driver opens
         *                only that version where it can (S3: If-Match), and reports the version it found
         * @throws TransientFailure when another attempt may succeed; anything else is definitive
         */
        Body open(long offset, String version) throws IOException;
    }

    private final String key;
    private final String where;
    private final Opener opener;
    private final Retry.Attempts attempts;
    private long size = -1;
    private String version;
    private Body body;
    private long pos;
    private boolean closed;
    private final byte[] one = new byte[1];

    /**
     * Opens the object at {@code offset} (at most its size), retrying transient failures. A
     * definitive failure of the first opening (NOT_FOUND, refused credentials) is thrown as it is.
     *
     * @param where the repository, for messages (never holds a secret)
     */
    public ResumingInputStream(String key, String where, long offset, Opener opener, Retry retry) throws IOException {
        this.key = key;
        this.where = where;
        this.opener = opener;
        this.attempts = retry.begin();
        this.pos = offset;
        open(false);
    }

    /** The size of the object being read, as the storage reported it. */
    public long size() {
        return size;
    }

    /** Opens a body at the position (the first, or again after a failure), retrying transient failures. */
    private void open(boolean again) throws IOException {
        while (true) {
            Body b = null;
            try {
                b = opener.open(pos, version);
                if (!again) {
                    if (b.size() < pos) {
                        b.discard().run();
                        throw new LifeboatException(ErrorKind.GENERAL, "cannot read '" + key + "' in " + where
                                + " from byte " + pos + ": it has " + b.size(), "this is a bug in Lifeboat; please report it");
                    }
                    size = b.size();
                    version = b.version();
                } else if (b.size() != size || (version != null && !version.equals(b.version()))) {
                    b.discard().run();
                    throw changed();
                }
                if (b.start() > pos || b.start() < 0) {
                    throw new TransientFailure("the storage answered a read from byte " + pos + " with the bytes from "
                            + b.start());
                }
                skip(b, pos - b.start());
                body = b;
                return;
            } catch (TransientFailure e) {
                if (b != null) {
                    b.discard().run();
                }
                failed(e);
            } catch (Changed e) {
                throw changed();
            } catch (LifeboatException e) {
                if (again && e.kind() == ErrorKind.NOT_FOUND) {
                    throw new LifeboatException(ErrorKind.STORAGE, "object '" + key + "' in " + where
                            + " disappeared while it was being read (" + pos + " of " + size + " bytes read)",
                            "something deleted it meanwhile (retention, another host?); run the command again", e);
                }
                throw e;
            } catch (IOException | RuntimeException e) {
                if (b != null) {
                    b.discard().run();
                }
                throw e;
            }
        }
    }

    /** Skips what a body holds before the position (a server that ignored the range). */
    private static void skip(Body b, long n) throws IOException {
        byte[] buf = n > 0 ? new byte[(int) Math.min(n, 64 * 1024)] : null;
        try {
            while (n > 0) {
                int got = b.stream().read(buf, 0, (int) Math.min(n, buf.length));
                if (got < 0) {
                    throw new TransientFailure("the answer ended " + n + " bytes before the position asked for");
                }
                n -= got;
            }
        } catch (TransientFailure e) {
            throw e;
        } catch (IOException e) {
            throw new TransientFailure(e.getMessage(), e);
        }
    }

    /** The stored object was replaced while it was read: never splice two versions. */
    private LifeboatException changed() {
        return new LifeboatException(ErrorKind.STORAGE, "object '" + key + "' in " + where + " changed while it was "
                + "being read (" + pos + " of " + size + " bytes read)", "something rewrote it meanwhile; run the "
                + "command again");
    }

    /** Records a transient failure: pauses before the next attempt, or throws when the budget is spent. */
    private void failed(IOException e) {
        if (!attempts.again(e)) {
            throw new LifeboatException(ErrorKind.STORAGE, "reading '" + key + "' from " + where + " failed ("
                    + attempts.summary() + ", " + pos + (size >= 0 ? " of " + size : "") + " bytes read): "
                    + message(e), "the network or the storage service kept failing; check them (the repository's "
                    + "retry-time says how long Lifeboat keeps trying)", e);
        }
    }

    static String message(Throwable t) {
        String m = t.getMessage();
        for (Throwable c = t.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
            if (c.getMessage() != null && (m == null || !m.contains(c.getMessage()))) {
                m = (m == null ? "" : m + ": ") + c.getMessage();
            }
        }
        return m == null ? t.getClass().getSimpleName() : m;
    }

    /** Closes a body read to its end normally (a connection can be used again), unlike a failed one. */
    private void finish() {
        if (body != null) {
            try {
                body.stream().close();
            } catch (IOException | RuntimeException ignored) {
                // everything was read
            }
            body = null;
        }
    }

    private void drop() {
        if (body != null) {
            Body b = body;
            body = null;
            b.discard().run();
        }
    }

    @Override
    public int read() throws IOException {
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xFF;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (closed) {
            throw new IOException("stream of '" + key + "' is closed");
        }
        if (len == 0) {
            return 0;
        }
        while (true) {
            if (pos >= size) {
                finish();
                return -1;
            }
            try {
                if (body == null) {
                    open(true);
                }
                int n = body.stream().read(b, off, (int) Math.min(len, size - pos));
                if (n < 0) {
                    throw new TransientFailure("the answer ended after " + pos + " of " + size + " bytes");
                }
                if (n > 0) {
                    pos += n;
                    attempts.progressed();
                    return n;
                }
            } catch (LifeboatException e) {
                drop();
                throw e;
            } catch (IOException e) {
                drop();
                failed(e);
            }
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            if (pos >= size) {
                finish();
            }
            drop();
        }
    }
}
