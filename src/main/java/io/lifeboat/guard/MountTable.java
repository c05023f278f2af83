package io.lifeboat.guard;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The mounts of this machine (Linux /proc/self/mountinfo) and which of them are network
 * filesystems, which count as "another server" for the off-server rule.
 */
public final class MountTable {
    private static final Set<String> NETWORK = Set.of("nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "ceph", "glusterfs",
            "lustre", "afs", "davfs", "ncpfs", "gpfs", "beegfs", "orangefs", "virtiofs");

    public record Mount(String mountPoint, String fsType, String source) {
        public boolean isNetwork() {
            return NETWORK.contains(fsType) || fsType.startsWith("fuse.") && !fsType.equals("fuse.lxcfs")
                    || fsType.equals("fuse") || fsType.equals("fuseblk") && source.contains(":");
        }
    }

    private final List<Mount> mounts;

    public MountTable(List<Mount> mounts) {
        this.mounts = List.copyOf(mounts);
    }

    /** This machine's mounts; empty when /proc is not available (then every path counts as local). */
    public static MountTable current() {
        Path info = Path.of("/proc/self/mountinfo");
        try {
            return parse(Files.readAllLines(info));
        } catch (IOException e) {
            return new MountTable(List.of());
        }
    }

    /** Parses mountinfo lines: "36 35 98:0 /mnt1 /mnt/point rw,noatime master:1 - ext3 /dev/root rw". */
    public static MountTable parse(List<String> lines) {
        List<Mount> out = new ArrayList<>();
        for (String line : lines) {
            String[] f = line.split(" ");
            int dash = -1;
            for (int i = 6; i < f.length; i++) {
                if (f[i].equals("-")) {
                    dash = i;
                    break;
                }
            }
            if (f.length < 10 || dash < 0 || dash + 2 >= f.length) {
                continue;
            }
            out.add(new Mount(unescape(f[4]), f[dash + 1], unescape(f[dash + 2])));
        }
        return new MountTable(out);
    }

    private static String unescape(String s) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length() && s.substring(i + 1, i + 4).chars().allMatch(ch -> ch >= '0' && ch <= '7')) {
                sb.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    /** The mount a path lives on (longest matching mount point; later mounts shadow earlier ones). */
    public Optional<Mount> mountOf(Path path) {
        Path p = nearestExisting(path.toAbsolutePath().normalize());
        Mount best = null;
        for (Mount m : mounts) {
            Path mp = Path.of(m.mountPoint());
            if (p.startsWith(mp) && (best == null || mp.getNameCount() >= Path.of(best.mountPoint()).getNameCount())) {
                best = m;
            }
        }
        return Optional.ofNullable(best);
    }

    /** Resolves symlinks in the part of the path that exists; a repository directory may not exist yet. */
    private static Path nearestExisting(Path p) {
        Path cur = p;
        while (cur != null && !Files.exists(cur)) {
            cur = cur.getParent();
        }
        if (cur == null) {
            return p;
        }
        try {
            return cur.toRealPath().resolve(cur.relativize(p));
        } catch (IOException e) {
            return p;
        }
    }
}
