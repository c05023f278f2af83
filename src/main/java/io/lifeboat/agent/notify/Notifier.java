package io.lifeboat.agent.notify;

import io.lifeboat.agent.ProblemBoard;
import io.lifeboat.config.AgentConfig;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Sends an alert when a problem opens (a failed job, a stream behind, a WAL gap, a failed drill, a
 * repository error) and again when it is resolved, to every configured channel (webhook, e-mail),
 * in order, on one background thread, each retried a few times: a channel that is down delays
 * nothing else.
 */
public final class Notifier implements ProblemBoard.Listener {
    /** One way of delivering alerts. */
    public interface Channel {
        String name();

        void send(Alert a) throws Exception;
    }

    private static final long[] RETRY_MILLIS = {1000, 5000, 15000};
    private final List<Channel> channels;
    private final Consumer<String> log;
    private final String host;
    private final ExecutorService sender = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "lifeboat-notify");
        t.setDaemon(true);
        return t;
    });

    public Notifier(List<Channel> channels, Consumer<String> log) {
        this.channels = List.copyOf(channels);
        this.log = log;
        this.host = io.lifeboat.agent.AgentLease.hostName();
    }

    /** The channels configured in agent.notify. */
    public static List<Channel> channels(AgentConfig.Notify cfg) {
        List<Channel> out = new ArrayList<>();
        if (cfg.webhook() != null) {
            out.add(new WebhookChannel(cfg.webhook()));
        }
        if (cfg.email() != null) {
            out.add(new EmailChannel(cfg.email()));
        }
        return out;
    }

    @Override
    public void opened(ProblemBoard.Problem p) {
        submit(new Alert("problem", p.cluster(), p.key(), p.message(), p.since(), null, host, Instant.now()));
    }

    @Override
    public void resolved(ProblemBoard.Problem p, String how) {
        submit(new Alert("resolved", p.cluster(), p.key(), p.message(), p.since(), how, host, Instant.now()));
    }

    private void submit(Alert a) {
        for (Channel c : channels) {
            try {
                sender.submit(() -> deliver(c, a));
            } catch (java.util.concurrent.RejectedExecutionException e) {
                return; // stopping
            }
        }
    }

    private void deliver(Channel c, Alert a) {
        for (int attempt = 0; ; attempt++) {
            try {
                c.send(a);
                return;
            } catch (Exception e) {
                if (attempt >= RETRY_MILLIS.length) {
                    log.accept("warning: the " + c.name() + " alert '" + a.subject() + "' could not be sent: " + e.getMessage());
                    return;
                }
                try {
                    Thread.sleep(RETRY_MILLIS[attempt]);
                } catch (InterruptedException ie) {
                    return;
                }
            }
        }
    }

    /** Sends what is queued (at most a few seconds), then stops. */
    public void stop() {
        sender.shutdown();
        try {
            sender.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        sender.shutdownNow();
    }
}
