package io.lifeboat.it;

import io.lifeboat.postgres.ScratchCluster;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;

/**
 * A real headless Chromium (Debian's chromium and chromium-driver, which scripts/test installs),
 * driven by Selenium, with a fresh profile and nothing that reaches the network. Screenshots go to
 * target/dashboard-screenshots/.
 */
final class Browser implements AutoCloseable {
    static final Path SCREENSHOTS = Path.of("target", "dashboard-screenshots");
    private final Path profile;
    private final ChromeDriverService service;
    final WebDriver driver;

    Browser() throws IOException {
        profile = Files.createTempDirectory("lifeboat-chromium-");
        ChromeOptions o = new ChromeOptions();
        o.setBinary(binary("chromium", "/usr/bin/chromium"));
        o.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                "--disable-default-apps", "--disable-extensions", "--user-data-dir=" + profile, "--window-size=1400,1000");
        service = new ChromeDriverService.Builder().usingDriverExecutable(new File(binary("chromedriver",
                "/usr/bin/chromedriver"))).usingAnyFreePort().build();
        driver = new ChromeDriver(service, o);
        driver.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(60));
    }

    private static String binary(String name, String debian) {
        if (Files.isExecutable(Path.of(debian))) {
            return debian;
        }
        throw new IllegalStateException(name + " is not installed at " + debian + ": scripts/test installs Debian's "
                + "chromium and chromium-driver for the browser tests");
    }

    void open(String url) {
        driver.get(url);
    }

    /** Saves a screenshot of the whole page (the window is made as tall as the page first). */
    Path screenshot(String name) throws IOException {
        Files.createDirectories(SCREENSHOTS);
        Object height = ((org.openqa.selenium.JavascriptExecutor) driver)
                .executeScript("return document.documentElement.scrollHeight");
        int h = Math.min(6000, Math.max(800, ((Number) height).intValue() + 20));
        driver.manage().window().setSize(new Dimension(1400, h));
        File shot = ((TakesScreenshot) driver).getScreenshotAs(OutputType.FILE);
        Path to = SCREENSHOTS.resolve(name + ".png");
        Files.copy(shot.toPath(), to, StandardCopyOption.REPLACE_EXISTING);
        driver.manage().window().setSize(new Dimension(1400, 1000));
        return to;
    }

    @Override
    public void close() {
        try {
            driver.quit();
        } finally {
            service.stop();
            ScratchCluster.deleteTree(profile);
        }
    }
}
