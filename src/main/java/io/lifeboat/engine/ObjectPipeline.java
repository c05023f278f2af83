package io.lifeboat.engine;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.StoredObject;
import io.lifeboat.codec.Compression;
import io.lifeboat.codec.Digest;
import io.lifeboat.codec.Encryption;
import io.lifeboat.codec.HashingInputStream;
import io.lifeboat.codec.HashingOutputStream;
import io.lifeboat.storage.ObjectWriter;
import io.lifeboat.storage.Storage;

import java.io.ByteArrayInputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import java.util.function.IntFunction;

/**
 * The data path of one object: raw bytes → compress → encrypt → checksum → storage, and back.
 * The checksum covers the stored bytes, so corruption is caught before anything is decoded.
 */
public final class ObjectPipeline {
    /** The largest stored object {@link #fetchInto} reads into memory; pieces are far smaller. */
    private static final long MAX_IN_MEMORY = 1L << 30;
    private final Storage storage;
    private final Compression compression;
    private final int level;
    private final Encryption encryption;

    public ObjectPipeline(Storage storage, Compression compression, int level, Encryption encryption) {
        this.storage = storage;
        this.compression = compression;
        this.level = level;
        this.encryption = encryption == null ? Encryption.NONE : encryption;
    }

    /** The same storage and encryption with another compression (e.g. none for already compressed files). */
    public ObjectPipeline withCompression(Compression c) {
        return c == compression ? this : new ObjectPipeline(storage, c, c.defaultLevel(), encryption);
    }

    /** The same codecs writing to another storage (one member of several repositories). */
    public ObjectPipeline withStorage(Storage other) {
        return other == storage ? this : new ObjectPipeline(other, compression, level, encryption);
    }

    public Storage storage() {
        return storage;
    }

    public Compression compression() {
        return compression;
    }

    public Encryption encryption() {
        return encryption;
    }

    /**
     * The stage that reverses an object's recorded encryption scheme. Objects written before
     * encryption was configured stay readable; an encrypted object needs the configured identity.
     */
    public Encryption decryptionFor(String scheme, String key) {
        if (scheme == null || Encryption.NONE.scheme().equals(scheme)) {
            return Encryption.NONE;
        }
        if (encryption.reads(scheme)) {
            return encryption;
        }
        if (io.lifeboat.codec.AgeEncryption.SCRYPT_SCHEME.equals(scheme)) {
            throw new LifeboatException(ErrorKind.KEY, "object " + key + " in " + storage.describe() + " is encrypted "
                    + "with a passphrase (age-scrypt) and no passphrase is configured", "set LIFEBOAT_PASSPHRASE, or "
                    + "encryption.passphrase-file in lifeboat.yml (or --passphrase-file), to the backup's passphrase");
        }
        throw new LifeboatException(ErrorKind.KEY, "object " + key + " in " + storage.describe() + " is encrypted with "
                + scheme + " and no " + scheme + " identity is configured", "set encryption.identity-file in lifeboat.yml, "
                + "LIFEBOAT_IDENTITY_FILE or --identity-file to the private key of the backup's recipients (or, for "
                + "passphrase-encrypted objects, LIFEBOAT_PASSPHRASE or encryption.passphrase-file)");
    }

    /**
     * Decrypts the start of a backup's smallest encrypted object and discards it: a restore calls
     * this before it writes anything, so a missing or wrong key fails with a KEY error and leaves
     * nothing behind.
     */
    public void checkReadable(io.lifeboat.catalog.Catalog catalog, io.lifeboat.catalog.BackupManifest m) {
        StoredObject o = m.objects().stream().filter(x -> !Encryption.NONE.scheme().equals(x.encryption()))
                .min(java.util.Comparator.comparingLong(StoredObject::size)).orElse(null);
        if (o == null) {
            return;
        }
        String key = catalog.layout().backupObject(m.id(), o.path());
        Encryption e = decryptionFor(o.encryption(), key);
        try (InputStream in = source(key); InputStream plain = e.decrypt(in)) {
            plain.read(new byte[1]);
        } catch (IOException ex) {
            throw corrupt(key, "cannot be decrypted (" + ex.getMessage() + ")", ex);
        }
    }

