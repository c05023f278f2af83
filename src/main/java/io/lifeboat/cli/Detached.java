package io.lifeboat.cli;

import java.io.File;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Starts {@code bin/lifeboat} again as a detached background process (own session, no terminal, output
 * discarded): what wal-push and wal-fetch use for the archive-ahead process and the prefetcher, so
 * PostgreSQL's call returns at once while the work goes on.
 */
final class Detached {
    private static final File SETSID = new File("/usr/bin/setsid");

    private Detached() {
    }

    /** Whether this process can start one: run through bin/lifeboat (which names itself) and setsid present. */
    static boolean available() {
        return System.getProperty("lifeboat.launcher") != null && SETSID.canExecute();
    }

    /** Starts {@code bin/lifeboat args...}; false when it cannot be started (it is only ever an optimisation). */
    static boolean start(List<String> args) {
        if (!available()) {
            return false;
        }
        List<String> cmd = new ArrayList<>(List.of(SETSID.getPath(), "-f", System.getProperty("lifeboat.launcher")));
        cmd.addAll(args);
        try {
            new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.DISCARD).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .start();
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
