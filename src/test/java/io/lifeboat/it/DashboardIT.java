package io.lifeboat.it;

import io.lifeboat.catalog.BackupManifest;
import io.lifeboat.config.ConfigLoader;
import io.lifeboat.engine.RepositoryAccess;
import io.lifeboat.engine.verify.WalContinuity;
import io.lifeboat.postgres.PgConnectionSettings;
import io.lifeboat.postgres.PgSession;
import io.lifeboat.postgres.ScratchCluster;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The dashboard in a real headless Chromium against a real agent serving two real clusters that
 * stream their WAL into a real S3 server: the fleet page tells their states apart (beta has a WAL
 * gap the test made by deleting an archived segment), the timeline shows that gap, the planner
 * names the backup and segments for a moment between marker rows and prints a command that, run,
 * restores exactly to that moment, a drill started from the page completes and its result appears,
 * and requests without the token are refused. Screenshots of each page go to target/dashboard-screenshots/.
 */
class DashboardIT {
    private static final String TOKEN = "dash-" + Long.toHexString(System.nanoTime()) + "-token";

    @Test
    void fleetTimelinePlannerDrillAndToken() throws Exception {
        try (StreamFixture fx = new StreamFixture();
             ScratchCluster alpha = ScratchCluster.create(fx.work, ScratchCluster.Options.defaults()).start();
             ScratchCluster beta = ScratchCluster.create(fx.work, ScratchCluster.Options.defaults()).start()) {
            int port = ScratchCluster.freePort();
            Path token = fx.work.resolve("token");
            Files.writeString(token, TOKEN + "\n");
            Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-------"));
            Path cfg = config(fx, port, token, alpha, beta);
            Path restores = Files.createDirectories(fx.work.resolve("restores"));
            ScratchCluster.giveToServerUser(restores);
            Path restored = restores.resolve("alpha-pitr");
            try (AgentProcess agent = AgentProcess.startWith(cfg, fx.work.resolve("agent.log"),
                    "-Dlifeboat.dashboard.refresh-seconds=2");
                 Browser browser = new Browser()) {
                assertThat(agent.awaitOutput("(?s)streaming WAL from.*streaming WAL from", 90)).as(agent.output()).isTrue();
                assertThat(agent.awaitOutput("dashboard on http://127\\.0\\.0\\.1:" + port, 30)).as(agent.output()).isTrue();
                for (String c : List.of("alpha", "beta")) {
                    Cli.Result b = Cli.run("backup", "--config", cfg.toString(), "--cluster", c, "--type", "physical");
                    assertThat(b.exit()).as(b.toString()).isZero();
                }
                String base = "http://127.0.0.1:" + port;

                // beta: WAL after its backup, then one archived segment deleted: a real gap
                String lost = makeGap(fx, beta);
                // alpha: markers 1-5, the moment, markers 6-10, all of it archived
                String[] moment = markersAroundAMoment(fx, alpha);
                String target = moment[0];
                String targetSegment = moment[1];

                // Requests without the token are refused
                HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();
                assertThat(send(http, base + "/api/clusters", null, "GET", null).statusCode()).isEqualTo(401);
                assertThat(send(http, base + "/metrics", null, "GET", null).statusCode()).isEqualTo(401);
                HttpResponse<String> page = send(http, base + "/clusters/alpha", null, "GET", null);
                assertThat(page.statusCode()).isEqualTo(303);
                assertThat(page.headers().firstValue("Location")).hasValue("/login?next=%2Fclusters%2Falpha");
                assertThat(page.body()).doesNotContain("alpha-");
                assertThat(send(http, base + "/api/clusters/alpha/drills", null, "POST", "kind=immediate").statusCode())
                        .isEqualTo(401);
                HttpResponse<String> login = send(http, base + "/api/session", Map.of("Authorization", "Bearer " + TOKEN),
                        "POST", "");
                assertThat(login.statusCode()).isEqualTo(200);
                String cookie = login.headers().firstValue("Set-Cookie").orElseThrow().split(";")[0];
                assertThat(send(http, base + "/api/clusters", Map.of("Cookie", cookie), "GET", null).statusCode())
                        .isEqualTo(200);
                // a session cookie reads, but never starts a drill (a cross-site form could send the cookie)
                HttpResponse<String> csrf = send(http, base + "/api/clusters/alpha/drills", Map.of("Cookie", cookie,
                        "Content-Type", "application/x-www-form-urlencoded"), "POST", "kind=immediate");
                assertThat(csrf.statusCode()).as(csrf.body()).isEqualTo(401);
                assertThat(send(http, base + "/api/clusters", Map.of("Authorization", "Bearer wrong"), "GET", null)
                        .statusCode()).isEqualTo(401);

                // Fleet page: two clusters, alpha not yet proven by a drill, beta failing for its gap
                browser.open(base + "/login#token=" + TOKEN);
                wait(browser, 30).until(d -> d.findElements(By.id("fleet")).size() == 1);
                wait(browser, 60).until(d -> state(d, "beta").equals("failing") && !state(d, "alpha").isEmpty()
                        && reasons(d, "beta").contains(lost));
                assertThat(browser.driver.findElements(By.cssSelector("#fleet tr.cluster"))).hasSize(2);
                assertThat(state(browser.driver, "alpha")).isEqualTo("warning");
                assertThat(reasons(browser.driver, "alpha")).contains("never proven by a restore drill");
                assertThat(reasons(browser.driver, "beta")).contains("wal-gap").contains(lost);
                assertThat(browser.driver.findElement(By.cssSelector("tr[data-cluster=alpha] td.stream")).getText())
                        .contains("streaming");
                browser.screenshot("fleet-before-drill");

                // Cluster page of beta: the gap on the timeline, in red, named
                browser.open(base + "/clusters/beta");
                wait(browser, 30).until(d -> !d.findElements(By.cssSelector("svg.timeline rect.gap[data-first='" + lost
                        + "']")).isEmpty());
                assertThat(browser.driver.findElement(By.id("gaps")).getText()).contains(lost);
                assertThat(browser.driver.findElements(By.cssSelector("svg.timeline rect.wal")).size()).isGreaterThanOrEqualTo(2);
                assertThat(browser.driver.findElements(By.cssSelector("svg.timeline g.backup.physical"))).hasSize(1);
                browser.screenshot("cluster-beta-gap");
                browser.open(base + "/clusters/alpha");
                wait(browser, 30).until(d -> !d.findElements(By.cssSelector("#backups tr[data-id]")).isEmpty());
                browser.screenshot("cluster-alpha");
                // a click on the timeline opens the planner at that moment, already planned
                browser.driver.findElement(By.cssSelector("svg.timeline rect.window")).click();
                wait(browser, 30).until(d -> d.getCurrentUrl().contains("/clusters/alpha/plan?kind=time&value=")
                        && !d.findElements(By.id("plan-backup")).isEmpty());
                assertThat(browser.driver.findElement(By.id("value")).getAttribute("value")).endsWith("Z");

                // Planner: the moment between the markers
                BackupManifest backup = onlyBackup(cfg, "alpha");
                String startSegment = WalContinuity.BackupWal.of(backup).start().toString();
                browser.open(base + "/clusters/alpha/plan");
                browser.driver.findElement(By.id("value")).sendKeys(target);
                browser.driver.findElement(By.id("dir")).sendKeys(restored.toString());
                int restoredPort = ScratchCluster.freePort();
                browser.driver.findElement(By.id("port")).sendKeys(Integer.toString(restoredPort));
                browser.driver.findElement(By.id("plan-button")).click();
                wait(browser, 30).until(d -> !d.findElements(By.id("command")).isEmpty());
                assertThat(browser.driver.findElement(By.id("restorable")).getText()).startsWith("Restorable");
                assertThat(browser.driver.findElement(By.id("plan-backup")).getText()).isEqualTo(backup.id().toString());
                assertThat(browser.driver.findElement(By.id("wal-first")).getText()).isEqualTo(startSegment);
                assertThat(browser.driver.findElement(By.id("wal-through")).getText()).isEqualTo(targetSegment);
                assertThat(browser.driver.findElement(By.cssSelector("#coverage tr[data-repository=main]")).getText())
                        .contains("yes");
                String command = browser.driver.findElement(By.id("command")).getText();
                assertThat(command).contains("restore", "--cluster alpha", "--backup " + backup.id(), "--target-time",
                        "--data-directory " + restored, "--start --port " + restoredPort);
                assertThat(command).doesNotContain(fx.s3.secretKey());
                browser.screenshot("planner");

                // The command, run as printed, restores exactly to the moment
                Process p = new ProcessBuilder("bash", "-c", command).redirectErrorStream(true)
                        .redirectOutput(fx.work.resolve("restore.log").toFile()).start();
                try {
                    assertThat(p.waitFor(240, TimeUnit.SECONDS)).isTrue();
                    assertThat(p.exitValue()).as(Files.readString(fx.work.resolve("restore.log"))).isZero();
                    Set<Integer> markers = StreamFixture.markersIn(new PgConnectionSettings("127.0.0.1", restoredPort,
                            "postgres", "postgres", null, null));
                    assertThat(markers).as("the restored copy holds the rows committed before the moment, and no other")
                            .isEqualTo(IntStream.rangeClosed(1, 5).boxed().collect(Collectors.toSet()));
                } finally {
                    p.destroyForcibly();
                    RestoreScratch.stop(restored);
                }

                // A drill started from the page completes and its result appears
                browser.driver.findElement(By.id("drill-button")).click();
                wait(browser, 10).until(d -> !d.findElements(By.id("drill-state")).isEmpty());
                assertThat(browser.driver.findElement(By.id("drill-state")).getText()).isEqualToIgnoringCase("running");
                browser.screenshot("planner-drill-running");
                wait(browser, 300).until(d -> !d.findElements(By.id("drill-result")).isEmpty());
                String result = browser.driver.findElement(By.id("drill-result")).getText();
                assertThat(result).as(browser.driver.findElement(By.id("drill-status")).getText()).contains("proven: "
                        + backup.id()).contains("reached the target").contains("1 tables, 5 rows readable");
                assertThat(browser.driver.findElement(By.id("drill-state")).getText()).isEqualToIgnoringCase("succeeded");
                browser.screenshot("planner-drill-done");

                // The fleet page now shows alpha proven, with its measured restore time
                browser.open(base + "/");
                wait(browser, 30).until(d -> state(d, "alpha").equals("ok"));
                assertThat(browser.driver.findElement(By.cssSelector("tr[data-cluster=alpha] td.drill")).getText())
                        .contains("ok").contains("restore took");
                browser.screenshot("fleet");

                // The API carries the same data, and never a secret
                HttpResponse<String> api = send(http, base + "/api/clusters/alpha", Map.of("Authorization",
                        "Bearer " + TOKEN), "GET", null);
                assertThat(api.statusCode()).isEqualTo(200);
                assertThat(api.body()).contains("\"state\" : \"ok\"", backup.id().toString())
                        .doesNotContain(fx.s3.secretKey(), fx.s3.accessKey(), TOKEN);
                HttpResponse<String> plan = send(http, base + "/api/clusters/alpha/plan?kind=time&value="
                        + java.net.URLEncoder.encode(target, StandardCharsets.UTF_8), Map.of("Authorization",
                        "Bearer " + TOKEN), "GET", null);
                assertThat(plan.body()).contains("\"through\" : \"" + targetSegment + "\"");
                HttpResponse<String> fleet = send(http, base + "/", Map.of("Authorization", "Bearer " + TOKEN), "GET", null);
                assertThat(fleet.body()).contains("alpha", "beta").doesNotContain(fx.s3.secretKey(), fx.s3.accessKey());
                assertThat(agent.term(60)).as(agent.output()).isZero();
            }
        }
    }

