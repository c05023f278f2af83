package io.lifeboat.cli;

import io.lifeboat.demo.Demo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Run a full backup → disaster → restore cycle on a scratch PostgreSQL cluster and an embedded "
                + "S3 server, and check that every table came back identical.")
final class DemoCommand implements Callable<Integer> {
    @ParentCommand
    LifeboatCommand root;

    @Option(names = "--scale", defaultValue = "10", description = "pgbench scale of the demo database (default: ${DEFAULT-VALUE}).")
    int scale;

    @Option(names = "--work-dir", paramLabel = "DIR", description = "Where to put the scratch cluster and S3 data (default: temp).")
    Path workDir;

    @Option(names = "--keep", description = "Keep the scratch data directory and S3 files for inspection.")
    boolean keep;

    @Override
    public Integer call() throws Exception {
        Output out = root.output();
        Demo.Report r = new Demo(workDir, scale, keep, out::text, out.progress()).run();
        out.text(r.ok() ? "demo passed: the restored database is identical to the original"
                : "demo FAILED: see the steps above");
        if (keep) {
            out.text("kept: " + r.workDir());
        }
        out.result(Map.of("ok", r.ok(), "steps", r.steps()));
        return r.ok() ? 0 : io.lifeboat.ErrorKind.CORRUPT.exitCode();
    }
}
