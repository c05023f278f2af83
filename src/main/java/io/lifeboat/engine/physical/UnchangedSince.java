package io.lifeboat.engine.physical;

/**
 * The rule that a file on disk still holds what was read of it earlier, without reading it again:
 * the same inode, size, mtime and ctime as recorded when it was listed, and that ctime (which,
 * unlike the mtime, cannot be set back: a write or a utimes call moves it to "now") well before the
 * listing. Any write after the listing, even within the clock's granularity, then gives a ctime
 * other than the recorded one; a write just before it is caught by the margin.
 */
final class UnchangedSince {
    /** How long before the listing a file's last change must be (coarse filesystem clocks, skew between CPUs). */
    static final long MARGIN_NS = 2_000_000_000L;

    private UnchangedSince() {
    }

    /**
     * @param listedAtNs when the recorded attributes were taken (before the file was read), epoch nanoseconds
     */
    static boolean holds(long inode, long size, long mtimeNs, Long ctimeNs, long listedAtNs, DataDirectoryScan.Item now) {
        return ctimeNs != null && now.ctimeNs() != 0 && inode != 0 && now.inode() == inode && now.size() == size
                && now.mtimeNs() == mtimeNs && now.ctimeNs() == ctimeNs
                && ctimeNs < listedAtNs - MARGIN_NS && mtimeNs < listedAtNs - MARGIN_NS;
    }
}
