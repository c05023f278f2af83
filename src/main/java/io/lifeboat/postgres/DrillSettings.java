package io.lifeboat.postgres;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Makes a restored data directory safe to start as a throw-away copy on this machine: it listens
 * on 127.0.0.1 and its own socket directory only, trusts local connections (its own pg_hba.conf),
 * never archives (its new timeline must not reach the real WAL archive), follows no primary, waits
 * for no synchronous standby, loads no preload libraries that may be missing here, and uses little
 * shared memory. Settings in postgresql.conf that point outside the data directory (data_directory,
 * hba_file, ident_file, external_pid_file, includes of missing files) are commented out.
 */
public final class DrillSettings {
    private static final Pattern OUTSIDE = Pattern.compile("^\\s*(data_directory|hba_file|ident_file|external_pid_file)\\s*=?.*");
    private static final Pattern INCLUDE = Pattern.compile("^\\s*(include|include_if_exists|include_dir)\\s*=?\\s*'([^']*)'.*");

    private DrillSettings() {
    }

    /** The settings appended to postgresql.auto.conf (they win over everything before them). */
    public static Map<String, String> settings(Path base, int port) {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("port", Integer.toString(port));
        s.put("listen_addresses", "127.0.0.1");
        s.put("unix_socket_directories", base.toString());
        s.put("hba_file", base.resolve("drill_hba.conf").toString());
        s.put("ident_file", base.resolve("drill_ident.conf").toString());
        s.put("archive_mode", "off");
        s.put("hot_standby", "off");
        s.put("primary_conninfo", "");
        s.put("primary_slot_name", "");
        s.put("synchronous_standby_names", "");
        s.put("shared_preload_libraries", "");
        s.put("ssl", "off");
        s.put("shared_buffers", "128MB");
        s.put("logging_collector", "off");
        s.put("archive_cleanup_command", "");
        s.put("recovery_end_command", "");
        return s;
    }

    /** Writes the drill's settings into a restored, not yet started data directory. */
    public static void apply(Path dataDir, Path base, int port, String osUser) {
        try {
            Path hba = base.resolve("drill_hba.conf");
            Files.writeString(hba, "# lifeboat restore drill: a local throw-away copy\nlocal all all trust\n"
                    + "host all all 127.0.0.1/32 trust\n");
            Files.writeString(base.resolve("drill_ident.conf"), "");
            Path conf = dataDir.resolve("postgresql.conf");
            List<String> lines = Files.exists(conf) ? Files.readAllLines(conf) : List.of();
            List<String> out = new ArrayList<>();
            for (String line : lines) {
                java.util.regex.Matcher inc = INCLUDE.matcher(line);
                boolean missingInclude = inc.matches() && !Files.exists(dataDir.resolve(inc.group(2)));
                out.add(OUTSIDE.matcher(line).matches() || missingInclude ? "# (lifeboat drill) " + line : line);
            }
            Files.write(conf, out);
            StringBuilder sb = new StringBuilder("\n# lifeboat verify --restore-test: local only, not archiving\n");
            settings(base, port).forEach((k, v) -> sb.append(k).append(" = '").append(v.replace("'", "''")).append("'\n"));
            Files.writeString(dataDir.resolve("postgresql.auto.conf"), sb.toString(), StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
            if (ExternalProcess.runningAsRoot() && osUser != null) {
                for (Path p : List.of(hba, base.resolve("drill_ident.conf"), conf, dataDir.resolve("postgresql.auto.conf"))) {
                    new ExternalProcess(List.of("chown", osUser + ":", p.toString()), Map.of()).runChecked("chown " + p);
                }
            }
        } catch (IOException e) {
            throw new LifeboatException(ErrorKind.RESOURCE, "cannot write the drill's settings into " + dataDir + ": "
                    + e.getMessage(), "check free space and permissions of the scratch directory", e);
        }
    }
}
