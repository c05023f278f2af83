package io.lifeboat.postgres;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The backup_label file PostgreSQL writes into a base backup: where WAL replay starts, the
 * checkpoint, the timeline and the label, e.g.
 * <pre>
 * START WAL LOCATION: 0/2000028 (file 000000010000000000000002)
 * CHECKPOINT LOCATION: 0/2000060
 * BACKUP METHOD: streamed
 * BACKUP FROM: primary
 * START TIME: 2024-11-24 22:05:12 UTC
 * LABEL: lifeboat 20241124T220512Z-P
 * START TIMELINE: 1
 * </pre>
 */
public record BackupLabel(Lsn startLsn, String startWalFile, Lsn checkpointLsn, String method, String from,
                          String startTime, String label, long startTimeline, String text) {
    private static final Pattern START = Pattern.compile("([0-9A-Fa-f]+/[0-9A-Fa-f]+) \\(file ([0-9A-F]{24})\\)");

    public static BackupLabel parse(String text) {
        Map<String, String> fields = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            int colon = line.indexOf(": ");
            if (colon > 0) {
                fields.putIfAbsent(line.substring(0, colon).trim(), line.substring(colon + 2).trim());
            }
        }
        String start = fields.get("START WAL LOCATION");
        Matcher m = start == null ? null : START.matcher(start);
        if (m == null || !m.matches() || !fields.containsKey("CHECKPOINT LOCATION")) {
            throw new LifeboatException(ErrorKind.CORRUPT, "backup_label is not what PostgreSQL writes: "
                    + text.strip().replace('\n', '|'), "this server's base backup is unusual; report it with the text above");
        }
        long tli;
        try {
            tli = Long.parseLong(fields.getOrDefault("START TIMELINE", "1"));
        } catch (NumberFormatException e) {
            throw new LifeboatException(ErrorKind.CORRUPT, "backup_label has a bad START TIMELINE: "
                    + fields.get("START TIMELINE"), null);
        }
        return new BackupLabel(Lsn.parse(m.group(1)), m.group(2), Lsn.parse(fields.get("CHECKPOINT LOCATION")),
                fields.get("BACKUP METHOD"), fields.get("BACKUP FROM"), fields.get("START TIME"), fields.get("LABEL"), tli,
                text);
    }
}
