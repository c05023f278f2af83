package io.lifeboat.engine.physical;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FileSyncerTest {
    @TempDir
    Path tmp;

    @Test
    void flushesFilesAndEveryDirectoryOfTheTrees() throws IOException {
        Path root = Files.createDirectories(tmp.resolve("data/base/1"));
        Path f = Files.writeString(root.resolve("1259"), "x");
        Files.createSymbolicLink(tmp.resolve("data/link"), tmp.resolve("elsewhere")); // dangling: must not be followed
        try (FileSyncer s = new FileSyncer(true)) {
            s.file(f);
            s.finish(List.of(tmp.resolve("data")));
        }
    }

    @Test
    void aFileThatCannotBeFlushedFailsTheRestoreNamingIt() {
        Path gone = tmp.resolve("vanished");
        try (FileSyncer s = new FileSyncer(true)) {
            s.file(gone);
            assertThatThrownBy(() -> s.finish(List.of(tmp))).isInstanceOfSatisfying(LifeboatException.class, e -> {
                assertThat(e.kind()).isEqualTo(ErrorKind.RESOURCE);
                assertThat(e.getMessage()).contains("cannot flush " + gone);
            });
        }
    }

    @Test
    void aFileTheRestoreRemovedAfterQueueingItIsNoFailure() throws IOException {
        Path signal = Files.writeString(tmp.resolve("standby.signal"), "");
        Path other = tmp.resolve("vanished");
        try (FileSyncer s = new FileSyncer(true)) {
            Files.delete(signal); // removed before its flush runs (the race LocalSourceIT#fromAStandby lost)
            s.file(signal);
            s.removed(signal);
            s.finish(List.of(tmp));
            s.file(other);
            assertThatThrownBy(() -> s.finish(List.of(tmp))).as("a file gone that the restore did not remove")
                    .isInstanceOf(LifeboatException.class);
        }
    }

    @Test
    void theWalPrefetchSpoolIsLeftToItsWriterWhileItChanges() throws Exception {
        Path data = Files.createDirectories(tmp.resolve("data/base/1"));
        Path incoming = Files.createDirectories(tmp.resolve("data/pg_wal/.lifeboat/prefetch/.incoming"));
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        // the restore's prefetcher downloading while the restore flushes: temporary files and directories come and go
        Thread churn = new Thread(() -> {
            for (long i = 0; !stop.get(); i++) {
                try {
                    Path d = Files.createDirectory(incoming.resolve("d" + i));
                    Files.writeString(d.resolve("f"), "x");
                    Files.delete(d.resolve("f"));
                    Files.delete(d);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
        });
        churn.start();
        try (FileSyncer s = new FileSyncer(true)) {
            for (int i = 0; i < 300; i++) {
                s.finish(List.of(data.getParent().getParent()));
            }
        } finally {
            stop.set(true);
            churn.join();
        }
    }

    @Test
    void disabledItTouchesNothing() {
        try (FileSyncer s = new FileSyncer(false)) {
            s.file(tmp.resolve("never-written"));
            s.finish(List.of(tmp.resolve("no-such-tree")));
        }
    }
}
