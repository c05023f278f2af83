package io.lifeboat.postgres;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;

import java.util.Set;
import java.util.TreeSet;

/**
 * A transaction snapshot as pg_current_snapshot() writes it ("xmin:xmax:xip,xip,..."): every
 * transaction below xmin had finished, none from xmax on had started, and of those between, all but
 * the listed ones had finished. Transaction ids are 64-bit (epoch and xid).
 */
public record XidSnapshot(long xmin, long xmax, Set<Long> inProgress) {
    public static XidSnapshot parse(String text) {
        try {
            String[] p = text.trim().split(":", -1);
            if (p.length != 3) {
                throw new NumberFormatException(text);
            }
            Set<Long> xip = new TreeSet<>();
            for (String x : p[2].split(",")) {
                if (!x.isBlank()) {
                    xip.add(Long.parseUnsignedLong(x.trim()));
                }
            }
            long xmin = Long.parseUnsignedLong(p[0]);
            long xmax = Long.parseUnsignedLong(p[1]);
            if (xmin > xmax || xip.stream().anyMatch(x -> x < xmin || x >= xmax)) {
                throw new NumberFormatException(text);
            }
            return new XidSnapshot(xmin, xmax, Set.copyOf(xip));
        } catch (NumberFormatException e) {
            throw new LifeboatException(ErrorKind.CORRUPT, "'" + text + "' is not a transaction snapshot",
                    "the backup's manifest is damaged; restore with --backup ID");
        }
    }

    /**
     * Whether transaction {@code xid} had finished (committed or aborted) when the snapshot was
     * taken. A 32-bit id (as pg_stat_activity shows them) is read in the snapshot's epoch: the
     * nearest 64-bit id at or below xmax + 2^31.
     */
    public boolean finished(long xid) {
        long full = xid;
        if (xid <= 0xFFFFFFFFL && xmax > 0xFFFFFFFFL) {
            full = (xmax & ~0xFFFFFFFFL) | xid;
            if (full > xmax + 0x7FFFFFFFL) {
                full -= 1L << 32;
            } else if (full < xmax - 0x80000000L) {
                full += 1L << 32;
            }
        }
        return full < xmin || (full < xmax && !inProgress.contains(full));
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder().append(xmin).append(':').append(xmax).append(':');
        inProgress.stream().sorted().forEach(x -> sb.append(x).append(','));
        if (!inProgress.isEmpty()) {
            sb.setLength(sb.length() - 1);
        }
        return sb.toString();
    }
}
