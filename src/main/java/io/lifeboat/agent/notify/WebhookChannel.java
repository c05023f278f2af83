package io.lifeboat.agent.notify;

import io.lifeboat.catalog.Json;
import io.lifeboat.config.AgentConfig;

import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;

/**
 * POSTs each alert as JSON: Lifeboat's {@link Alert} document, or with {@code format: slack} the
 * {@code {"text": ...}} that Slack and Mattermost incoming webhooks take. A non-2xx answer fails.
 */
final class WebhookChannel implements Notifier.Channel {
    private final AgentConfig.Webhook cfg;
    private final HttpClient client;

    WebhookChannel(AgentConfig.Webhook cfg) {
        this.cfg = cfg;
        this.client = HttpClient.newBuilder().connectTimeout(cfg.timeout()).build();
    }

    @Override
    public String name() {
        return "webhook";
    }

    @Override
    public void send(Alert a) throws IOException, InterruptedException {
        byte[] body = Json.MAPPER.writeValueAsBytes(cfg.slack() ? Map.of("text", a.text()) : a);
        HttpRequest req = HttpRequest.newBuilder(cfg.url()).timeout(cfg.timeout())
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
        HttpResponse<String> r = client.send(req, HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() / 100 != 2) {
            // the URL may carry a secret (Slack's do): name only its host
            throw new IOException("the webhook at " + cfg.url().getHost() + " answered " + r.statusCode());
        }
    }
}
