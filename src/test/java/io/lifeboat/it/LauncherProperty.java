package io.lifeboat.it;

import java.nio.file.Path;

/**
 * Points the system property lifeboat.launcher (what restore_command and archive-ahead name, set
 * by bin/lifeboat in real runs) at this checkout's bin/lifeboat for an in-process test, and puts
 * the old value back on close.
 */
final class LauncherProperty implements AutoCloseable {
    /** This checkout's bin/lifeboat, absolute. */
    static final Path LAUNCHER = Path.of("bin", "lifeboat").toAbsolutePath();
    private static final String KEY = "lifeboat.launcher";
    private final String old;

    private LauncherProperty() {
        old = System.getProperty(KEY);
        System.setProperty(KEY, LAUNCHER.toString());
    }

    static LauncherProperty set() {
        return new LauncherProperty();
    }

    @Override
    public void close() {
        if (old == null) {
            System.clearProperty(KEY);
        } else {
            System.setProperty(KEY, old);
        }
    }
}
