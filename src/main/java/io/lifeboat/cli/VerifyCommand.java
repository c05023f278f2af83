package io.lifeboat.cli;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.BackupEntry;
import io.lifeboat.catalog.BackupId;
import io.lifeboat.catalog.BackupManifest;
import io.lifeboat.catalog.BackupType;
import io.lifeboat.config.ClusterConfig;
import io.lifeboat.engine.RepositoryAccess;
import io.lifeboat.engine.verify.BackupVerifier;
import io.lifeboat.engine.verify.DrillRecord;
import io.lifeboat.engine.verify.RestoreDrill;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "verify", mixinStandardHelpOptions = true,
        description = "Check every stored object of the backups against their manifests; with --restore-test, also "
                + "restore one into a scratch cluster, check it, and record the result in the repository.")
final class VerifyCommand implements Callable<Integer> {
    @ParentCommand
    LifeboatCommand root;

    @Mixin
    ClusterOptions cluster;

    @Option(names = {"-b", "--backup"}, paramLabel = "ID", description = "Only this backup (default: every complete backup).")
    String backup;

    @Option(names = "--restore-test", description = "Restore the backup (default: the newest logical one) into a "
            + "scratch cluster on this machine and check it.")
    boolean restoreTest;

    @Option(names = "--scratch-directory", paramLabel = "DIR", description = "Where the scratch cluster goes (default: temp).")
    Path scratch;

    @Override
    public Integer call() {
        Output out = root.output();
        ClusterConfig cfg = cluster.load();
        Map<String, Object> result = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        try (RepositoryAccess repo = RepositoryAccess.open(cfg, out::warn)) {
            List<BackupManifest> targets = new ArrayList<>();
            if (backup != null) {
                targets.add(repo.catalog().manifest(BackupId.parse(backup)));
            } else {
                repo.catalog().list().stream().filter(BackupEntry::complete).map(BackupEntry::manifest).forEach(targets::add);
            }
            BackupVerifier verifier = new BackupVerifier(repo.catalog(), repo.pipeline(), out.progress());
            List<Map<String, Object>> checked = new ArrayList<>();
            for (BackupManifest m : targets) {
                List<String> found = verifier.verify(m, cfg.jobs());
                out.text((found.isEmpty() ? "ok      " : "DAMAGED ") + m.id() + "  " + m.objects().size() + " objects");
                found.forEach(p -> out.text("        " + p));
                problems.addAll(found);
                checked.add(Map.of("id", m.id().toString(), "ok", found.isEmpty(), "problems", found));
            }
            result.put("backups", checked);
            if (restoreTest) {
                BackupManifest m = backup != null ? targets.get(0) : targets.stream()
                        .filter(b -> b.type() == BackupType.LOGICAL).reduce((a, b) -> b)
                        .orElseThrow(() -> new LifeboatException(ErrorKind.NOT_FOUND, "no complete logical backup to drill",
                                "take one with `lifeboat backup --type logical`"));
                DrillRecord d = new RestoreDrill(cfg, repo.catalog(), repo.pipeline(), out::info).run(m, scratch);
                d.checks().forEach((k, v) -> out.text("  " + k + ": " + v));
                out.text((d.ok() ? "proven restorable: " : "RESTORE DRILL FAILED: ") + m.id() + " restored in "
                        + d.restoreSeconds() + " s onto " + d.restoredOnto());
                problems.addAll(d.problems());
                result.put("restoreTest", d);
            }
        }
        result.put("ok", problems.isEmpty());
        out.result(result);
        if (!problems.isEmpty()) {
            throw new LifeboatException(ErrorKind.CORRUPT, problems.size() + " problem(s) found: " + problems.get(0),
                    "restore from another backup or repository; take a new backup");
        }
        return 0;
    }
}