    /**
     * The stored bytes of an object. The driver's stream resumes through transport failures and
     * fails with a STORAGE error naming the object; anything else it throws is a STORAGE error here
     * too. So a plain IOException while decoding comes from the decoder, never from the network.
     */
    private InputStream source(String key) {
        InputStream in;
        try {
            in = storage.read(key);
        } catch (IOException e) {
            throw unreadable(key, e);
        }
        return new java.io.FilterInputStream(in) {
            @Override
            public int read() {
                try {
                    return in.read();
                } catch (IOException e) {
                    throw unreadable(key, e);
                }
            }

            @Override
            public int read(byte[] b, int off, int len) {
                try {
                    return in.read(b, off, len);
                } catch (IOException e) {
                    throw unreadable(key, e);
                }
            }

            @Override
            public void close() {
                try {
                    in.close();
                } catch (IOException ignored) {
                    // what was read is checked; a failing close changes nothing
                }
            }
        };
    }

    private LifeboatException unreadable(String key, IOException e) {
        return new LifeboatException(ErrorKind.STORAGE, "cannot read object " + key + " from " + storage.describe() + ": "
                + e.getMessage(), "check that the repository is reachable", e);
    }

    /** The stored name of a raw file name: adds the codec suffixes (".zst", ".age"). */
    public String storedName(String rawName) {
        return rawName + compression.suffix() + encryption.suffix();
    }

    /** The original file name of a stored object: its path without the codec suffixes. */
    public static String rawName(StoredObject o) {
        String p = o.path();
        String suffix = Compression.parse(o.compression()).suffix() + Encryption.suffixOf(o.encryption());
        if (!p.endsWith(suffix)) {
            throw new LifeboatException(ErrorKind.CORRUPT, "manifest entry " + p + " does not end in " + suffix
                    + " as its codecs say", "the manifest was damaged; restore from another backup");
        }
        return p.substring(0, p.length() - suffix.length());
    }

    /**
     * An open object being written. Write raw bytes into {@link #stream()}, then {@link #finish()};
     * closing without finishing discards the object.
     */
    public final class Upload implements AutoCloseable {
        private final String key;
        private final String path;
        private final ObjectWriter writer;
        private final HashingOutputStream stored;
        private final OutputStream encoded;
        private final CountingStream raw;
        private boolean finished;

        private Upload(String key, String path, int workers, long sizeHint) throws IOException {
            this.key = key;
            this.path = path;
            this.writer = storage.create(key, sizeHint);
            this.stored = new HashingOutputStream(writer);
            // The codecs close their sink when finished; the writer must survive that to commit.
            this.encoded = compression.compress(encryption.encrypt(keepOpen(stored)), level, workers);
            this.raw = new CountingStream(encoded);
        }

        public OutputStream stream() {
            return raw;
        }

        /** Commits the object and returns its manifest entry. */
        public StoredObject finish() throws IOException {
            encoded.close();
            writer.commit();
            finished = true;
            return new StoredObject(path, stored.count(), stored.sha256(), raw.count, compression.id(), encryption.scheme());
        }

        @Override
        public void close() {
            if (!finished) {
                try {
                    encoded.close();
                } catch (IOException | RuntimeException ignored) {
                    // we are discarding this object anyway
                }
                writer.abort();
            }
        }
    }

    /**
     * @param key     full storage key
     * @param path    the path recorded in the manifest (relative to the backup)
     * @param workers extra compression threads for a large object (0 = none)
     */
    public Upload open(String key, String path, int workers) throws IOException {
        return new Upload(key, path, workers, 0);
    }

    /** Stores all of {@code in} as one object. */
    public StoredObject store(String key, String path, InputStream in, int workers) throws IOException {
        try (Upload u = open(key, path, workers)) {
            in.transferTo(u.stream());
            return u.finish();
        }
    }

    /** Stores {@code data[0..length)} as one object (see the variant with an {@link EncodeBuffer}). */
    public StoredObject store(String key, String path, byte[] data, int length) throws IOException {
        return store(key, path, data, length, new EncodeBuffer());
    }

