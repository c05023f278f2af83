package io.lifeboat.postgres;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Starts a restored PostgreSQL server with pg_ctl (as its owner when we are root), waits until it
 * accepts connections and its recovery is over, and reports where recovery ended: from pg_controldata
 * and the startup messages in the server log, so no database login is needed.
 */
public final class ServerControl {
    private static final Pattern REDO_DONE = Pattern.compile("redo done at ([0-9A-F]+/[0-9A-F]+)");
    private static final Pattern CONSISTENT = Pattern.compile("consistent recovery state reached at ([0-9A-F]+/[0-9A-F]+)");
    private static final Pattern NEW_TLI = Pattern.compile("selected new timeline ID: (\\d+)");
    private static final Pattern LAST_TX = Pattern.compile("last completed transaction was at log time (.+)");
    private static final Pattern STOPPED_AT = Pattern.compile("recovery stopping (.+)");

    private final Path binDir;
    private final Path dataDir;
    private final String osUser;

    public ServerControl(Path binDir, Path dataDir, String osUser) {
        this.binDir = binDir;
        this.dataDir = dataDir;
        this.osUser = osUser;
    }

    /**
     * @param state          pg_controldata's "Database cluster state" once we stopped waiting
     * @param timeline       the timeline of the latest checkpoint
     * @param redoDoneAt     where WAL replay ended ("redo done at"), or null if the log does not say
     * @param consistentAt   where the restored copy became consistent, or null
     * @param recoveryTarget the server's "recovery stopping ..." message, or null
     * @param lastTransaction time of the last replayed transaction, or null
     * @param paused         recovery paused at its target (recovery_target_action = pause)
     * @param log            the pg_ctl log file
     * @param history        the history file of the timeline the server is on (pg_wal/N.history), whose last
     *                       line says where the timeline recovery followed ended; null when it has none
     */
    public record Started(int port, String state, long timeline, String redoDoneAt, String consistentAt,
                          String recoveryTarget, String lastTransaction, boolean paused, Path log,
                          TimelineHistory history) {
    }

    /** Starts the server and waits up to {@code timeout} for its recovery to finish. */
    public Started start(Integer port, Duration timeout, Consumer<String> progress) {
        return start(port, timeout, false, progress);
    }

