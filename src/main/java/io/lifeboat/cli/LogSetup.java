package io.lifeboat.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.spi.ContextAwareBase;

import java.util.List;

/**
 * Logging for the libraries (Lifeboat prints its own messages): warnings and errors to stderr, and
 * only errors from the chatty ones. Set up in code, found by logback through its service loader,
 * because reading a logback.xml costs about 40 ms on the S3 client's first use, on every start.
 */
public final class LogSetup extends ContextAwareBase implements Configurator {
    /** Libraries that report what Lifeboat reports better itself (MINA SSHD: every refused host key). */
    private static final List<String> ERRORS_ONLY = List.of("org.eclipse.jetty", "org.gaul", "org.jclouds", "jclouds",
            "software.amazon.awssdk", "org.apache.http", "org.apache.sshd");

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern("%level %logger{20}: %msg%n");
        encoder.start();
        ConsoleAppender<ILoggingEvent> stderr = new ConsoleAppender<>();
        stderr.setContext(context);
        stderr.setName("STDERR");
        stderr.setTarget("System.err");
        stderr.setEncoder(encoder);
        stderr.start();
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.WARN);
        root.addAppender(stderr);
        for (String name : ERRORS_ONLY) {
            context.getLogger(name).setLevel(Level.ERROR);
        }
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }
}
