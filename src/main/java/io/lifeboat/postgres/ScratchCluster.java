package io.lifeboat.postgres;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A throw-away PostgreSQL cluster: initdb into a directory, listen on 127.0.0.1 and a free port.
 * Used by the demo, the integration tests and restore drills. When we run as root the server runs
 * as the 'postgres' OS user (PostgreSQL refuses to run as root).
 */
public final class ScratchCluster implements AutoCloseable {
    public static final String OS_USER = "postgres";

    private final Path binDir;
    private final Path baseDir;
    private final Path dataDir;
    private final int port;
    private final String superuserPassword;
    private boolean running;

    private ScratchCluster(Path binDir, Path baseDir, Path dataDir, int port, String superuserPassword) {
        this.binDir = binDir;
        this.baseDir = baseDir;
        this.dataDir = dataDir;
        this.port = port;
        this.superuserPassword = superuserPassword;
    }

    /** Options for {@link #create}; null binDir picks the newest installed server. */
    public record Options(Path binDir, String superuserPassword, List<String> extraConf) {
        public static Options defaults() {
            return new Options(null, null, List.of());
        }

        public Options withPassword(String pw) {
            return new Options(binDir, pw, extraConf);
        }

        public Options withBinDir(Path dir) {
            return new Options(dir, superuserPassword, extraConf);
        }

        public Options withConf(String... lines) {
            List<String> l = new ArrayList<>(extraConf);
            l.addAll(List.of(lines));
            return new Options(binDir, superuserPassword, l);
        }
    }

    /** Runs initdb in a new directory under {@code parent} (null: the system temp dir). Not started. */
    public static ScratchCluster create(Path parent, Options options) {
        Path bin = options.binDir() != null ? options.binDir() : new PgBinaries(null).newest("initdb").path().getParent();
        Path base = null;
        try {
            base = parent == null ? Files.createTempDirectory("lifeboat-pg-")
                    : Files.createTempDirectory(Files.createDirectories(parent), "lifeboat-pg-");
            Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwx------"));
            giveToServerUser(base);
            Path data = base.resolve("data");
            List<String> initdb = new ArrayList<>(List.of(bin.resolve("initdb").toString(), "-D", data.toString(),
                    "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"));
            if (options.superuserPassword() != null) {
                Path pw = base.resolve("pwfile");
                Files.writeString(pw, options.superuserPassword() + "\n");
                giveToServerUser(pw);
                initdb.addAll(List.of("-A", "scram-sha-256", "--pwfile", pw.toString()));
            } else {
                initdb.addAll(List.of("-A", "trust"));
            }
            new ExternalProcess(ExternalProcess.asUser(OS_USER, initdb), Map.of("LC_ALL", "C")).runChecked("initdb");
            Files.deleteIfExists(base.resolve("pwfile"));
            int port = freePort();
            List<String> conf = new ArrayList<>(List.of(
                    "port = " + port,
                    "listen_addresses = '127.0.0.1'",
                    "unix_socket_directories = '" + base + "'",
                    "wal_level = replica",
                    "max_wal_senders = 10",
                    "max_connections = 50",
                    "logging_collector = off"));
            conf.addAll(options.extraConf());
            Files.writeString(data.resolve("postgresql.conf"), "\n# lifeboat scratch cluster\n" + String.join("\n", conf) + "\n",
                    java.nio.file.StandardOpenOption.APPEND);
            return new ScratchCluster(bin, base, data, port, options.superuserPassword());
        } catch (IOException e) {
            deleteTree(base);
            throw new LifeboatException(ErrorKind.RESOURCE, "cannot create a scratch cluster: " + e.getMessage(),
                    "check free space and permissions of the temp directory", e);
        } catch (RuntimeException e) {
            deleteTree(base); // e.g. initdb failed: nothing of it stays behind
            throw e;
        }
    }

    /** Makes a path ours-and-postgres' when we are root, so the server can use it. */
    public static void giveToServerUser(Path path) {
        if (!ExternalProcess.runningAsRoot()) {
            return;
        }
        new ExternalProcess(List.of("chown", "-R", OS_USER + ":", path.toString()), Map.of()).runChecked("chown " + path);
    }

    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    public ScratchCluster start() {
        List<String> cmd = List.of(binDir.resolve("pg_ctl").toString(), "-D", dataDir.toString(), "-l",
                baseDir.resolve("server.log").toString(), "-w", "-t", "120", "start");
        ExternalProcess.Result r = new ExternalProcess(ExternalProcess.asUser(OS_USER, cmd), Map.of()).run();
        if (!r.ok()) {
            throw new LifeboatException(ErrorKind.DATABASE, "scratch cluster in " + dataDir + " did not start: "
                    + ExternalProcess.lastLines(r.stdout() + r.stderr() + readLog(), 8), "see " + baseDir.resolve("server.log"));
        }
        running = true;
        return this;
    }

    public void stop() {
        stop("fast");
    }

    /** @param mode smart, fast or immediate (pg_ctl -m) */
    public void stop(String mode) {
        List<String> cmd = List.of(binDir.resolve("pg_ctl").toString(), "-D", dataDir.toString(), "-m", mode, "-w", "stop");
        // also when a signal interrupted the command: the server must not outlive it
        new ExternalProcess(ExternalProcess.asUser(OS_USER, cmd), Map.of()).runToEnd();
        running = false;
    }

    public String readLog() {
        try {
            Path log = baseDir.resolve("server.log");
            return Files.exists(log) ? Files.readString(log) : "";
        } catch (IOException e) {
            return "";
        }
    }

    public int port() {
        return port;
    }

    public Path dataDir() {
        return dataDir;
    }

    public Path baseDir() {
        return baseDir;
    }

    public Path binDir() {
        return binDir;
    }

    public boolean isRunning() {
        return running;
    }

    public PgConnectionSettings connection(String database) {
        return new PgConnectionSettings("127.0.0.1", port, "postgres", database, superuserPassword, null);
    }

    public PgSession session(String database) {
        return PgSession.open(connection(database));
    }

    /** Appends settings to postgresql.conf (takes effect at the next start or reload). */
    public void appendConf(String... lines) {
        try {
            Files.writeString(dataDir.resolve("postgresql.conf"), "\n" + String.join("\n", lines) + "\n",
                    java.nio.file.StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        // A server may run on this data directory without us having started it (restore --start).
        if (running || Files.exists(dataDir.resolve("postmaster.pid"))) {
            stop("immediate");
        }
        deleteTree(baseDir);
    }

    public static void deleteTree(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // leftovers in a temp dir are harmless
                }
            });
        } catch (IOException ignored) {
            // the same
        }
    }
}