    /**
     * Starts the server and waits up to {@code timeout} for its recovery to finish, or, for a
     * {@code standby}, until it accepts (read-only) connections: a standby's recovery never ends.
     */
    public Started start(Integer port, Duration timeout, boolean standby, Consumer<String> progress) {
        Path logDir = dataDir.resolve("log");
        Path log = logDir.resolve("lifeboat-start.log");
        try {
            if (!Files.isDirectory(logDir)) {
                Files.createDirectories(logDir);
                if (ExternalProcess.runningAsRoot()) {
                    new ExternalProcess(List.of("chown", osUser + ":", logDir.toString()), Map.of()).runChecked("chown " + logDir);
                }
            }
        } catch (IOException e) {
            throw new LifeboatException(ErrorKind.RESOURCE, "cannot create " + logDir + ": " + e.getMessage(), null, e);
        }
        long logStart = size(log);
        List<String> cmd = new ArrayList<>(List.of(binDir.resolve("pg_ctl").toString(), "-D", dataDir.toString(), "-l",
                log.toString(), "-w", "-t", Long.toString(Math.max(1, timeout.toSeconds()))));
        if (port != null) {
            cmd.addAll(List.of("-o", "-p " + port));
        }
        cmd.add("start");
        ExternalProcess.Result r = new ExternalProcess(ExternalProcess.asUser(osUser, cmd), Map.of("LC_ALL", "C")).run();
        String startupLog = tail(log, logStart);
        if (!r.ok()) {
            throw new LifeboatException(ErrorKind.DATABASE, "the restored server in " + dataDir + " did not start: "
                    + ExternalProcess.lastLines(r.stdout() + r.stderr() + "\n" + startupLog, 12),
                    "see " + log + "; the files are restored, fix the cause and run pg_ctl start yourself");
        }
        if (standby) {
            return started(port, controlData(), tail(log, logStart), false, log);
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        long nextNote = System.nanoTime() + 10_000_000_000L;
        Map<String, String> control = controlData();
        while (true) {
            startupLog = tail(log, logStart);
            // pg_control says "in production" a moment before the postmaster takes connections: wait for both
            // (its status in postmaster.pid is what pg_ctl -w reads, in any lc_messages)
            if ("ready".equals(postmasterStatus())
                    && (control.isEmpty() || "in production".equals(control.get("Database cluster state")))) {
                break; // (no pg_controldata with server-only binaries: postmaster.pid alone says recovery is over)
            }
            if (startupLog.contains("recovery has paused") || startupLog.contains("pausing at the end of recovery")) {
                return started(port, control, startupLog, true, log);
            }
            if (!Files.exists(dataDir.resolve("postmaster.pid"))) {
                if (startupLog.contains("shutdown at recovery target")) {
                    return started(port, control, startupLog, false, log);
                }
                throw new LifeboatException(ErrorKind.DATABASE, "the restored server in " + dataDir + " stopped during "
                        + "recovery: " + ExternalProcess.lastLines(startupLog, 6), "see " + log);
            }
            if (System.nanoTime() > deadline) {
                throw new LifeboatException(ErrorKind.DATABASE, "the restored server is still recovering after "
                        + timeout.toSeconds() + " s (state: " + control.get("Database cluster state") + ")",
                        "follow " + log + " and check the WAL archive (wal-fetch); pg_ctl start resumes recovery where it "
                                + "was, or restore with a longer --start-timeout");
            }
            if (System.nanoTime() > nextNote) {
                progress.accept("server still in recovery (" + control.get("Database cluster state") + ", redo at "
                        + control.get("Latest checkpoint's REDO location") + ")");
                nextNote = System.nanoTime() + 10_000_000_000L;
            }
            sleep();
            // pg_controldata (a process) only once the postmaster says ready, or for the note: the end of
            // recovery is seen within 50 ms without a fork every time
            if ("ready".equals(postmasterStatus()) || System.nanoTime() > nextNote) {
                control = controlData();
            }
        }
        return started(port, control, tail(log, logStart), false, log);
    }

    private Started started(Integer port, Map<String, String> control, String startupLog, boolean paused, Path log) {
        int p = port != null ? port : portFromPid();
        String newTli = find(NEW_TLI, startupLog);
        long tli = Long.parseLong(control.getOrDefault("Latest checkpoint's TimeLineID", newTli != null ? newTli : "0").trim());
        return new Started(p, control.getOrDefault("Database cluster state", paused ? "in archive recovery" : "in production"), tli, find(REDO_DONE, startupLog),
                find(CONSISTENT, startupLog), find(STOPPED_AT, startupLog), find(LAST_TX, startupLog), paused, log,
                history(tli));
    }

    /** The history file of timeline {@code tli} in pg_wal, which PostgreSQL wrote when it was promoted to it. */
    private TimelineHistory history(long tli) {
        if (tli < 2) {
            return null;
        }
        TimelineId t = TimelineId.of(tli);
        try {
            Path f = dataDir.resolve("pg_wal").resolve(t.hex() + ".history");
            return Files.exists(f) ? TimelineHistory.parse(t, Files.readString(f)) : null;
        } catch (IOException e) {
            return null;
        }
    }

    /** The postmaster's status line in postmaster.pid: starting, stopping, ready or standby; null if none. */
    private String postmasterStatus() {
        try {
            List<String> lines = Files.readAllLines(dataDir.resolve("postmaster.pid"));
            return lines.size() > 7 ? lines.get(7).trim() : null;
        } catch (IOException e) {
            return null;
        }
    }

    private int portFromPid() {
        try {
            List<String> lines = Files.readAllLines(dataDir.resolve("postmaster.pid"));
            return lines.size() > 3 ? Integer.parseInt(lines.get(3).trim()) : 0;
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
    }

    /** pg_controldata's output as key → value. */
    public Map<String, String> controlData() {
        if (!Files.isExecutable(binDir.resolve("pg_controldata"))) {
            return Map.of();
        }
        ExternalProcess.Result r = new ExternalProcess(List.of(binDir.resolve("pg_controldata").toString(), dataDir.toString()),
                Map.of("LC_ALL", "C")).run();
        Map<String, String> out = new LinkedHashMap<>();
        for (String line : r.stdout().split("\n")) {
            int c = line.indexOf(':');
            if (c > 0) {
                out.put(line.substring(0, c).trim(), line.substring(c + 1).trim());
            }
        }
        return out;
    }

    public void stop(String mode) {
        List<String> cmd = List.of(binDir.resolve("pg_ctl").toString(), "-D", dataDir.toString(), "-m", mode, "-w", "stop");
        new ExternalProcess(ExternalProcess.asUser(osUser, cmd), Map.of()).runToEnd();
    }

    private static String find(Pattern p, String text) {
        String found = null;
        Matcher m = p.matcher(text);
        while (m.find()) {
            found = m.group(1).strip();
        }
        return found;
    }

    private static long size(Path p) {
        try {
            return Files.exists(p) ? Files.size(p) : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    private static String tail(Path log, long from) {
        try {
            if (!Files.exists(log)) {
                return "";
            }
            byte[] all = Files.readAllBytes(log);
            int start = (int) Math.min(from, all.length);
            return new String(all, start, all.length - start, java.nio.charset.StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    private static void sleep() {
        try {
            Thread.sleep(50);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LifeboatException(ErrorKind.INTERRUPTED, "interrupted while waiting for the server");
        }
    }
}
