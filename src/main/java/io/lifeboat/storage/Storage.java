package io.lifeboat.storage;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Optional;

/**
 * The small interface every repository driver implements. Keys are '/'-separated paths relative to
 * the repository root, never starting with '/'. Implementations are thread-safe: the engine reads
 * and writes many objects in parallel through one instance.
 *
 * <p>Drivers report failures as {@link io.lifeboat.LifeboatException} of kind STORAGE (unreachable,
 * refused, missing bucket) or NOT_FOUND (no such key), with the key in the message.
 *
 * <p>"Missing" only when proven (invariant 7): NOT_FOUND, an empty {@link #stat} and a key left out of
 * {@link #list} stand only for an explicit answer of the storage that the object is not there. An
 * answer that cannot be proven valid (an empty or cut listing, a lookup that failed) is retried and
 * then a STORAGE error, never "nothing there". Transient failures (resets, timeouts, 503 SlowDown)
 * are retried for the repository's retry-time before they fail an operation.
 */
public interface Storage extends AutoCloseable {

    /** Where this storage points, for messages: never contains a secret. */
    String describe();

    /** Opens a writer; the object appears only when the writer commits. Replaces an existing key. */
    ObjectWriter create(String key) throws IOException;

    /**
     * As {@link #create(String)}, told that the object will most likely not be larger than
     * {@code sizeHint} bytes (0: not known, the same as {@link #create(String)}); a driver may use
     * that to choose how to upload it (S3: one PUT rather than a multipart upload). A larger object
     * is still stored correctly.
     */
    default ObjectWriter create(String key, long sizeHint) throws IOException {
        return create(key);
    }

    /**
     * As {@link #create(String, long)}, for a write its caller verifies: a driver that can have the
     * storage check the content on commit does so, and says so through {@link ObjectWriter#confirmed()}.
     * (Not every write: the check costs a digest of the bytes, MD5 for S3.)
     */
    default ObjectWriter createConfirmed(String key, long sizeHint) throws IOException {
        return create(key, sizeHint);
    }

    /** Opens the object for reading. Throws NOT_FOUND if absent. */
    default InputStream read(String key) throws IOException {
        return read(key, 0);
    }

    /**
     * Opens the object for reading from byte {@code offset} (0 up to its size). Throws NOT_FOUND if
     * absent. The stream survives transport failures: drivers read through a
     * {@link ResumingInputStream}, which reopens the same version of the object from the byte reached,
     * and ends exactly at the object's size; when it finally fails, the STORAGE error names the object
     * and the repository.
     */
    InputStream read(String key, long offset) throws IOException;

    /** Size and time of the object, or empty if absent. */
    Optional<ObjectInfo> stat(String key) throws IOException;

    /** All objects whose key starts with the prefix, sorted by key. */
    List<ObjectInfo> list(String prefix) throws IOException;

    /**
     * As {@link #list}, for a choice about what to write next (a free backup id): what the storage
     * that is written to holds. Several repositories answer with the union of those still usable,
     * without proving that one that is down holds nothing more (writes go to the usable ones only);
     * never use this to decide that something is not there.
     */
    default List<ObjectInfo> listWritable(String prefix) throws IOException {
        return list(prefix);
    }

    /** Deletes the object; deleting an absent key is not an error. */
    void delete(String key) throws IOException;

    /**
     * Removes what writers that died (kill -9, a crash) left under {@code prefix} without ever
     * committing it: only what provably belongs to no live writer, or that no writer touched for
     * {@code idle}. Returns how many were removed. Drivers whose uncommitted writes leave nothing
     * behind in the namespace do nothing.
     */
    default int removeAbandonedWrites(String prefix, java.time.Duration idle) throws IOException {
        return 0;
    }

    /**
     * The uploads that writers began under {@code prefix} before {@code startedBefore} and never
     * completed nor aborted (a writer killed with SIGKILL, a host that died), aborted when
     * {@code abort} says so (else only listed, for a dry run): storages that keep such uploads apart
     * from their objects, and bill for them, until told (S3's multipart uploads). Returns them.
     * Storages whose unfinished writes are files in the namespace ({@link #removeAbandonedWrites}) or
     * vanish with the writer have none: the default does nothing.
     * Choose {@code startedBefore} so that no live writer can be hit (a day ago): an upload's start is
     * all S3 tells, not whether its writer still runs.
     */
    default java.util.List<StaleUpload> staleUploads(String prefix, java.time.Instant startedBefore, boolean abort)
            throws IOException {
        return List.of();
    }

    /** Checks the storage is reachable and usable (bucket exists, credentials work). */
    void probe() throws IOException;

    /** Whether {@link #create} + commit is atomic with respect to concurrent readers. */
    default boolean atomicCommit() {
        return true;
    }

    default void put(String key, byte[] data) throws IOException {
        putFrom(key, data, 0, data.length);
    }

    /**
     * Stores {@code data[off..off+len)}, complete and final (compressed, encrypted), as the object
     * {@code key}, committed. A driver that can sends it straight from that array, holding no buffer
     * of its own (S3: one PUT with Content-MD5, or the parts of a multipart upload as slices of it).
     * Returns whether the storage's answer proved that exactly these bytes are stored ({@link
     * ObjectWriter#confirmed()}). The array must not change until this returns.
     */
    default boolean putFrom(String key, byte[] data, int off, int len) throws IOException {
        try (ObjectWriter w = createFrom(key, data, off, len)) {
            w.commit();
            return w.confirmed();
        }
    }

    /**
     * A writer that already holds {@code data[off..off+len)} as its whole content (nothing more may be
     * written), for {@link #putFrom}: its commit stores it, its abort discards it. The default writes
     * the bytes into a {@link #createConfirmed} writer; a driver that sends from the array (S3) holds
     * the array instead, and starts nothing before commit. Several repositories ({@link
     * MirroredStorage}) open one on each and then commit each, as for any write.
     */
    default ObjectWriter createFrom(String key, byte[] data, int off, int len) throws IOException {
        ObjectWriter w = createConfirmed(key, len);
        try {
            w.write(data, off, len);
        } catch (IOException | RuntimeException e) {
            w.abort();
            throw e;
        }
        return w;
    }

    default byte[] get(String key) throws IOException {
        try (InputStream in = read(key)) {
            return in.readAllBytes();
        }
    }

    default void deletePrefix(String prefix) throws IOException {
        for (ObjectInfo o : list(prefix)) {
            delete(o.key());
        }
    }

    @Override
    default void close() {
    }
}
