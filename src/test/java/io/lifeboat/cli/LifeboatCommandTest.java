package io.lifeboat.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.OutputStream;
import java.io.PrintStream;

import static org.assertj.core.api.Assertions.assertThat;

class LifeboatCommandTest {
    static LifeboatCommand root() {
        PrintStream none = new PrintStream(OutputStream.nullOutputStream());
        return new LifeboatCommand(none, none);
    }

    @Test
    void aNamedCommandIsTheOnlyOneInTheModel() {
        CommandLine cl = LifeboatCommand.commandLine(root(), new String[] {"restore", "--backup", "x"});
        assertThat(cl.getSubcommands()).containsOnlyKeys("restore");
    }

    @Test
    void helpNoCommandAndMisspeltOnesSeeThemAll() {
        for (String[] args : new String[][] {{}, {"help", "restore"}, {"--json", "list"}, {"restor"}}) {
            assertThat(LifeboatCommand.commandLine(root(), args).getSubcommands().keySet())
                    .containsAll(LifeboatCommand.COMMANDS.keySet()).contains("backup", "wal-fetch", "help");
        }
        assertThat(LifeboatCommand.COMMANDS).hasSize(18);
    }

    @Test
    void picocliIsToldNotToLookForGroovyOnTheClassPath() {
        LifeboatCommand.commandLine(root(), new String[] {"list"});
        // without it picocli's first use opens every jar of the class path looking for groovy.lang.Closure
        assertThat(System.getProperty("picocli.disable.closures")).isEqualTo("true");
    }
}
