package io.lifeboat.postgres;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The name of a relation's data file inside a database directory, as PostgreSQL writes it:
 * {@code 16385} (main fork), {@code 16385_fsm} / {@code _vm} / {@code _init} (other forks), each
 * maybe with a segment number ({@code 16385.2}); temporary relations are {@code t3_16385...}.
 *
 * @param relNumber the relfilenode
 * @param fork      main, fsm, vm or init
 * @param segment   0 for the first gigabyte, then 1, 2, ...
 * @param temporary a temporary relation (its backend's, never backed up)
 */
public record RelationFile(long relNumber, Fork fork, int segment, boolean temporary) {
    private static final Pattern NAME = Pattern.compile("(t\\d+_)?(\\d+)(?:_(fsm|vm|init))?(?:\\.(\\d+))?");

    public enum Fork { MAIN, FSM, VM, INIT }

    /** The relation file this name is, if it is one. */
    public static Optional<RelationFile> parse(String fileName) {
        Matcher m = NAME.matcher(fileName);
        if (!m.matches() || m.group(2).length() > 10 || (m.group(4) != null && m.group(4).length() > 9)) {
            return Optional.empty();
        }
        long rel = Long.parseLong(m.group(2));
        if (rel == 0 || rel > 0xFFFFFFFFL) {
            return Optional.empty();
        }
        Fork fork = m.group(3) == null ? Fork.MAIN : Fork.valueOf(m.group(3).toUpperCase(java.util.Locale.ROOT));
        int seg = m.group(4) == null ? 0 : Integer.parseInt(m.group(4));
        if (m.group(4) != null && seg == 0) {
            return Optional.empty(); // PostgreSQL never writes ".0"
        }
        return Optional.of(new RelationFile(rel, fork, seg, m.group(1) != null));
    }

    /** The name of this relation's init fork (same directory): its presence marks an unlogged relation. */
    public String initForkName() {
        return relNumber + "_init";
    }
}
