package io.lifeboat.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/** `bin/lifeboat agent` as a child process, so that kill -9 and SIGTERM are real. Its output goes to a file. */
final class AgentProcess implements AutoCloseable {
    private final Process process;
    private final Path log;

    private AgentProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    static AgentProcess start(Path config, Path log, String... more) throws IOException {
        return startWith(config, log, "", more);
    }

    /** As {@link #start}, with more JVM options for the agent (e.g. -Dlifeboat.dashboard.refresh-seconds=2). */
    static AgentProcess startWith(Path config, Path log, String javaOpts, String... more) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(LauncherProperty.LAUNCHER.toString(), "agent", "--config", config.toString()));
        cmd.addAll(List.of(more));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        // A short lease settle time keeps the tests quick; two agents at once still race through it.
        pb.environment().put("LIFEBOAT_JAVA_OPTS", "-Dlifeboat.agent.lease-settle-ms=500 -Dlifeboat.agent.watch-seconds=2 "
                + javaOpts);
        pb.environment().put("LIFEBOAT_AGENT_DEBUG", "1");
        return new AgentProcess(pb.start(), log);
    }

    String output() {
        try {
            return Files.exists(log) ? Files.readString(log) : "";
        } catch (IOException e) {
            return "";
        }
    }

    /** Waits until the output matches {@code regex} (found anywhere), at most {@code seconds}. */
    boolean awaitOutput(String regex, int seconds) throws InterruptedException {
        Pattern p = Pattern.compile(regex);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            if (p.matcher(output()).find()) {
                return true;
            }
            if (!process.isAlive()) {
                return p.matcher(output()).find();
            }
            Thread.sleep(100);
        }
        return false;
    }

    boolean alive() {
        return process.isAlive();
    }

    void kill9() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor();
    }

    /** SIGTERM; returns the exit code. */
    int term(int seconds) throws InterruptedException {
        process.destroy();
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor();
            return -1;
        }
        return process.exitValue();
    }

    int waitFor(int seconds) throws InterruptedException {
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            return -1;
        }
        return process.exitValue();
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            kill9();
        }
    }
}
