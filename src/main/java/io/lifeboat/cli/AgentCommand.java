package io.lifeboat.cli;

import io.lifeboat.agent.ClusterState;
import io.lifeboat.agent.ProblemBoard;
import io.lifeboat.agent.http.AgentHttp;
import io.lifeboat.agent.http.dashboard.Dashboard;
import io.lifeboat.agent.schedule.Schedules;
import io.lifeboat.agent.runtime.Agent;
import io.lifeboat.agent.runtime.ClusterAgent;
import io.lifeboat.agent.runtime.StandardServices;
import io.lifeboat.config.AgentConfig;
import io.lifeboat.config.AgentConfigLoader;
import io.lifeboat.config.ClusterConfig;
import io.lifeboat.config.ConfigLoader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Consumer;

@Command(name = "agent", mixinStandardHelpOptions = true,
        description = {"Run continuously on the backup host for every cluster whose lifeboat.yml entry has an 'agent:' "
                + "section: stream WAL over a replication slot into the repository, run scheduled backups, expire, "
                + "verify and restore drills, serve /metrics and /healthz, and send alerts (docs/agent.md).",
                "Runs in the foreground; SIGTERM stops it cleanly (the stream stores what it received)."})
final class AgentCommand implements Callable<Integer> {
    @ParentCommand
    LifeboatCommand root;

    @Mixin
    ConfigFileOptions options;

    @Option(names = "--stop-timeout", paramLabel = "SECONDS", defaultValue = "30", description = "How long a stop may "
            + "take to store the stream and finish or abandon the current job (default: ${DEFAULT-VALUE}).")
    int stopTimeout;

    @Override
    public Integer call() throws Exception {
        Output out = root.output();
        Path file = options.file("the agent");
        AgentConfig cfg = AgentConfigLoader.load(file);
        List<AgentConfig.ClusterAgent> selected = AgentConfigLoader.select(cfg, options.clusters, file,
                ConfigLoader.clusterNames(file));
        Consumer<String> log = line -> out.log(line.startsWith("warning:") ? "warning: " + stamp() + " "
                + line.substring("warning:".length()).trim() : stamp() + " " + line);
        ProblemBoard problems = new ProblemBoard();
        problems.listen(new ProblemBoard.Listener() {
            @Override
            public void opened(ProblemBoard.Problem p) {
                log.accept("warning: PROBLEM " + p.cluster() + "/" + p.key() + ": " + p.message());
            }

            @Override
            public void resolved(ProblemBoard.Problem p, String how) {
                log.accept("resolved " + p.cluster() + "/" + p.key() + ": " + how);
            }
        });
        io.lifeboat.agent.notify.Notifier notifier = new io.lifeboat.agent.notify.Notifier(
                io.lifeboat.agent.notify.Notifier.channels(cfg.notifications()), log);
        problems.listen(notifier);
        StandardServices services = new StandardServices(List.of(
                Schedules.factory(cc -> WalFetchCommandLine.of(cc, optionsFor(file, cc.name()))),
                Schedules.watcher(Duration.ofSeconds(Long.getLong("lifeboat.agent.watch-seconds", 60)))));
        Duration settle = Duration.ofMillis(Long.getLong("lifeboat.agent.lease-settle-ms", 2000));
        List<ClusterAgent> agents = new ArrayList<>();
        for (AgentConfig.ClusterAgent a : selected) {
            ClusterConfig cc = ConfigLoader.load(file, a.cluster(), System.getenv(), Map.of());
            agents.add(new ClusterAgent(cc, a, problems, log, services, settle));
        }
        List<Agent.Part> parts = new ArrayList<>();
        if (cfg.http().enabled()) {
            Dashboard dashboard = new Dashboard(agents.stream().map(a -> new Dashboard.Source(a.config(), a.agentConfig(),
                    a.state(), a::repository)).toList(), problems, cfg.http(), file.toAbsolutePath(),
                    cc -> WalFetchCommandLine.of(cc, optionsFor(file, cc.name())), log);
            AgentHttp http = new AgentHttp(cfg.http(), problems, log, dashboard);
            parts.add(new Agent.Part() {
                @Override
                public void start(List<ClusterState> states) {
                    http.start(states);
                }

                @Override
                public void stop() {
                    http.stop();
                }
            });
        }
        parts.add(new Agent.Part() {
            @Override
            public void start(List<ClusterState> states) {
            }

            @Override
            public void stop() {
                notifier.stop();
            }
        });
        Agent agent = new Agent(agents, parts, problems, log, Duration.ofSeconds(Math.max(1, stopTimeout)));
        agent.start();
        agent.stopOnShutdown();
        log.accept("agent: serving " + String.join(", ", agents.stream().map(ClusterAgent::name).toList()));
        agent.await();
        return 0;
    }

    /** The options a one-shot command for this cluster would have (for the drills' restore_command). */
    private static ClusterOptions optionsFor(Path file, String cluster) {
        ClusterOptions o = new ClusterOptions();
        o.config = file.toAbsolutePath();
        o.cluster = cluster;
        return o;
    }

    private static String stamp() {
        return Instant.now().truncatedTo(ChronoUnit.MILLIS).toString();
    }
}
