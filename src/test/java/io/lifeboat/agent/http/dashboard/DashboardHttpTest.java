package io.lifeboat.agent.http.dashboard;

import io.lifeboat.agent.ClusterState;
import io.lifeboat.agent.JobRecord;
import io.lifeboat.agent.ProblemBoard;
import io.lifeboat.agent.http.AgentHttp;
import io.lifeboat.agent.schedule.JobRecords;
import io.lifeboat.catalog.BackupId;
import io.lifeboat.catalog.BackupManifest;
import io.lifeboat.catalog.BackupType;
import io.lifeboat.catalog.Json;
import io.lifeboat.catalog.StoredObject;
import io.lifeboat.codec.Compression;
import io.lifeboat.config.AgentConfig;
import io.lifeboat.config.ClusterConfig;
import io.lifeboat.config.RepositoryConfig;
import io.lifeboat.config.RepositoryUri;
import io.lifeboat.engine.RepositoryAccess;
import io.lifeboat.engine.verify.DrillRecord;
import io.lifeboat.postgres.PgConnectionSettings;
import io.lifeboat.postgres.TimelineId;
import io.lifeboat.postgres.WalSegmentName;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The dashboard on the agent's real HTTP endpoint over a real file repository: what it escapes and
 * masks, who may read, and who may start a drill.
 */
class DashboardHttpTest {
    static final String TOKEN = "t0k3n-for-the-test";
    static final String SECRET_KEY = "AWS-SECRET-KEY-NEVER-SHOWN";
    @TempDir
    Path dir;
    final ProblemBoard problems = new ProblemBoard();
    final ClusterState state = new ClusterState("c");
    final List<AgentHttp> servers = new ArrayList<>();
    final List<String> log = new java.util.concurrent.CopyOnWriteArrayList<>();
    final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();
    RepositoryAccess repo;
    ClusterConfig cfg;
    BackupManifest backup;

    @BeforeEach
    void repository() throws Exception {
        Path r = Files.createDirectories(dir.resolve("repo"));
        String uri = "file://" + r;
        RepositoryConfig rc = new RepositoryConfig("main", RepositoryUri.parse(uri), uri, Compression.ZSTD, 3, true,
                "AKIDEXAMPLE", SECRET_KEY, 16, 4);
        cfg = new ClusterConfig("c", new PgConnectionSettings("127.0.0.1", 1, "postgres", "postgres", null, null),
                List.of(rc), 2, dir.resolve("spool"), null, dir.resolve("production"), null, false);
        repo = RepositoryAccess.open(cfg, w -> { });
        long size = WalSegmentName.DEFAULT_SEGMENT_SIZE;
        Instant end = Instant.parse("2026-11-24T10:00:00Z");
        BackupManifest.PhysicalDetails d = new BackupManifest.PhysicalDetails("0/2000028", "0/3000100", 1,
                seg(2), seg(3), "label", false, Map.of(), "0/2000028", 1, size, List.of(), List.of(), null, 0, null);
        backup = new BackupManifest(1, BackupId.of(end.minusSeconds(30), BackupType.PHYSICAL), BackupType.PHYSICAL, "c",
                end.minusSeconds(30), end, 150000, "1", "zstd", "none",
                List.of(new StoredObject("base.tar.0001.zst", 10, "aa", 20, "zstd", "none")), null, d, Map.of());
        repo.catalog().writeManifest(backup);
        repo.storage().put(repo.catalog().layout().backupObject(backup.id(), "base.tar.0001.zst"), new byte[10]);
        for (long n = 2; n <= 6; n++) {
            if (n != 4) {
                repo.storage().put("c/wal/" + seg(n).substring(0, 16) + "/" + seg(n) + ".sha256-" + "0".repeat(64) + ".zst",
                        new byte[100]);
            }
        }
        // free text from the repository and the agent, with markup and secrets in it
        new JobRecords(repo.storage(), repo.catalog().layout()).write(new JobRecord("verify", end, end, end.plusSeconds(3),
                3, false, "<script>alert('job')</script> s3://b/p?endpoint=http://u:hunter2@h&secret-access-key=TOPSECRET",
                "host"));
        DrillRecord drill = new DrillRecord(backup.id(), end.plusSeconds(60), false, 12, "scratch", Map.of("restore", "x"),
                List.of("<img src=x onerror=alert(1)> via https://admin:hunter2@db.example/"));
        repo.storage().put(repo.catalog().layout().drillsDir(backup.id()) + "/20261124T100100Z.json",
                Json.MAPPER.writeValueAsBytes(drill));
        problems.raise("c", "stream", "cannot connect to postgresql://backup:hunter2@db1/x <b>bold</b>");
    }

