package io.lifeboat.engine.physical;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.postgres.BaseBackupRules;
import io.lifeboat.postgres.ControlFile;
import io.lifeboat.postgres.RelationFile;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Lists what a base backup of a data directory holds, in the order it is stored: each tablespace
 * (its version directory, as OID.tar), then the data directory (base.tar) with pg_control last, as
 * pg_basebackup sends them; leaving out what {@link BaseBackupRules} says it leaves out.
 */
final class DataDirectoryScan {
    static final String BASE = "base.tar";

    /**
     * One thing to store.
     *
     * @param archive the tar archive it goes to (base.tar, OID.tar)
     * @param tarName its name in that archive
     * @param path    its path relative to the data directory (the file index's and backup_manifest's)
     * @param source  where to read it
     * @param type    f, d or l
     * @param blockFile a relation's main fork in a database directory (or global): tracked in blocks
     * @param databaseDirectory the path of the database directory it is in, or null
     */
    record Item(String archive, String tarName, String path, Path source, String type, long size, int mode, long mtimeNs,
                long inode, int uid, int gid, String link, boolean blockFile, String databaseDirectory, long ctimeNs) {
        long mtimeSeconds() {
            return Math.floorDiv(mtimeNs, 1_000_000_000L);
        }
    }

    /** A tablespace: pg_tblspc/OID links to location. */
    record Tablespace(String oid, Path location) {
    }

    private final Path dataDir;
    private final String versionDirectory;
    private final Consumer<String> warn;
    private final List<Item> items = new ArrayList<>();
    private final Map<String, Path> tablespaces = new LinkedHashMap<>();

    private DataDirectoryScan(Path dataDir, String versionDirectory, Consumer<String> warn) {
        this.dataDir = dataDir;
        this.versionDirectory = versionDirectory;
        this.warn = warn;
    }

    /** @param versionDirectory the tablespace version directory of the server (PG_15_202209061) */
    static DataDirectoryScan of(Path dataDir, String versionDirectory, Consumer<String> warn) {
        DataDirectoryScan s = new DataDirectoryScan(dataDir, versionDirectory, warn);
        try {
            s.scanTablespaces();
            s.walk(dataDir, "", BASE, "", null, false);
            Path control = dataDir.resolve(ControlFile.PATH);
            s.items.add(s.item(BASE, ControlFile.PATH, ControlFile.PATH, control, false, null));
        } catch (IOException e) {
            throw new LifeboatException(ErrorKind.RESOURCE, "cannot read the data directory " + dataDir + ": "
                    + e.getMessage(), "run the backup as root or as the server's OS user, on the database host", e);
        }
        return s;
    }

    List<Item> items() {
        return items;
    }

    /** OID → location of every tablespace. */
    Map<String, Path> tablespaces() {
        return tablespaces;
    }

