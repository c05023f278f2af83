package io.lifeboat.engine.archive;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** The lock file of a background process (archive-ahead, prefetcher): held while the process lives. */
final class LockFile {
    private LockFile() {
    }

    /**
     * Whether a live process holds the lock (an OS lock dies with its process, a pid file does not).
     *
     * @param unreadable the answer when the file exists but cannot be opened
     */
    static boolean held(Path lock, boolean unreadable) {
        if (!Files.exists(lock)) {
            return false;
        }
        try (FileChannel ch = FileChannel.open(lock, StandardOpenOption.WRITE)) {
            FileLock l = ch.tryLock();
            if (l == null) {
                return true;
            }
            l.release();
            return false;
        } catch (OverlappingFileLockException e) {
            return true; // this JVM holds it
        } catch (IOException e) {
            return unreadable;
        }
    }
}
