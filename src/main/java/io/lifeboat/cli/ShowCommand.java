package io.lifeboat.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.lifeboat.catalog.BackupId;
import io.lifeboat.catalog.BackupManifest;
import io.lifeboat.catalog.Json;
import io.lifeboat.config.ClusterConfig;
import io.lifeboat.engine.RepositoryAccess;
import io.lifeboat.engine.verify.DrillRecord;
import io.lifeboat.engine.verify.RestoreDrill;
import com.fasterxml.jackson.core.type.TypeReference;

import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

import java.util.concurrent.Callable;

@Command(name = "show", mixinStandardHelpOptions = true, description = "Show one backup's manifest.")
final class ShowCommand implements Callable<Integer> {
    @ParentCommand
    LifeboatCommand root;

    @Mixin
    ClusterOptions cluster;

    @Parameters(index = "0", paramLabel = "ID", description = "Backup id, as `list` shows it.")
    String id;

    @Override
    public Integer call() throws JsonProcessingException {
        Output out = root.output();
        BackupId bid = BackupId.parse(id);
        ClusterConfig cfg = cluster.load();
        try (RepositoryAccess repo = RepositoryAccess.open(cfg, out::warn)) {
            BackupManifest m = repo.catalog().manifest(bid);
            DrillRecord drill = RestoreDrill.latest(repo.catalog(), bid).orElse(null);
            if (out.json()) {
                Map<String, Object> j = Json.MAPPER.convertValue(m, new TypeReference<LinkedHashMap<String, Object>>() { });
                if (drill != null) {
                    j.put("restoreDrill", Views.drill(drill));
                }
                out.result(j);
            } else {
                Views.summary(m).forEach((k, v) -> out.text(String.format("%-16s %s", k, v)));
                if (m.physical() != null && m.physical().tablespaces() != null && !m.physical().tablespaces().isEmpty()) {
                    // what restore --tablespace-map OID=DIR (or OLDDIR=NEWDIR) refers to
                    out.text("tablespaces:");
                    m.physical().tablespaces().forEach((oid, dir) -> out.text(String.format("  %-14s %s", oid, dir)));
                }
                out.text("objects:");
                m.objects().forEach(o -> out.text(String.format("  %-60s %12d %s", o.path(), o.size(), o.sha256())));
                out.text(String.format("%-16s %s", "restore drill", drill == null ? "none (run `lifeboat verify "
                        + "--restore-test --backup " + bid + "`)" : Views.proof(drill)));
                if (drill != null) {
                    drill.checks().forEach((k, v) -> out.text(String.format("  %-30s %s", k, v)));
                    drill.problems().forEach(p -> out.text("  problem: " + p));
                }
                if (m.extra() != null) {
                    out.text("details: " + Json.MAPPER.writeValueAsString(m.extra()).replaceAll("\\s+", " "));
                }
            }
        }
        return 0;
    }
}
