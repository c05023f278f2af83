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
import java.util.Locale;
import java.util.Map;

/**
 * What a restored server does to production: by default nothing. It does not archive (the backup's
 * archive_command points at production's repository, where a copy's WAL would take the names
 * production's own WAL needs), and it follows no primary (a backup taken from a standby carries
 * standby.signal and primary_conninfo, and would come up as another standby of production). Either
 * is kept only when asked for: {@code --archive-mode preserve} for a copy that becomes the new
 * primary, {@code --standby} for a copy that is to follow one.
 *
 * @param archiveMode OFF writes archive_mode = 'off'; PRESERVE keeps what the backup has
 * @param standby     keep (or create) standby.signal and keep primary_conninfo; false makes a standalone server
 */
public record RestoredServerSettings(ArchiveMode archiveMode, boolean standby) {
    public static final RestoredServerSettings DEFAULT = new RestoredServerSettings(ArchiveMode.OFF, false);
    private static final String STANDBY_SIGNAL = "standby.signal";

    public enum ArchiveMode {
        OFF, PRESERVE;

        public static ArchiveMode parse(String text) {
            if (text == null) {
                return OFF;
            }
            return switch (text.toLowerCase(Locale.ROOT)) {
                case "off" -> OFF;
                case "preserve" -> PRESERVE;
                default -> throw new LifeboatException(ErrorKind.USAGE, "--archive-mode must be off or preserve, not '"
                        + text + "'", "off (default) keeps the restored copy from archiving into the repository; "
                        + "preserve keeps the backup's archiving, for a copy that becomes the new primary");
            };
        }

        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Whether the restored (not yet started) data directory was a standby's: its backup was taken from one. */
    public static boolean fromStandby(Path dataDir) {
        return Files.exists(dataDir.resolve(STANDBY_SIGNAL));
    }

    /** The settings appended to postgresql.auto.conf (later lines win over everything before them). */
    public Map<String, String> settings() {
        Map<String, String> s = new LinkedHashMap<>();
        if (archiveMode == ArchiveMode.OFF) {
            s.put("archive_mode", "off");
        }
        if (!standby) {
            s.put("primary_conninfo", "");
            s.put("primary_slot_name", "");
        }
        return s;
    }

    /**
     * Writes the settings into a restored, not yet started data directory: appends to
     * postgresql.auto.conf; removes standby.signal for a standalone server, creates it for a standby
     * (PostgreSQL prefers it over recovery.signal).
     *
     * @return the files written or removed, relative to the data directory
     */
    public List<String> writeTo(Path dataDir) throws IOException {
        List<String> touched = new ArrayList<>();
        Map<String, String> s = settings();
        if (!s.isEmpty()) {
            StringBuilder sb = new StringBuilder("\n# written by lifeboat restore: "
                    + (archiveMode == ArchiveMode.OFF ? "not archiving into the repository" : "archiving as in the backup")
                    + (standby ? ", a standby" : ", following no primary") + "\n");
            s.forEach((k, v) -> sb.append(k).append(" = '").append(v.replace("'", "''")).append("'\n"));
            Files.writeString(dataDir.resolve("postgresql.auto.conf"), sb.toString(), StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
            touched.add("postgresql.auto.conf");
        }
        Path signal = dataDir.resolve(STANDBY_SIGNAL);
        if (standby && !Files.exists(signal)) {
            Files.writeString(signal, "");
            touched.add(STANDBY_SIGNAL);
        } else if (!standby && Files.deleteIfExists(signal)) {
            touched.add(STANDBY_SIGNAL + " (removed)");
        }
        return touched;
    }
}