    @AfterEach
    void stop() {
        servers.forEach(AgentHttp::stop);
        repo.close();
    }

    static String seg(long n) {
        return new WalSegmentName(TimelineId.of(1), n, WalSegmentName.DEFAULT_SEGMENT_SIZE).toString();
    }

    int serve(boolean token, boolean drills, Dashboard.DrillFactory factory) throws Exception {
        Path t = null;
        if (token) {
            t = dir.resolve("token");
            Files.writeString(t, TOKEN + "\n");
            Files.setPosixFilePermissions(t, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        }
        AgentConfig.Http h = new AgentConfig.Http("127.0.0.1", 0, t, drills);
        AgentConfig.ClusterAgent agent = new AgentConfig.ClusterAgent("c", null, Map.of());
        Dashboard d = factory == null
                ? new Dashboard(List.of(new Dashboard.Source(cfg, agent, state, () -> repo)), problems, h,
                dir.resolve("lifeboat.yml"), (java.util.function.Function<ClusterConfig, String>) c -> "lifeboat wal-fetch %f %p",
                log::add)
                : new Dashboard(List.of(new Dashboard.Source(cfg, agent, state, () -> repo)), problems, h,
                dir.resolve("lifeboat.yml"), factory, log::add);
        AgentHttp server = new AgentHttp(h, problems, log::add, d);
        server.start(List.of(state));
        servers.add(server);
        return server.port();
    }

    HttpResponse<String> send(String method, String url, String body, String... headers) throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        for (int i = 0; i + 1 < headers.length; i += 2) {
            r.header(headers[i], headers[i + 1]);
        }
        return http.send(r.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }

    @Test
    void pagesAndApiEscapeWhatTheRepositoryHoldsAndShowNoSecret() throws Exception {
        int port = serve(true, false, null);
        String base = "http://127.0.0.1:" + port;
        List<String> bodies = new ArrayList<>();
        HttpResponse<String> health = send("GET", base + "/healthz", null, "Authorization", "Bearer " + TOKEN);
        assertThat(health.statusCode()).isEqualTo(503);
        assertThat(health.body()).contains("c/stream", "postgresql://backup:***@db1/x").doesNotContain("hunter2");
        for (String path : List.of("/", "/clusters/c", "/clusters/c/plan?kind=lsn&value=0%2F6000000", "/api/clusters",
                "/api/clusters/c", "/api/clusters/c/plan?kind=lsn&value=0%2F6000000")) {
            HttpResponse<String> r = send("GET", base + path, null, "Authorization", "Bearer " + TOKEN);
            assertThat(r.statusCode()).as(path + ": " + r.body()).isIn(200, 400);
            assertThat(r.headers().firstValue("Content-Security-Policy")).hasValueSatisfying(v ->
                    assertThat(v).contains("script-src 'self'").doesNotContain("unsafe-inline"));
            bodies.add(r.body());
        }
        for (String b : bodies) {
            assertThat(b).doesNotContain("hunter2", "TOPSECRET", SECRET_KEY, "AKIDEXAMPLE", TOKEN);
        }
        for (String html : bodies.subList(0, 3)) { // JSON carries the text as data (application/json, nosniff)
            assertThat(html).doesNotContain("<script>alert", "<img src=x", "<b>bold");
        }
        String cluster = bodies.get(1);
        assertThat(cluster).contains("&lt;script&gt;alert(&#39;job&#39;)&lt;/script&gt;", "&lt;img src=x onerror=alert(1)&gt;",
                "&lt;b&gt;bold&lt;/b&gt;", "u:***@h", "secret-access-key=***");
        assertThat(cluster).contains("data-first=\"" + seg(4) + "\""); // the gap on the timeline
        assertThat(bodies.get(0)).contains("data-cluster=\"c\"", "data-state=\"failing\"");
        String plan = bodies.get(2);
        assertThat(plan).contains("NOT restorable", seg(4), "--target-lsn 0/6000000");
        assertThat(bodies.get(5)).contains("\"restorable\" : false", "\"missing\" : [ \"" + seg(4) + "\" ]");
    }

    @Test
    void aRunningJobIsShownAndTheRepositoriesAreReadAgainWhenItEnds() throws Exception {
        int port = serve(true, false, null);
        String base = "http://127.0.0.1:" + port;
        Instant since = Instant.now().minusSeconds(75);
        state.jobStarted(new ClusterState.RunningJob("physical", since.minusSeconds(1), since));
        for (String path : List.of("/", "/clusters/c")) {
            String page = send("GET", base + path, null, "Authorization", "Bearer " + TOKEN).body();
            assertThat(page).contains("running now: physical job, for 1 min");
        }
        assertThat(send("GET", base + "/api/clusters", null, "Authorization", "Bearer " + TOKEN).body())
                .contains("\"running\" : {", "\"kind\" : \"physical\"");

        ClusterBoard b = new ClusterBoard(cfg, null, state, problems, () -> repo);
        b.refresh();
        Duration every = Duration.ofSeconds(30);
        Instant now = Instant.now();
        assertThat(b.due(now, every)).isFalse();
        assertThat(b.due(now.plus(every), every)).isTrue();
        // the job ends: its record and its backup are read at once, not up to 30 s later
        state.jobFinished(new JobRecord("physical", since.minusSeconds(1), since, now, 75, true, "did it", "h"));
        assertThat(state.running()).isNull();
        assertThat(b.due(now, every)).isTrue();
        b.refresh();
        assertThat(b.due(now, every)).isFalse();
        assertThat(send("GET", base + "/", null, "Authorization", "Bearer " + TOKEN).body()).doesNotContain("running now");
    }

    @Test
    void anIncrementalIsShownWithItsChain() throws Exception {
        Instant end = backup.stopTime().plusSeconds(120);
        BackupManifest.PhysicalDetails d = new BackupManifest.PhysicalDetails("0/5000028", "0/5000100", 1,
                seg(5), seg(5), "label", false, Map.of(), "0/5000028", 1, WalSegmentName.DEFAULT_SEGMENT_SIZE, List.of(),
                List.of(), null, 0, null);
        BackupManifest inc = new BackupManifest(1, BackupId.of(end.minusSeconds(30), BackupType.PHYSICAL),
                BackupType.PHYSICAL, "c", end.minusSeconds(30), end, 150000, "1", "zstd", "none",
                List.of(new StoredObject("base.tar.0001.zst", 10, "aa", 20, "zstd", "none")), null, d,
                Map.of("kind", "incremental of " + backup.id()));
        repo.catalog().writeManifest(inc);
        repo.storage().put(repo.catalog().layout().backupObject(inc.id(), "base.tar.0001.zst"), new byte[10]);
        int port = serve(true, false, null);
        String page = send("GET", "http://127.0.0.1:" + port + "/clusters/c", null, "Authorization", "Bearer " + TOKEN)
                .body();
        assertThat(page).contains("class=\"backup physical incremental\" data-id=\"" + inc.id() + "\"",
                "incremental of " + backup.id() + " (chain of 2)");
        String plan = send("GET", "http://127.0.0.1:" + port + "/clusters/c/plan?kind=immediate", null, "Authorization",
                "Bearer " + TOKEN).body();
        assertThat(plan).contains("the restore also reads " + backup.id(), "4 objects");
    }

    @Test
    void theTokenOrItsSessionReadsAndOnlyTheTokenInAHeaderStartsADrill() throws Exception {
        int port = serve(true, false, null);
        String base = "http://127.0.0.1:" + port;
        // written with the default umask: others can read it, which the agent says at start
        assertThat(log).anySatisfy(l -> assertThat(l).contains("WARNING", "can be read by other users", "chmod 600"));
        assertThat(send("GET", base + "/api/clusters", null).statusCode()).isEqualTo(401);
        assertThat(send("GET", base + "/api/clusters", null, "Authorization", "Bearer nope").statusCode()).isEqualTo(401);
        HttpResponse<String> page = send("GET", base + "/clusters/c", null);
        assertThat(page.statusCode()).isEqualTo(303);
        assertThat(page.headers().firstValue("Location")).hasValue("/login?next=%2Fclusters%2Fc");
        assertThat(send("GET", base + "/login", null).statusCode()).isEqualTo(200);
        assertThat(send("GET", base + "/static/dashboard.js", null).statusCode()).isEqualTo(200);
        assertThat(send("GET", base + "/metrics", null).statusCode()).isEqualTo(401);
        assertThat(send("POST", base + "/api/session", "", "Authorization", "Bearer nope").statusCode()).isEqualTo(401);
        HttpResponse<String> login = send("POST", base + "/api/session", "", "Authorization", "Bearer " + TOKEN);
        assertThat(login.statusCode()).isEqualTo(200);
        String setCookie = login.headers().firstValue("Set-Cookie").orElseThrow();
        assertThat(setCookie).contains("HttpOnly", "SameSite=Strict").doesNotContain(TOKEN);
        String cookie = setCookie.split(";")[0];
        assertThat(send("GET", base + "/clusters/c", null, "Cookie", cookie).statusCode()).isEqualTo(200);
        assertThat(send("GET", base + "/clusters/c", null, "Cookie", "lifeboat_session=forged").statusCode()).isEqualTo(303);
        // a cross-site form carries the cookie, never the Authorization header
        assertThat(send("POST", base + "/api/clusters/c/drills", "kind=immediate", "Cookie", cookie,
                "Content-Type", "application/x-www-form-urlencoded", WebAccess.CSRF_HEADER, "1").statusCode()).isEqualTo(401);
        HttpResponse<String> off = send("POST", base + "/api/clusters/c/drills", "kind=immediate", "Authorization",
                "Bearer " + TOKEN);
        assertThat(off.statusCode()).isEqualTo(403);
        assertThat(off.body()).contains("read-only", "agent.http.drills");
        assertThat(send("PUT", base + "/api/clusters/c/drills", "", "Authorization", "Bearer " + TOKEN).statusCode())
                .isEqualTo(405);
    }

    @Test
    void withoutATokenOnlyLoopbackNamesAreServedAndADrillNeedsTheRequestHeader() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        int port = serve(false, true, b -> new DrillRunner(b, (m, target, progress) -> {
            progress.accept("restoring " + m.id());
            try {
                release.await(20, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return new DrillRecord(m.id(), Instant.now(), true, 1.5, "scratch", Map.of("recovery", "reached the target"),
                    List.of(), "0/3000100", null, io.lifeboat.engine.verify.RestoreDrill.describe(target));
        }, log::add));
        assertThat(raw(port, "GET", "/api/clusters", "evil.example:" + port)).startsWith("HTTP/1.1 403");
        assertThat(raw(port, "GET", "/api/clusters", "127.evil.example:" + port)).startsWith("HTTP/1.1 403");
        assertThat(raw(port, "GET", "/", "127.0.0.1.nip.example")).startsWith("HTTP/1.1 403");
        // the agent's own /metrics and /healthz on the same endpoint follow the same rule
        assertThat(raw(port, "GET", "/metrics", "evil.example:" + port)).startsWith("HTTP/1.1 403");
        assertThat(raw(port, "GET", "/healthz", "evil.example:" + port)).startsWith("HTTP/1.1 403");
        assertThat(raw(port, "GET", "/metrics", "127.0.0.1:" + port)).startsWith("HTTP/1.1 200");
        assertThat(raw(port, "GET", "/api/clusters", "127.0.1.1:" + port)).startsWith("HTTP/1.1 200");
        assertThat(raw(port, "GET", "/api/clusters", "127.0.0.1:" + port)).startsWith("HTTP/1.1 200");
        assertThat(raw(port, "GET", "/api/clusters", "localhost:" + port)).startsWith("HTTP/1.1 200");
        String base = "http://127.0.0.1:" + port;
        // a form from another site cannot add the header
        assertThat(send("POST", base + "/api/clusters/c/drills", "kind=immediate", "Content-Type",
                "application/x-www-form-urlencoded").statusCode()).isEqualTo(403);
        HttpResponse<String> started = send("POST", base + "/api/clusters/c/drills", "kind=immediate",
                WebAccess.CSRF_HEADER, "1", "Content-Type", "application/x-www-form-urlencoded");
        assertThat(started.statusCode()).as(started.body()).isEqualTo(202);
        assertThat(started.body()).contains("\"state\" : \"running\"", backup.id().toString());
        // one at a time per cluster
        HttpResponse<String> second = send("POST", base + "/api/clusters/c/drills", "kind=immediate",
                WebAccess.CSRF_HEADER, "1");
        assertThat(second.statusCode()).isEqualTo(409);
        assertThat(second.body()).contains("already running");
        release.countDown();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        String status;
        do {
            Thread.sleep(100);
            status = send("GET", base + "/api/clusters/c/drills/current", null).body();
        } while (status.contains("\"running\"") && System.nanoTime() < deadline);
        assertThat(status).contains("\"state\" : \"succeeded\"", "restoring " + backup.id(), "immediate");
        assertThat(send("POST", base + "/api/clusters/c/drills", "kind=time&value=yesterday", WebAccess.CSRF_HEADER, "1")
                .body()).contains("is not a time with a time zone");
        assertThat(send("GET", base + "/clusters/nope", null).statusCode()).isEqualTo(404);
    }

    private static String raw(int port, String method, String path, String host) throws Exception {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write((method + " " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void aTargetThatDoesNotParseIsAClearError() {
        assertThatThrownBy(() -> Dashboard.target("time", "2026-11-24 10:00")).hasMessageContaining("time zone");
        assertThatThrownBy(() -> Dashboard.target("when", "x")).hasMessageContaining("not a kind of target");
        assertThat(Dashboard.target("immediate", null).kind()).isEqualTo(io.lifeboat.postgres.RecoveryTarget.Kind.IMMEDIATE);
    }
}
