package io.lifeboat.agent.notify;

import com.sun.net.httpserver.HttpServer;
import io.lifeboat.catalog.Json;
import io.lifeboat.config.AgentConfig;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The webhook against a real HTTP server: Lifeboat's JSON, the Slack/Mattermost text, and a refusal. */
class WebhookChannelTest {
    @Test
    void postsJsonOrSlackTextAndFailsOnANon2xxAnswer() throws Exception {
        List<Map<String, Object>> got = new CopyOnWriteArrayList<>();
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 2);
        server.createContext("/ok", ex -> {
            got.add(Json.MAPPER.readValue(ex.getRequestBody().readAllBytes(), new com.fasterxml.jackson.core.type.TypeReference<Map<String, Object>>() { }));
            ex.sendResponseHeaders(200, -1);
            ex.close();
        });
        server.createContext("/no", ex -> {
            ex.getRequestBody().readAllBytes();
            ex.sendResponseHeaders(500, -1);
            ex.close();
        });
        server.start();
        try {
            String base = "http://127.0.0.1:" + server.getAddress().getPort();
            Alert a = new Alert("problem", "main", "drill", "the drill failed", Instant.now(), null, "backup1", Instant.now());
            new WebhookChannel(new AgentConfig.Webhook(URI.create(base + "/ok"), false, Duration.ofSeconds(5))).send(a);
            new WebhookChannel(new AgentConfig.Webhook(URI.create(base + "/ok"), true, Duration.ofSeconds(5))).send(a);
            assertThat(got.get(0)).containsEntry("event", "problem").containsEntry("cluster", "main")
                    .containsEntry("problem", "drill").containsEntry("message", "the drill failed");
            assertThat(got.get(1)).containsOnlyKeys("text");
            assertThat((String) got.get(1).get("text")).contains("main/drill", "the drill failed");
            assertThatThrownBy(() -> new WebhookChannel(new AgentConfig.Webhook(URI.create(base + "/no?token=secret"), false,
                    Duration.ofSeconds(5))).send(a)).isInstanceOf(IOException.class).hasMessageContaining("500")
                    .hasMessageNotContaining("secret");
        } finally {
            server.stop(0);
        }
    }
}