    /**
     * Stores {@code data[0..length)} as one object: encodes it whole (compressed, encrypted) into
     * {@code buffer}'s array, checksums that, and hands that very array to the storage ({@link
     * Storage#putFrom}), which sends it without copying it (S3: one PUT with Content-MD5). The
     * encoded bytes are the same as those of a streamed {@link Upload}.
     *
     * @param buffer reused from piece to piece by one thread: after the first pieces, nothing is allocated
     */
    public StoredObject store(String key, String path, byte[] data, int length, EncodeBuffer buffer) throws IOException {
        EncodeBuffer.Sink sink = buffer.open(length);
        try (OutputStream encoded = compression.compress(encryption.encrypt(sink), level, 0)) {
            encoded.write(data, 0, length);
        }
        byte[] out = sink.array();
        int size = sink.size();
        String sha256 = Digest.sha256(out, 0, size);
        storage.putFrom(key, out, 0, size);
        return new StoredObject(path, size, sha256, length, compression.id(), encryption.scheme());
    }

    /**
     * The array one thread encodes its pieces into. It starts at a quarter of the first piece, which
     * compressible chunks fit in, and the first piece that does not grows it (one copy) to {@link
     * MemoryBudget#encodedBound} of its size, which the memory budget counts per job.
     */
    public static final class EncodeBuffer {
        private byte[] array = new byte[0];

        Sink open(int rawLength) {
            long bound = Math.min(Integer.MAX_VALUE - 16, MemoryBudget.encodedBound(rawLength));
            if (array.length == 0) {
                array = new byte[(int) Math.min(bound, Math.max(64 << 10, rawLength / 4 + 4096))];
            }
            return new Sink(bound);
        }

        /** The encoded bytes, in the buffer's array (grown as needed; the array stays the buffer's). */
        final class Sink extends OutputStream {
            private final long bound;
            private int size;

            Sink(long bound) {
                this.bound = bound;
            }

            @Override
            public void write(int b) {
                ensure(1);
                array[size++] = (byte) b;
            }

            @Override
            public void write(byte[] b, int off, int len) {
                ensure(len);
                System.arraycopy(b, off, array, size, len);
                size += len;
            }

            private void ensure(int more) {
                long need = (long) size + more;
                if (need > array.length) {
                    if (need > Integer.MAX_VALUE - 16) {
                        throw new IllegalStateException("an encoded piece larger than 2 GiB");
                    }
                    // straight to the codecs' bound (a piece needs more only if they broke it): one copy
                    // once, and no trail of ever larger garbage arrays that would grow the heap (RSS)
                    long grown = Math.max(need, bound);
                    array = java.util.Arrays.copyOf(array, (int) grown);
                }
            }

            @Override
            public void close() {
                // the codecs close their sink when finished; the bytes stay for the upload
            }

            byte[] array() {
                return array;
            }

            int size() {
                return size;
            }
        }
    }

    /** {@code data[off..off+len)} as one frame of this pipeline's compression, for {@link #storeFrames}. */
    public byte[] compressFrame(byte[] data, int off, int len) throws IOException {
        return compression.compressFrame(data, off, len, level);
    }

    /**
     * Stores as one object frames already compressed by {@link #compressFrame} followed by {@code
     * data[off..off+len)} compressed as one more frame, encrypted as any object: a concatenation of
     * standard frames, which decodes as one stream ({@code zstd -d} reads it too). The WAL stream
     * stores what it compressed for a partial segment again this way, without compressing it again.
     * The object has no manifest entry, so no checksum of its stored bytes is computed here: returns
     * the stored size, and whether the storage confirmed the content on commit ({@link
     * ObjectWriter#confirmed()}; the caller verifies the write, so the storage is asked to).
     */
    public Written storeFrames(String key, List<byte[]> frames, byte[] data, int off, int len) throws IOException {
        long hint = len + len / 64L + 65536;
        for (byte[] f : frames) {
            hint += f.length;
        }
        try (ObjectWriter writer = storage.createConfirmed(key, hint)) {
            CountingStream counted = new CountingStream(writer);
            OutputStream encrypted = encryption.encrypt(keepOpen(counted));
            for (byte[] f : frames) {
                encrypted.write(f);
            }
            if (len > 0) {
                try (OutputStream c = compression.compress(keepOpen(encrypted), level, 0)) {
                    c.write(data, off, len);
                }
            }
            encrypted.close();
            writer.commit();
            return new Written(counted.count, writer.confirmed());
        }
    }