    private static Path config(StreamFixture fx, int port, Path token, ScratchCluster alpha, ScratchCluster beta)
            throws java.io.IOException {
        StringBuilder y = new StringBuilder("""
                agent:
                  http:
                    listen: 127.0.0.1:%d
                    token-file: %s
                    drills: true
                clusters:
                """.formatted(port, token));
        for (var c : List.of(Map.entry("alpha", alpha), Map.entry("beta", beta))) {
            y.append("""
                      %s:
                        postgres:
                          host: 127.0.0.1
                          port: %d
                          user: postgres
                        repositories:
                          - name: main
                            uri: s3://backups/lb?endpoint=%s&path-style=true&region=us-east-1
                            access-key-id: %s
                            secret-access-key: %s
                            allow-same-server: true
                        jobs: 2
                        agent:
                          stream:
                            flush-interval: 2s
                    """.formatted(c.getKey(), c.getValue().port(), fx.s3.endpoint(), fx.s3.accessKey(), fx.s3.secretKey()));
            if (c.getKey().equals("beta")) {
                y.append("      schedules:\n        verify: '* * * * *'\n");
            }
        }
        Path f = fx.work.resolve("dashboard.yml");
        Files.writeString(f, y.toString());
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
        return f;
    }

    /** Four segments of WAL after the backup, the second of them deleted from the archive; returns its name. */
    private static String makeGap(StreamFixture fx, ScratchCluster pg) throws Exception {
        String second = null;
        try (PgSession s = pg.session("postgres")) {
            s.execute("CREATE TABLE filler (n int)");
            for (int i = 0; i < 4; i++) {
                s.execute("INSERT INTO filler VALUES (" + i + ")");
                String seg = s.queryValue("SELECT pg_walfile_name(pg_current_wal_lsn())").orElseThrow();
                if (i == 1) {
                    second = seg;
                }
                s.queryValue("SELECT pg_switch_wal()");
                awaitStored(fx, "beta", seg);
            }
        }
        Path wal = fx.work.resolve("s3").resolve("backups").resolve("lb").resolve("beta").resolve("wal");
        String name = second;
        try (Stream<Path> files = Files.walk(wal)) {
            List<Path> copies = files.filter(f -> f.getFileName().toString().startsWith(name + ".sha256-")).toList();
            assertThat(copies).hasSize(1);
            Files.delete(copies.get(0));
        }
        return name;
    }

