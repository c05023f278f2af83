package io.lifeboat.it;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import com.sun.net.httpserver.HttpServer;
import io.lifeboat.catalog.Json;
import io.lifeboat.postgres.ExternalProcess;
import io.lifeboat.postgres.ScratchCluster;
import jakarta.mail.internet.MimeMessage;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The agent's /metrics (validated by promtool) and /healthz behind a bearer token, and its alerts:
 * a real HTTP server and a real SMTP server (GreenMail) receive the alert of an injected failure
 * (the server stops under the stream) and of its recovery; `lifeboat status` shows the stream.
 */
class AgentMonitoringIT {
    @Test
    void metricsHealthAlertsAndStatus() throws Exception {
        List<Map<?, ?>> hooks = new CopyOnWriteArrayList<>();
        HttpServer hook = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 4);
        hook.createContext("/hook", ex -> {
            hooks.add(Json.MAPPER.readValue(ex.getRequestBody().readAllBytes(), Map.class));
            ex.sendResponseHeaders(204, -1);
            ex.close();
        });
        hook.start();
        GreenMail mail = new GreenMail(new ServerSetup(ScratchCluster.freePort(), "127.0.0.1", ServerSetup.PROTOCOL_SMTP));
        mail.start();
        try (StreamFixture fx = new StreamFixture();
             ScratchCluster pg = ScratchCluster.create(fx.work, ScratchCluster.Options.defaults()).start()) {
            int port = ScratchCluster.freePort();
            Path token = fx.work.resolve("token");
            Files.writeString(token, "s3cr3t-token\n");
            Path cfg = fx.config("mon", pg.port(), "postgres", "stream:\n  flush-interval: 2s\n", """
                    agent:
                      http:
                        listen: 127.0.0.1:%d
                        token-file: %s
                      notify:
                        webhook:
                          url: http://127.0.0.1:%d/hook
                        email:
                          smtp-host: 127.0.0.1
                          smtp-port: %d
                          security: none
                          from: lifeboat@example.com
                          to: [dba@example.com]
                    """.formatted(port, token, hook.getAddress().getPort(), mail.getSmtp().getPort()));
            Cli.Result b;
            try (AgentProcess agent = AgentProcess.start(cfg, fx.work.resolve("mon.log"))) {
                assertThat(agent.awaitOutput("streaming WAL from", 60)).as(agent.output()).isTrue();
                assertThat(agent.awaitOutput("metrics and health on", 30)).as(agent.output()).isTrue();
                b = Cli.run("backup", "--config", cfg.toString(), "--type", "physical");
                assertThat(b.exit()).as(b.toString()).isZero();
                HttpClient http = HttpClient.newHttpClient();
                String base = "http://127.0.0.1:" + port;
                assertThat(get(http, base + "/metrics", null).statusCode()).isEqualTo(401);
                HttpResponse<String> health = get(http, base + "/healthz", "s3cr3t-token");
                assertThat(health.statusCode()).as(health.body()).isEqualTo(200);

                // Injected failure: the server goes away under the stream, then comes back.
                pg.stop("fast");
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (System.nanoTime() < deadline && (hooks.isEmpty() || mail.getReceivedMessages().length == 0)) {
                    Thread.sleep(200);
                }
                HttpResponse<String> sick = get(http, base + "/healthz", "s3cr3t-token");
                assertThat(sick.statusCode()).isEqualTo(503);
                assertThat(sick.body()).contains("mon/stream");
                pg.start();
                deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
                while (System.nanoTime() < deadline && (hooks.stream().noneMatch(h -> "resolved".equals(h.get("event")))
                        || mail.getReceivedMessages().length < 2)) {
                    Thread.sleep(200);
                }
                assertThat(hooks).as(agent.output()).anyMatch(h -> "problem".equals(h.get("event"))
                        && "stream".equals(h.get("problem")) && "mon".equals(h.get("cluster")));
                assertThat(hooks).anyMatch(h -> "resolved".equals(h.get("event")) && "stream".equals(h.get("problem")));
                MimeMessage[] mails = mail.getReceivedMessages();
                assertThat(mails).extracting(MimeMessage::getSubject)
                        .contains("[lifeboat] PROBLEM mon/stream", "[lifeboat] RESOLVED mon/stream");

                // The metrics, once the watcher has seen the backup, pass promtool's checks.
                Thread.sleep(3000);
                HttpResponse<String> metrics = get(http, base + "/metrics", "s3cr3t-token");
                assertThat(metrics.statusCode()).isEqualTo(200);
                assertThat(metrics.body()).contains("lifeboat_stream_lag_bytes{cluster=\"mon\"}",
                        "lifeboat_stream_slot_retained_bytes{cluster=\"mon\"}", "lifeboat_backup_last_success_timestamp_seconds",
                        "lifeboat_pitr_oldest_timestamp_seconds", "lifeboat_stream_segments_stored_total",
                        "lifeboat_job_failures_total", "lifeboat_repository_errors_total", "lifeboat_drill_last_success");
                assertThat(metrics.body()).containsPattern("lifeboat_stream_up\\{cluster=\"mon\"\\} 1");
                assertThat(metrics.body()).containsPattern("lifeboat_backup_last_success_timestamp_seconds\\{cluster=\"mon\",type=\"physical\"\\} 1\\.");
                Path exposition = fx.work.resolve("metrics.txt");
                Files.writeString(exposition, metrics.body());
                ExternalProcess.Result check = new ExternalProcess(List.of("sh", "-c", "promtool check metrics < " + exposition),
                        Map.of()).run();
                assertThat(check.exitCode()).as(check.stdout() + check.stderr()).isZero();

                Cli.Result status = Cli.run("status", "--config", cfg.toString());
                for (int i = 0; i < 60 && !status.out().contains("streaming"); i++) {
                    Thread.sleep(500); // the lease carries the state as of its last renewal
                    status = Cli.run("status", "--config", cfg.toString());
                }
                assertThat(status.exit()).as(status.toString()).isZero();
                assertThat(status.out()).contains("mon", "streaming", "physical");
                Cli.Result json = Cli.run("status", "--config", cfg.toString(), "--json");
                Map<?, ?> st = Json.MAPPER.readValue(json.out(), Map.class);
                Map<?, ?> c = (Map<?, ?>) ((List<?>) st.get("clusters")).get(0);
                assertThat(((Map<?, ?>) c.get("agent")).get("running")).isEqualTo(true);
                assertThat(((Map<?, ?>) c.get("stream")).get("state")).isEqualTo("streaming");
                // check covers the slot and the stream, and archiving end to end through the stream
                Cli.Result checked = Cli.run("check", "--config", cfg.toString(), "--archive-timeout", "60");
                assertThat(checked.exit()).as(checked.toString()).isZero();
                assertThat(checked.out()).containsPattern("ok +replication slot +lifeboat_mon: physical, active")
                        .containsPattern("ok +WAL stream +streaming").containsPattern("ok +archiving end to end");
                assertThat(agent.term(60)).as(agent.output()).isZero();
                Cli.Result stopped = Cli.run("check", "--config", cfg.toString(), "--archive-timeout", "3");
                assertThat(stopped.exit()).isEqualTo(3);
                assertThat(stopped.out()).containsPattern("FAIL +replication slot .*not active")
                        .contains("start `lifeboat agent`");
            }
        } finally {
            hook.stop(0);
            mail.stop();
        }
    }

    static HttpResponse<String> get(HttpClient http, String url, String token) throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(url));
        if (token != null) {
            r.header("Authorization", "Bearer " + token);
        }
        return http.send(r.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }
}
