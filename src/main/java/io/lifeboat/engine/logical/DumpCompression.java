package io.lifeboat.engine.logical;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;

import java.util.Locale;

/**
 * Who compresses a logical dump. pg_dump -Fd can compress each file itself (gzip; zstd and lz4
 * from pg_dump 16); then Lifeboat stores the files as they are. With "none" pg_dump writes plain
 * files and Lifeboat compresses them with the repository's codec while uploading, which is faster
 * for large, less compressible data but writes the whole uncompressed dump to the spool first.
 *
 * <p>"auto" (the default) is zstd with pg_dump 16 and later, and pg_dump's own default (gzip) before.
 *
 * @param method auto, none, gzip, zstd or lz4
 * @param level  the level, or -1 for the method's default
 */
public record DumpCompression(String method, int level) {
    public static final DumpCompression AUTO = new DumpCompression("auto", -1);

    public static DumpCompression parse(String text) {
        if (text == null || text.isBlank()) {
            return AUTO;
        }
        String[] p = text.trim().toLowerCase(Locale.ROOT).split(":", 2);
        String method = p[0];
        if (!method.equals("auto") && !method.equals("none") && !method.equals("gzip") && !method.equals("zstd")
                && !method.equals("lz4")) {
            throw new LifeboatException(ErrorKind.USAGE, "unknown dump compression '" + text + "'",
                    "use auto, none, gzip[:1-9], zstd[:1-22] or lz4 (zstd and lz4 need pg_dump 16 or newer)");
        }
        int level = -1;
        if (p.length == 2) {
            try {
                level = Integer.parseInt(p[1]);
            } catch (NumberFormatException e) {
                throw new LifeboatException(ErrorKind.USAGE, "bad level in dump compression '" + text + "'",
                        "write it like gzip:6 or zstd:3");
            }
            int max = method.equals("gzip") ? 9 : method.equals("zstd") ? 22 : 12;
            if (level < 1 || level > max || method.equals("auto") || method.equals("none")) {
                throw new LifeboatException(ErrorKind.USAGE, "level " + level + " does not fit dump compression '" + method + "'",
                        "gzip takes 1-9, zstd 1-22, lz4 1-12");
            }
        }
        return new DumpCompression(method, level);
    }

    /** The method to use with a pg_dump of this major version. */
    public DumpCompression resolve(int pgDumpMajor) {
        if (method.equals("auto")) {
            return pgDumpMajor >= 16 ? new DumpCompression("zstd", -1) : new DumpCompression("gzip", -1);
        }
        if ((method.equals("zstd") || method.equals("lz4")) && pgDumpMajor < 16) {
            throw new LifeboatException(ErrorKind.TOOL, "pg_dump " + pgDumpMajor + " cannot compress with " + method,
                    "use --dump-compression gzip or none, or install pg_dump 16 or newer");
        }
        return this;
    }

    /** The --compress argument for pg_dump (after {@link #resolve}). */
    public String pgDumpArgument(int pgDumpMajor) {
        return switch (method) {
            case "none" -> "0";
            case "gzip" -> level < 0 ? (pgDumpMajor >= 16 ? "gzip" : "6") : (pgDumpMajor >= 16 ? "gzip:" + level : Integer.toString(level));
            default -> level < 0 ? method : method + ":" + level;
        };
    }

    @Override
    public String toString() {
        return level < 0 ? method : method + ":" + level;
    }
}