    /**
     * Markers 1-5, a moment a second later, markers 6-10 a second after it, then a switch: returns
     * the moment and the segment holding it (every segment before it was archived before the moment).
     */
    private static String[] markersAroundAMoment(StreamFixture fx, ScratchCluster pg) throws Exception {
        try (PgSession s = pg.session("postgres")) {
            s.execute("CREATE TABLE markers (n int PRIMARY KEY, at timestamptz DEFAULT clock_timestamp())");
            String before = s.queryValue("SELECT pg_walfile_name(pg_current_wal_lsn())").orElseThrow();
            s.queryValue("SELECT pg_switch_wal()");
            awaitStored(fx, "alpha", before);
            Thread.sleep(1200);
            for (int i = 1; i <= 5; i++) {
                s.execute("INSERT INTO markers (n) VALUES (" + i + ")");
            }
            Thread.sleep(1200);
            String moment = s.queryValue("SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', "
                    + "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')").orElseThrow();
            String segment = s.queryValue("SELECT pg_walfile_name(pg_current_wal_lsn())").orElseThrow();
            Thread.sleep(1200);
            for (int i = 6; i <= 10; i++) {
                s.execute("INSERT INTO markers (n) VALUES (" + i + ")");
            }
            s.queryValue("SELECT pg_switch_wal()");
            awaitStored(fx, "alpha", segment);
            return new String[] {moment, segment};
        }
    }

