package io.lifeboat.storage;

/**
 * Where a driver holds the memory of the buffers it fills itself (S3: the parts of an upload of
 * unknown length) for as long as they live: in a command the engine's memory budget, so that
 * these buffers and the engine's own (tar chunks) are counted in one place. A driver sent an array
 * it uploads from ({@link Storage#putFrom}) holds nothing: that memory is its caller's.
 */
public interface PartMemory {
    /** Counts nothing (tests, tools that move little data). */
    PartMemory NONE = bytes -> () -> { };

    /**
     * Holds {@code bytes}, waiting while other buffers hold too much.
     *
     * @throws io.lifeboat.LifeboatException INTERRUPTED when interrupted while waiting
     */
    Lease hold(long bytes);

    /** Memory held until closed. */
    interface Lease extends AutoCloseable {
        @Override
        void close();
    }
}
