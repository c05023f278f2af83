package io.lifeboat.engine.verify;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonValue;
import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import io.lifeboat.engine.Parallel;
import io.lifeboat.engine.Progress;
import io.lifeboat.engine.archive.PartialPieces;
import io.lifeboat.engine.archive.WalArchive;
import io.lifeboat.postgres.WalSegmentName;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Reads archived WAL the way recovery would: every copy (or a random sample) is downloaded,
 * decoded and checked against the SHA-256 its name carries, a few at a time. A copy that arrives
 * whole and fails is corrupt; one that cannot be read is a storage problem, not damage.
 */
public final class ArchivedWalCheck {
    /** What is wrong with an archived copy, as WAL continuity and the exit code see it. */
    public enum Verdict {
        /** arrived whole, and does not decode or decodes to other content: recovery cannot use it */
        CORRUPT("corrupt"),
        /** could not be read (storage error): unknown, check again */
        UNREADABLE("unreadable"),
        /** several different copies of one file: fetch refuses to choose */
        CONFLICT("conflicting copies of"),
        /** a partial segment's pieces have a hole with WAL after it: fetch refuses to end recovery there */
        INCOMPLETE("incomplete");

        private final String word;

        Verdict(String word) {
            this.word = word;
        }

        /** How a gap of such segments is called ("corrupt 0000…05 (1 segment) after backup …"). */
        public String word() {
            return word;
        }

        /** In JSON: corrupt, unreadable, conflict. */
        @JsonValue
        public String id() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** A copy that failed, with the message that says why (naming its key and repository). */
    public record Bad(String name, String key, Verdict verdict, String message) {
    }

    /**
     * @param copies      archived copies in the repository (all of them, whatever was read)
     * @param checked     copies read and checked
     * @param rawBytes    decoded bytes of the checked copies
     * @param storedBytes stored bytes of the checked copies
     * @param seconds     how long the check took
     * @param encrypted   copies that could not be checked: encrypted, and no identity configured
     * @param bad         failed copies, by file name
     */
    public record Result(int copies, int checked, long rawBytes, long storedBytes, double seconds, int encrypted,
                         List<Bad> bad) {
        /** File name → verdict word, for {@link WalContinuity#check}; not part of the JSON. */
        @JsonIgnore
        public Map<String, String> unusable() {
            Map<String, String> out = new LinkedHashMap<>();
            // a copy that could not be read is not known to be bad: recovery may well read it
            bad.stream().filter(b -> b.verdict() != Verdict.UNREADABLE).forEach(b -> out.putIfAbsent(b.name(), b.verdict().word()));
            return out;
        }

        @JsonProperty("sampled")
        public boolean sampled() {
            return checked + encrypted < copies;
        }
    }

    private ArchivedWalCheck() {
    }

    private static java.util.Optional<Bad> incomplete(String name, List<WalArchive.StoredCopy> copies) {
        try {
            List<PartialPieces.Piece> pieces = new ArrayList<>();
            for (WalArchive.StoredCopy c : copies) {
                pieces.add(PartialPieces.of(c.archived()));
            }
            PartialPieces.longestRun(WalSegmentName.parse(name.substring(0, 24)), pieces);
            return java.util.Optional.empty();
        } catch (LifeboatException e) {
            return java.util.Optional.of(new Bad(name, copies.get(0).archived().key(),
                    e.kind() == ErrorKind.CORRUPT ? Verdict.CORRUPT : Verdict.INCOMPLETE, e.getMessage()));
        }
    }

    /**
     * @param all     the archived copies to consider (see {@link WalArchive#copies})
     * @param sample  at most this many copies, chosen at random; null for every one
     * @param threads copies read in parallel
     */
    public static Result run(WalArchive archive, List<WalArchive.StoredCopy> all, Integer sample, int threads,
                             Progress progress) {
        long started = System.nanoTime();
        List<Bad> bad = new ArrayList<>();
        // Two copies of one name: neither is read by recovery (wal-fetch refuses to choose).
        Map<String, List<WalArchive.StoredCopy>> byName = new LinkedHashMap<>();
        all.forEach(c -> byName.computeIfAbsent(c.archived().fileName(), n -> new ArrayList<>()).add(c));
        byName.forEach((name, copies) -> {
            if (name.endsWith(WalArchive.PARTIAL_SUFFIX)) {
                // Partial copies are kept side by side by design (an unfinished segment's pieces, the server's own
                // .partial at a promotion): wal-fetch puts together what they hold, and refuses a hole between them.
                incomplete(name, copies).ifPresent(bad::add);
                return;
            }
            if (copies.size() > 1) {
                bad.add(new Bad(name, copies.get(0).archived().key(), Verdict.CONFLICT, "the archive holds "
                        + copies.size() + " different copies of " + name + " (" + String.join(", ", copies.stream()
                        .map(c -> c.archived().rawSha256().substring(0, 12) + "…").toList()) + "): two servers archived "
                        + "into this prefix; recovery stops there"));
            }
        });
        List<WalArchive.StoredCopy> toRead = new ArrayList<>(all);
        if (sample != null && sample < toRead.size()) {
            Collections.shuffle(toRead, new Random());
            toRead = toRead.subList(0, Math.max(0, sample));
        }
        long total = toRead.stream().mapToLong(WalArchive.StoredCopy::storedBytes).sum();
        progress.start("verify archived WAL", total);
        record Outcome(long raw, long stored, Bad bad, boolean encrypted) {
        }
        List<Outcome> outcomes;
        try {
            List<Parallel.Task<Outcome>> tasks = new ArrayList<>();
            for (WalArchive.StoredCopy c : toRead) {
                tasks.add(() -> {
                    WalArchive.Archived a = c.archived();
                    try {
                        return new Outcome(archive.check(a), c.storedBytes(), null, false);
                    } catch (LifeboatException e) {
                        if (e.kind() == ErrorKind.KEY) {
                            return new Outcome(0, 0, null, true);
                        }
                        Verdict v = e.kind() == ErrorKind.CORRUPT ? Verdict.CORRUPT : Verdict.UNREADABLE;
                        return new Outcome(0, 0, new Bad(a.fileName(), a.key(), v, e.getMessage()), false);
                    } catch (IOException | RuntimeException e) {
                        return new Outcome(0, 0, new Bad(a.fileName(), a.key(), Verdict.UNREADABLE,
                                "cannot read archived WAL object " + a.key() + ": " + e), false);
                    } finally {
                        progress.advance(c.storedBytes());
                    }
                });
            }
            outcomes = Parallel.run(threads, tasks);
        } finally {
            progress.finish();
        }
        long raw = 0;
        long stored = 0;
        int checked = 0;
        int encrypted = 0;
        for (Outcome o : outcomes) {
            if (o.encrypted()) {
                encrypted++;
                continue;
            }
            checked++;
            raw += o.raw();
            stored += o.stored();
            if (o.bad() != null) {
                bad.add(o.bad());
            }
        }
        bad.sort(java.util.Comparator.comparing(Bad::name));
        double seconds = Math.round((System.nanoTime() - started) / 1e7) / 100.0;
        return new Result(all.size(), checked, raw, stored, seconds, encrypted, List.copyOf(bad));
    }
}