    private static void awaitStored(StreamFixture fx, String cluster, String segment) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (fx.walObjects(cluster).stream().noneMatch(n -> n.startsWith(segment + ".sha256-"))) {
            assertThat(System.nanoTime()).as("segment " + segment + " of " + cluster + " stored by the stream")
                    .isLessThan(deadline);
            Thread.sleep(200);
        }
    }

    private static BackupManifest onlyBackup(Path cfg, String cluster) {
        try (RepositoryAccess repo = RepositoryAccess.open(ConfigLoader.load(cfg, cluster, System.getenv(), Map.of()),
                w -> { })) {
            List<BackupManifest> all = repo.catalog().completeBackups();
            assertThat(all).hasSize(1);
            return all.get(0);
        }
    }

    private static WebDriverWait wait(Browser b, int seconds) {
        return new WebDriverWait(b.driver, Duration.ofSeconds(seconds), Duration.ofMillis(250));
    }

    private static String state(org.openqa.selenium.WebDriver d, String cluster) {
        List<WebElement> row = d.findElements(By.cssSelector("tr[data-cluster=" + cluster + "]"));
        return row.isEmpty() ? "" : row.get(0).getAttribute("data-state");
    }

    private static String reasons(org.openqa.selenium.WebDriver d, String cluster) {
        List<WebElement> r = d.findElements(By.cssSelector("tr[data-cluster=" + cluster + "] td.state"));
        return r.isEmpty() ? "" : r.get(0).getText();
    }

    private static HttpResponse<String> send(HttpClient http, String url, Map<String, String> headers, String method,
                                             String body) throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30));
        if (headers != null) {
            headers.forEach(r::header);
        }
        r.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return http.send(r.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }
}
