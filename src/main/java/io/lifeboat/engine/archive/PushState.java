package io.lifeboat.engine.archive;

import io.lifeboat.codec.Digest;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Where wal-push keeps its markers and its archive-ahead process's lock and pid inside pg_wal: one
 * directory per archive_command, named by the command's arguments (all but {@code %p}), because a
 * marker says "stored in this command's repositories" and nothing about another's. With
 * {@code archive_command = 'lifeboat wal-push --config a.yml %p && lifeboat wal-push --config b.yml %p'}
 * the second call must not be answered by the first call's marker, or b's repositories would never
 * get the segment while PostgreSQL recycles it.
 *
 * <p>bin/lifeboat finds the same directory with shell builtins: plain {@code .lifeboat} without
 * arguments, else {@code .lifeboat/push-ARGS} with the arguments joined by spaces and {@code %} and
 * {@code /} written as {@code %25} and {@code %2F} (a one-to-one name). Arguments too long for a file
 * name get a digest's name, which the launcher does not look for: those calls always go to the JVM.
 */
public final class PushState {
    /** Longest encoded arguments the launcher looks for (a file name has at most 255 bytes). */
    static final int MAX_NAME = 200;
    /** Lifeboat's own directory inside pg_wal: wal-push's state and the WAL prefetch's spool. */
    public static final String OWN_DIRECTORY = ".lifeboat";

    private PushState() {
    }

    /**
     * @param pgWal       the pg_wal directory
     * @param destination the archive_command's arguments after {@code wal-push}, {@code %p} left out
     */
    public static Path directory(Path pgWal, String destination) {
        Path base = pgWal.toAbsolutePath().resolve(OWN_DIRECTORY);
        if (destination.isEmpty()) {
            return base;
        }
        String name = destination.replace("%", "%25").replace("/", "%2F");
        if (name.getBytes(StandardCharsets.UTF_8).length > MAX_NAME) {
            name = "sha256-" + Digest.sha256(destination.getBytes(StandardCharsets.UTF_8));
        }
        return base.resolve("push-" + name);
    }

    /**
     * The destination of a wal-push run from its command line: the arguments after {@code wal-push}
     * without the file ({@code %p}) and without the archive-ahead process's own {@code --ahead DIR},
     * so that the calls and the process they start share one directory.
     */
    public static String destination(List<String> commandLine, Path file, boolean ahead) {
        int at = commandLine.indexOf("wal-push");
        List<String> args = new ArrayList<>(commandLine.subList(at + 1, commandLine.size()));
        if (ahead) {
            int a = args.lastIndexOf("--ahead");
            if (a >= 0) {
                args.subList(a, Math.min(a + 2, args.size())).clear();
            }
        } else {
            for (int i = args.size() - 1; i >= 0; i--) {
                if (Path.of(args.get(i)).equals(file)) {
                    args.remove(i);
                    break;
                }
            }
        }
        return String.join(" ", args);
    }
}
