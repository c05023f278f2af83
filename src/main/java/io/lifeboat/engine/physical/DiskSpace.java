package io.lifeboat.engine.physical;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.engine.Spool;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks before a restore writes anything that every target filesystem has room for what will go
 * there (tablespaces may live on other filesystems than the data directory), with some slack for
 * the WAL the server writes when it starts.
 */
final class DiskSpace {
    /** A filesystem as far as the check cares: something to group by, and its free bytes. */
    record Store(Object id, String name, long usable) {
    }

    interface Probe {
        Store of(Path existingDirectory) throws IOException;
    }

    static final Probe REAL = dir -> {
        FileStore fs = Files.getFileStore(dir);
        return new Store(fs, fs.name() + " (" + dir + ")", fs.getUsableSpace());
    };

    private DiskSpace() {
    }

    static long slack(long bytes) {
        return Math.max(64L << 20, bytes / 50);
    }

    /** @param needs target directory → bytes that will be written under it */
    static void check(Map<Path, Long> needs, Probe probe) {
        Map<Object, Store> stores = new LinkedHashMap<>();
        Map<Object, Long> wanted = new LinkedHashMap<>();
        Map<Object, List<Path>> targets = new LinkedHashMap<>();
        try {
            for (var e : needs.entrySet()) {
                Path p = e.getKey().toAbsolutePath();
                while (p != null && !Files.isDirectory(p)) {
                    p = p.getParent();
                }
                if (p == null) {
                    continue;
                }
                Store s = probe.of(p);
                stores.putIfAbsent(s.id(), s);
                wanted.merge(s.id(), e.getValue(), Long::sum);
                targets.computeIfAbsent(s.id(), k -> new java.util.ArrayList<>()).add(e.getKey());
            }
        } catch (IOException e) {
            throw new LifeboatException(ErrorKind.RESOURCE, "cannot check free disk space: " + e.getMessage(),
                    "pass --skip-space-check to restore anyway", e);
        }
        for (var e : wanted.entrySet()) {
            Store s = stores.get(e.getKey());
            long need = e.getValue() + slack(e.getValue());
            if (s.usable() < need) {
                throw new LifeboatException(ErrorKind.RESOURCE, "not enough disk space for the restore: "
                        + targets.get(e.getKey()) + " need about " + Spool.human(need) + ", but the filesystem "
                        + s.name() + " has " + Spool.human(s.usable()) + " free",
                        "free space there, restore to a larger filesystem (tablespaces can be moved with "
                                + "--tablespace-map), or pass --skip-space-check if you know better");
            }
        }
    }
}
