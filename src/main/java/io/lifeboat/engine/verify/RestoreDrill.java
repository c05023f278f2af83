package io.lifeboat.engine.verify;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.catalog.BackupId;
import io.lifeboat.catalog.BackupManifest;
import io.lifeboat.catalog.BackupType;
import io.lifeboat.catalog.Catalog;
import io.lifeboat.catalog.Json;
import io.lifeboat.config.ClusterConfig;
import io.lifeboat.engine.ObjectPipeline;
import io.lifeboat.engine.Progress;
import io.lifeboat.engine.logical.LogicalRestore;
import io.lifeboat.engine.logical.LogicalRestoreRequest;
import io.lifeboat.postgres.PgSession;
import io.lifeboat.postgres.ScratchCluster;
import io.lifeboat.storage.Keys;
import io.lifeboat.storage.ObjectInfo;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Proves a backup restorable: restores it into a scratch cluster on this machine (started on a
 * free port, deleted afterwards), runs checks on the result, and records the outcome in the
 * repository. For logical backups every database of the backup is restored (with its roles) and
 * checked with amcheck where available.
 */
public final class RestoreDrill {
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

    private final ClusterConfig cluster;
    private final Catalog catalog;
    private final ObjectPipeline pipeline;
    private final Consumer<String> log;

    public RestoreDrill(ClusterConfig cluster, Catalog catalog, ObjectPipeline pipeline, Consumer<String> log) {
        this.cluster = cluster;
        this.catalog = catalog;
        this.pipeline = pipeline;
        this.log = log;
    }

    public DrillRecord run(BackupManifest m, Path scratchParent) {
        if (m.type() != BackupType.LOGICAL) {
            throw new LifeboatException(ErrorKind.USAGE, "restore drills of " + m.type().id() + " backups are not available "
                    + "in this build", "run the drill on a logical backup");
        }
        Instant start = Instant.now();
        Map<String, String> checks = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        String onto;
        try (ScratchCluster scratch = ScratchCluster.create(scratchParent, ScratchCluster.Options.defaults()).start()) {
            onto = "scratch PostgreSQL on 127.0.0.1:" + scratch.port();
            log.accept("restore drill of " + m.id() + " into a " + onto);
            ClusterConfig target = new ClusterConfig(cluster.name(), scratch.connection("postgres"), cluster.repositories(),
                    cluster.jobs(), cluster.spoolDir(), cluster.binDir(), scratch.dataDir(), null, false);
            LogicalRestore restore = new LogicalRestore(target, catalog, pipeline, Progress.NONE, log);
            boolean globals = m.logical().globals() != null;
            for (BackupManifest.DumpedDatabase db : m.logical().databases()) {
                String name = db.name();
                try {
                    // The scratch cluster is new: every target database is absent or empty.
                    restore.run(new LogicalRestoreRequest(m.id(), name, name, scratch.connection("postgres"), false, globals,
                            false, cluster.jobs(), true));
                    globals = false; // roles once is enough
                    checks.put("restore " + name, "ok");
                    check(scratch, name, checks, problems);
                } catch (LifeboatException e) {
                    checks.put("restore " + name, "failed");
                    problems.add(name + ": " + e.getMessage());
                }
            }
        }
        double seconds = Duration.between(start, Instant.now()).toMillis() / 1000.0;
        DrillRecord record = new DrillRecord(m.id(), start, problems.isEmpty(), seconds, onto, checks, problems);
        save(record);
        return record;
    }

    private void check(ScratchCluster scratch, String db, Map<String, String> checks, List<String> problems) {
        try (PgSession s = scratch.session(db)) {
            long tables = Long.parseLong(s.queryValue("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = "
                    + "c.relnamespace WHERE c.relkind IN ('r','p') AND n.nspname NOT IN ('pg_catalog','information_schema')")
                    .orElse("0"));
            long rows = 0;
            for (List<String> t : s.query("SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n "
                    + "ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog','information_schema') "
                    + "AND n.nspname NOT LIKE 'pg_toast%'")) {
                rows += Long.parseLong(s.queryValue("SELECT count(*) FROM " + t.get(0)).orElse("0"));
            }
            checks.put("rows " + db, tables + " tables, " + rows + " rows readable");
            boolean amcheck = s.queryValue("SELECT 1 FROM pg_available_extensions WHERE name = 'amcheck'").isPresent();
            if (amcheck) {
                s.execute("CREATE EXTENSION IF NOT EXISTS amcheck");
                List<List<String>> idx = s.query("SELECT c.oid::regclass::text FROM pg_index i JOIN pg_class c ON c.oid = "
                        + "i.indexrelid JOIN pg_am a ON a.oid = c.relam WHERE a.amname = 'btree' AND i.indisvalid AND c.relkind = 'i'");
                for (List<String> i : idx) {
                    s.queryValue("SELECT bt_index_check(" + PgSession.quoteLiteral(i.get(0)) + "::regclass, true)");
                }
                checks.put("amcheck " + db, idx.size() + " btree indexes consistent with their tables");
            } else {
                checks.put("amcheck " + db, "not installed on this machine; skipped");
            }
        } catch (LifeboatException e) {
            checks.put("checks " + db, "failed");
            problems.add(db + ": " + e.getMessage());
        }
    }

    private String drillKey(BackupId id, Instant time) {
        return Keys.join(catalog.layout().drillsDir(id), STAMP.format(time) + ".json");
    }

    private void save(DrillRecord r) {
        try {
            catalog.storage().put(drillKey(r.backup(), r.time()), Json.MAPPER.writeValueAsBytes(r));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The newest drill of a backup, if any. */
    public static Optional<DrillRecord> latest(Catalog catalog, BackupId id) {
        try {
            List<ObjectInfo> all = catalog.storage().list(catalog.layout().drillsDir(id) + "/");
            Optional<ObjectInfo> newest = all.stream().max(Comparator.comparing(ObjectInfo::key));
            if (newest.isEmpty()) {
                return Optional.empty();
            }
            return Optional.of(Json.MAPPER.readValue(catalog.storage().get(newest.get().key()), DrillRecord.class));
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
