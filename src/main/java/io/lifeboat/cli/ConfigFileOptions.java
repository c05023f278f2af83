package io.lifeboat.cli;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.config.ConfigLoader;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The options of commands that work on several clusters of one configuration file (agent, status). */
final class ConfigFileOptions {
    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "Configuration file (default: $LIFEBOAT_CONFIG, ./lifeboat.yml, /etc/lifeboat/lifeboat.yml).")
    Path config;

    @Option(names = "--cluster", paramLabel = "NAME", description = "Only this cluster (repeatable; default: every one "
            + "that applies).")
    List<String> clusters = new ArrayList<>();

    /** The configuration file; CONFIG error when there is none, since these commands need one. */
    Path file(String command) {
        Path file = ConfigLoader.locate(config, System.getenv());
        if (file == null) {
            throw new LifeboatException(ErrorKind.CONFIG, command + " needs a configuration file and none was found",
                    "pass --config FILE or set LIFEBOAT_CONFIG (docs/agent.md shows an example)");
        }
        return file;
    }
}