    private void scanTablespaces() throws IOException {
        Path tblspc = dataDir.resolve("pg_tblspc");
        if (!Files.isDirectory(tblspc, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        for (String name : sortedNames(tblspc)) {
            Path link = tblspc.resolve(name);
            if (!Files.isSymbolicLink(link) || !name.matches("\\d+")) {
                continue; // an in-place tablespace (a directory) is stored with the data directory
            }
            Path location = Files.readSymbolicLink(link);
            Path absolute = location.isAbsolute() ? location : tblspc.resolve(location).normalize();
            tablespaces.put(name, location);
            String archive = name + ".tar";
            Path version = absolute.resolve(versionDirectory);
            if (!Files.isDirectory(version)) {
                warn.accept("tablespace " + name + " at " + absolute + " has no " + versionDirectory + " directory; "
                        + "storing it empty");
                continue;
            }
            String prefix = "pg_tblspc/" + name + "/";
            items.add(item(archive, versionDirectory, prefix + versionDirectory, version, false, null));
            walk(version, versionDirectory, archive, prefix, null, false);
        }
    }

    /**
     * @param dir       the directory to list
     * @param rel       its name in the archive ("" for the root)
     * @param pathPrefix prefix of archive names in the data directory's terms
     * @param dbDir     the database directory this is, or null
     */
    private void walk(Path dir, String rel, String archive, String pathPrefix, String dbDir, boolean inTblspc)
            throws IOException {
        List<String> names = sortedNames(dir);
        Set<String> siblings = dbDir == null ? Set.of() : new HashSet<>(names);
        for (String name : names) {
            if (BaseBackupRules.skipped(name) || (dbDir != null && BaseBackupRules.skippedInDatabase(name, siblings))) {
                continue;
            }
            String tarName = rel.isEmpty() ? name : rel + "/" + name;
            String path = pathPrefix + tarName;
            if (archive.equals(BASE) && tarName.equals(RestoredState.FILE)) {
                continue; // Lifeboat's record of the restore that made this directory, true of this directory only
            }
            if (archive.equals(BASE) && tarName.equals(ControlFile.PATH)) {
                continue; // stored last
            }
            Path p = dir.resolve(name);
            Map<String, Object> a;
            try {
                a = Files.readAttributes(p, "unix:mode,ino", LinkOption.NOFOLLOW_LINKS);
            } catch (NoSuchFileException gone) {
                continue; // removed while we looked: its removal is in the WAL
            }
            int mode = (Integer) a.get("mode");
            boolean isLink = (mode & 0170000) == 0120000;
            boolean isDir = (mode & 0170000) == 0040000;
            boolean top = archive.equals(BASE) && rel.isEmpty();
            if (top && name.equals("pg_wal")) {
                Item w = directoryLike(archive, tarName, path, p);
                items.add(w);
                items.add(new Item(archive, "pg_wal/archive_status", pathPrefix + "pg_wal/archive_status", p, "d", 0,
                        w.mode(), w.mtimeNs(), 0, w.uid(), w.gid(), null, false, null, 0));
                continue;
            }
            if (BaseBackupRules.contentsSkipped(name) && (isDir || isLink)) {
                items.add(directoryLike(archive, tarName, path, p));
                continue;
            }
            if (isLink && inTblspc) {
                items.add(item(archive, tarName, path, p, false, null));
            } else if (isDir) {
                boolean isDb = BaseBackupRules.isDatabaseDirectory(rel, name, versionDirectory);
                items.add(item(archive, tarName, path, p, false, null));
                walk(p, tarName, archive, pathPrefix, isDb ? path : null, top && name.equals("pg_tblspc"));
            } else if ((mode & 0170000) == 0100000) {
                boolean blockFile = (dbDir != null || (archive.equals(BASE) && rel.equals("global")))
                        && RelationFile.parse(name).map(r -> r.fork() == RelationFile.Fork.MAIN && !r.temporary())
                        .orElse(false);
                items.add(item(archive, tarName, path, p, blockFile, dbDir));
            } else {
                warn.accept("skipping " + (isLink ? "symbolic link " : "special file ") + p
                        + " (a base backup holds files and directories; links only in pg_tblspc)");
            }
        }
    }

    /** A directory entry for something that is a directory or a link to one (pg_wal may be a link). */
    private Item directoryLike(String archive, String tarName, String path, Path p) throws IOException {
        Item i = item(archive, tarName, path, p, false, null);
        return new Item(i.archive(), i.tarName(), i.path(), i.source(), "d", 0, 0700, i.mtimeNs(), i.inode(), i.uid(),
                i.gid(), null, false, null, 0);
    }

    private Item item(String archive, String tarName, String path, Path p, boolean blockFile, String dbDir)
            throws IOException {
        Map<String, Object> a = Files.readAttributes(p, "unix:mode,ino,uid,gid,size,lastModifiedTime,ctime",
                LinkOption.NOFOLLOW_LINKS);
        int mode = (Integer) a.get("mode");
        String type = (mode & 0170000) == 0120000 ? "l" : (mode & 0170000) == 0040000 ? "d" : "f";
        long size = type.equals("f") ? (Long) a.get("size") : 0;
        FileTime t = (FileTime) a.get("lastModifiedTime");
        String link = type.equals("l") ? Files.readSymbolicLink(p).toString() : null;
        return new Item(archive, tarName, path, p, type, size, mode & 07777, t.to(TimeUnit.NANOSECONDS),
                (Long) a.get("ino"), (Integer) a.get("uid"), (Integer) a.get("gid"), link, blockFile, dbDir,
                ((FileTime) a.get("ctime")).to(TimeUnit.NANOSECONDS));
    }

    private static List<String> sortedNames(Path dir) throws IOException {
        TreeSet<String> names = new TreeSet<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            for (Path p : s) {
                names.add(p.getFileName().toString());
            }
        } catch (NoSuchFileException gone) {
            return List.of();
        }
        return new ArrayList<>(names);
    }
}