    /** What a write stored: its size, and whether the storage's answer proved the content ({@link ObjectWriter#confirmed()}). */
    public record Written(long size, boolean confirmed) {
    }

    /** {@code out} that a stage closing its sink only flushes (the writer must survive that to commit). */
    private static OutputStream keepOpen(OutputStream out) {
        return new FilterOutputStream(out) {
            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                out.write(b, off, len);
            }

            @Override
            public void close() throws IOException {
                out.flush();
            }
        };
    }

    /**
     * Streams an object's decoded content into {@code out}, then checks size and checksum. The
     * caller must not trust what it wrote until this returns; on a mismatch it throws CORRUPT
     * naming the object.
     */
    public void fetch(String key, StoredObject expected, OutputStream out) throws IOException {
        Compression c = Compression.parse(expected.compression());
        Encryption enc = decryptionFor(expected.encryption(), key);
        OutputStream sink = LocalWrite.guard(out, e -> new LifeboatException(ErrorKind.RESOURCE, "cannot write the "
                + "content of object " + key + " locally: " + e.getMessage(), "free space or fix permissions where it is "
                + "restored (the repository is not at fault)", e));
        HashingInputStream hashed;
        try (InputStream in = source(key)) {
            hashed = new HashingInputStream(in);
            try {
                c.decompress(enc.decrypt(hashed)).transferTo(sink);
                hashed.drain();
            } catch (IOException e) {
                // The source and the sink report their own failures (STORAGE, RESOURCE): this one is the decoder's.
                hashed.drain();
                checkStored(key, hashed.count(), hashed.sha256(), expected);
                throw corrupt(key, "cannot be decoded (" + e.getMessage() + ")", e);
            }
        }
        checkStored(key, hashed.count(), hashed.sha256(), expected);
    }

    /** The stored bytes as read against the manifest: a wrong length or checksum fails naming the object. */
    private void checkStored(String key, long count, String sha256, StoredObject expected) {
        if (count != expected.size()) {
            throw lengthMismatch(key, String.valueOf(count), expected);
        }
        if (!sha256.equals(expected.sha256())) {
            throw corrupt(key, "has checksum " + sha256 + ", the manifest says " + expected.sha256(), null);
        }
    }

    /**
     * A read that ended at another length than the manifest's: the stored copy is damaged if the
     * repository holds that other length; if it holds the manifest's, the transfer went wrong.
     */
    private LifeboatException lengthMismatch(String key, String got, StoredObject expected) {
        java.util.Optional<io.lifeboat.storage.ObjectInfo> stored;
        try {
            stored = storage.stat(key);
        } catch (IOException | LifeboatException e) {
            return new LifeboatException(ErrorKind.STORAGE, "object " + key + " in " + storage.describe() + " arrived with "
                    + got + " bytes (the manifest says " + expected.size() + "), and the repository cannot say what it "
                    + "holds: " + e.getMessage(), "check that the repository is reachable, then run the command again", e);
        }
        if (stored.isPresent() && stored.get().size() == expected.size()) {
            return new LifeboatException(ErrorKind.STORAGE, "object " + key + " in " + storage.describe() + " arrived with "
                    + got + " bytes although the repository holds " + expected.size() + " as the manifest says: the "
                    + "transfer went wrong", "run the command again; check the network and the storage service");
        }
        return corrupt(key, stored.isEmpty() ? "is gone from the repository"
                : "has " + stored.get().size() + " bytes, the manifest says " + expected.size(), null);
    }

    /** The most one read asks of a source (see {@link #readSliced}). */
    static final int READ_SLICE = 1 << 20;

    /**
     * Reads up to {@code size} bytes into {@code into}, at most {@link #READ_SLICE} per call: a file's
     * channel reads a heap array through a temporary native buffer of the size asked for, which the
     * JDK keeps per thread, so one 32 MiB read per download thread would hold 32 MiB outside the heap.
     */
    static int readSliced(InputStream in, byte[] into, int size) throws IOException {
        int got = 0;
        while (got < size) {
            int n = in.read(into, got, Math.min(READ_SLICE, size - got));
            if (n < 0) {
                break;
            }
            got += n;
        }
        return got;
    }

    /**
     * Reads a stored object whole into memory, checks its size and checksum before any byte is
     * decoded, then decodes it straight into {@code dst[0..rawSize)} and checks that it decodes to
     * exactly the manifest's raw size. For pieces known to be small (tar chunks, WAL segments): the
     * decoder writes in large runs into the caller's array, and nothing unverified is ever decoded.
     *
     * @param dst          at least {@code expected.rawSize()} long
     * @param storedBuffer given a size, returns an array at least that long for the stored bytes, so
     *                     that a caller fetching many pieces can reuse one per thread
     */
    public void fetchInto(String key, StoredObject expected, byte[] dst, IntFunction<byte[]> storedBuffer)
            throws IOException {
        if (expected.size() > MAX_IN_MEMORY) {
            throw corrupt(key, "claims " + expected.size() + " stored bytes, more than a piece can have", null);
        }
        if (expected.rawSize() > dst.length) {
            throw new IllegalArgumentException("a " + dst.length + "-byte array cannot hold " + key + " ("
                    + expected.rawSize() + " bytes)");
        }
        int size = (int) expected.size();
        byte[] stored = storedBuffer.apply(size);
        int got;
        boolean longer;
        try (InputStream in = source(key)) {
            got = readSliced(in, stored, size);
            longer = got == size && in.read() >= 0;
        }
        if (got != size || longer) {
            throw lengthMismatch(key, longer ? "more than " + size : String.valueOf(got), expected);
        }
        checkStored(key, size, Digest.sha256(stored, 0, size), expected);
        Compression c = Compression.parse(expected.compression());
        int raw = (int) expected.rawSize();
        Encryption enc = decryptionFor(expected.encryption(), key);
        try {
            // in one call where the codec can, else through its stream (and the decryption's)
            int n = enc == Encryption.NONE ? c.decompress(stored, size, dst, raw) : -1;
            if (n < 0) {
                try (InputStream decoded = c.decompress(enc.decrypt(new ByteArrayInputStream(stored, 0, size)))) {
                    n = decoded.readNBytes(dst, 0, raw);
                    if (n == raw && decoded.read() >= 0) {
                        n = raw + 1;
                    }
                }
            }
            checkDecodedSize(key, n, raw);
        } catch (LifeboatException e) {
            throw e;
        } catch (IOException e) {
            throw corrupt(key, "cannot be decoded (" + e.getMessage() + ")", e);
        }
    }

    /** @param decoded how many bytes the object decoded to; anything above {@code raw} means "more than" */
    private void checkDecodedSize(String key, int decoded, int raw) {
        if (decoded != raw) {
            throw corrupt(key, "decodes to " + (decoded < raw ? String.valueOf(decoded) : "more than " + raw)
                    + " bytes, its manifest entry says " + raw, null);
        }
    }

    /** Reads an object fully and checks it, without keeping the content. */
    public void verify(String key, StoredObject expected) throws IOException {
        HashingInputStream hashed;
        try (InputStream in = source(key)) {
            hashed = new HashingInputStream(in);
            hashed.drain();
        }
        checkStored(key, hashed.count(), hashed.sha256(), expected);
    }

    private LifeboatException corrupt(String key, String what, Throwable cause) {
        return new LifeboatException(ErrorKind.CORRUPT, "object " + key + " in " + storage.describe() + " " + what,
                "the stored copy is damaged or truncated; restore from another backup or repository", cause);
    }

    private static final class CountingStream extends FilterOutputStream {
        long count;

        CountingStream(OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            count += len;
        }

        @Override
        public void close() throws IOException {
            // closing is the Upload's job (finish() or close())
        }
    }
}
