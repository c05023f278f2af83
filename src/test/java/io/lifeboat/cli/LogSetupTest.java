package io.lifeboat.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import static org.assertj.core.api.Assertions.assertThat;

class LogSetupTest {
    @Test
    void logbackFindsTheSetupInCode() {
        LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
        Logger root = ctx.getLogger(Logger.ROOT_LOGGER_NAME);
        // logback's own default would be DEBUG for everything: the S3 client's every request on stderr
        assertThat(root.getLevel()).isEqualTo(Level.WARN);
        assertThat(root.getAppender("STDERR")).isNotNull();
        assertThat(ctx.getLogger("software.amazon.awssdk.request").getEffectiveLevel()).isEqualTo(Level.ERROR);
        assertThat(ctx.getLogger("org.jclouds.blobstore").getEffectiveLevel()).isEqualTo(Level.ERROR);
        assertThat(ctx.getLogger("io.lifeboat").getEffectiveLevel()).isEqualTo(Level.WARN);
    }
}
