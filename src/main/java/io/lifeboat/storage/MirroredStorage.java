package io.lifeboat.storage;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Several repositories behind one {@link Storage}: every write goes to all of them, reads come from
 * the first one that answers. A repository that fails is reported by name and left out for the rest
 * of the run (so a backup's manifest, written last, lands only where every object landed); the
 * operation fails only when fewer than {@code required} repositories still have the data.
 *
 * <p>"Not there" is proven only by enough explicit answers: every object that was written is in at
 * least {@code required} repositories, so it is absent only when more than {@code members -
 * required} of them say it is. A repository that cannot be asked is never taken for one that does
 * not have it (with the default, all required, one answer is enough).
 */
public final class MirroredStorage implements Storage {
    /** One repository: its configured name and its driver. */
    public record Member(String name, Storage storage) {
    }

    private final List<Member> members;
    private final int required;
    private final Consumer<String> warn;
    private final Map<String, String> failed = new ConcurrentHashMap<>();

    /**
     * @param required how many members must take a write for it to succeed (1..members)
     * @param warn     receives one line per member that fails, naming it
     */
    public MirroredStorage(List<Member> members, int required, Consumer<String> warn) {
        if (members.isEmpty() || required < 1 || required > members.size()) {
            throw new IllegalArgumentException("need 1 <= required <= " + members.size());
        }
        this.members = List.copyOf(members);
        this.required = required;
        this.warn = warn;
    }

    public List<Member> members() {
        return members;
    }

    public int required() {
        return required;
    }

    /** Members that have not failed in this run, in configured order. */
    public List<Member> healthy() {
        return members.stream().filter(m -> !failed.containsKey(m.name())).toList();
    }

    /** The members that failed in this run, with why. */
    public Map<String, String> failures() {
        return Map.copyOf(failed);
    }

    /** Records a member's failure (once, with a warning naming it); reads go on with the others. */
    public void fail(Member m, Exception e) {
        String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        if (failed.putIfAbsent(m.name(), why) == null) {
            warn.accept("repository '" + m.name() + "' failed and is left out for the rest of this run: " + why);
        }
    }

    /** Writes need {@code required} members: fails naming the failed ones when fewer are left. */
    public void ensureEnough(int left) {
        if (left < required) {
            throw new LifeboatException(ErrorKind.STORAGE, "only " + left + " of " + members.size() + " repositories are "
                    + "usable, " + required + " required; failed: " + describeFailures(),
                    "bring the failed repository back, or lower min-repositories in lifeboat.yml to accept fewer copies");
        }
    }

    private String describeFailures() {
        StringBuilder sb = new StringBuilder();
        new TreeMap<>(failed).forEach((k, v) -> sb.append(sb.isEmpty() ? "" : "; ").append("'").append(k).append("': ").append(v));
        return sb.toString();
    }

    @Override
    public String describe() {
        StringBuilder sb = new StringBuilder("repositories ");
        for (Member m : members) {
            sb.append(m == members.get(0) ? "" : ", ").append(m.storage().describe());
        }
        return sb.toString();
    }

    @Override
    public ObjectWriter create(String key) throws IOException {
        return create(key, 0);
    }

    @Override
    public ObjectWriter create(String key, long sizeHint) throws IOException {
        return tee(key, st -> st.create(key, sizeHint));
    }

    /** Opens a member's writer for one object. */
    private interface WriterOpener {
        ObjectWriter open(Storage member) throws IOException;
    }

    /**
     * A writer on every healthy member that opens one; a member that fails to open is dropped, and
     * fewer than the required members abort the writers opened and fail.
     */
    private ObjectWriter tee(String key, WriterOpener opener) throws IOException {
        List<Member> targets = new ArrayList<>();
        List<ObjectWriter> writers = new ArrayList<>();
        for (Member m : healthy()) {
            try {
                writers.add(opener.open(m.storage()));
                targets.add(m);
            } catch (IOException | RuntimeException e) {
                fail(m, e);
            }
        }
        if (targets.size() < required) {
            writers.forEach(ObjectWriter::abort);
            ensureEnough(targets.size());
        }
        return new TeeWriter(key, targets, writers);
    }

    /** Writes to every member's writer; a member whose write fails is dropped from this and later writes. */
    private final class TeeWriter extends ObjectWriter {
        private final String key;
        private final List<Member> targets;
        private final List<ObjectWriter> writers;

        TeeWriter(String key, List<Member> targets, List<ObjectWriter> writers) {
            this.key = key;
            this.targets = new ArrayList<>(targets);
            this.writers = new ArrayList<>(writers);
        }

        private interface Step {
            void apply(ObjectWriter w) throws IOException;
        }

        private void each(Step step) throws IOException {
            for (int i = 0; i < writers.size(); ) {
                try {
                    step.apply(writers.get(i));
                    i++;
                } catch (IOException | RuntimeException e) {
                    writers.remove(i).abort();
                    fail(targets.remove(i), e);
                    if (writers.size() < required) {
                        abort();
                        ensureEnough(writers.size());
                    }
                }
            }
        }

        @Override
        public void write(int b) throws IOException {
            each(w -> w.write(b));
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            each(w -> w.write(b, off, len));
        }

        @Override
        public void flush() throws IOException {
            each(ObjectWriter::flush);
        }

        @Override
        public long commit() throws IOException {
            long[] size = {-1};
            each(w -> size[0] = w.commit());
            return size[0];
        }

        @Override
        public void abort() {
            writers.forEach(ObjectWriter::abort);
        }
    }

    @Override
    public InputStream read(String key, long offset) throws IOException {
        LifeboatException notFound = null;
        int absent = 0;
        Exception first = null;
        for (Member m : healthy()) {
            try {
                return m.storage().read(key, offset);
            } catch (LifeboatException e) {
                if (e.kind() == ErrorKind.NOT_FOUND) {
                    notFound = notFound == null ? e : notFound;
                    absent++;
                } else {
                    first = first == null ? e : first;
                    fail(m, e);
                }
            } catch (IOException | RuntimeException e) {
                first = first == null ? e : first;
                fail(m, e);
            }
        }
        if (provenAbsent(absent)) {
            throw notFound;
        }
        throw unproven("read " + key, absent, first);
    }

    /** Whether {@code absent} explicit "not there" answers prove that an object is in none of the repositories. */
    private boolean provenAbsent(int absent) {
        return absent > members.size() - required;
    }

    /** Too few repositories answered to prove anything: a STORAGE error naming those that failed. */
    private LifeboatException unproven(String what, int answered, Exception cause) {
        if (answered == 0) {
            return storageError(what, cause);
        }
        return new LifeboatException(ErrorKind.STORAGE, "cannot " + what + ": only " + answered + " of " + members.size()
                + " repositories answered, and with min-repositories " + required + " what the others hold may be only "
                + "there; failed: " + describeFailures(), "bring the failed repository back", cause);
    }

    @Override
    public Optional<ObjectInfo> stat(String key) throws IOException {
        Exception first = null;
        int absent = 0;
        for (Member m : healthy()) {
            try {
                Optional<ObjectInfo> o = m.storage().stat(key);
                if (o.isPresent()) {
                    return o;
                }
                absent++;
            } catch (IOException | RuntimeException e) {
                first = first == null ? e : first;
                fail(m, e);
            }
        }
        if (provenAbsent(absent)) {
            return Optional.empty();
        }
        throw unproven("stat " + key, absent, first);
    }

    /**
     * The union of what the usable members hold; for a key in several, the first member's entry. It
     * is complete only when enough members answered (see the class comment), else a STORAGE error.
     */
    @Override
    public List<ObjectInfo> list(String prefix) throws IOException {
        return union(prefix, true);
    }

    /** The union of what the members still usable hold: where the next writes go. */
    @Override
    public List<ObjectInfo> listWritable(String prefix) throws IOException {
        return union(prefix, false);
    }

    private List<ObjectInfo> union(String prefix, boolean complete) throws IOException {
        TreeMap<String, ObjectInfo> all = new TreeMap<>();
        int answered = 0;
        Exception first = null;
        for (Member m : healthy()) {
            try {
                for (ObjectInfo o : m.storage().list(prefix)) {
                    all.putIfAbsent(o.key(), o);
                }
                answered++;
            } catch (IOException | RuntimeException e) {
                first = first == null ? e : first;
                fail(m, e);
            }
        }
        if (complete ? !provenAbsent(answered) : answered == 0) {
            throw unproven("list " + prefix, answered, first);
        }
        return new ArrayList<>(all.values());
    }

    @Override
    public void delete(String key) throws IOException {
        for (Member m : healthy()) {
            try {
                m.storage().delete(key);
            } catch (IOException | RuntimeException e) {
                fail(m, e);
            }
        }
    }

    /** One on every usable member (each sends from the array if it can), committed like any write. */
    @Override
    public ObjectWriter createFrom(String key, byte[] data, int off, int len) throws IOException {
        return tee(key, st -> st.createFrom(key, data, off, len));
    }

    @Override
    public List<StaleUpload> staleUploads(String prefix, java.time.Instant startedBefore, boolean abort) throws IOException {
        List<StaleUpload> found = new ArrayList<>();
        for (Member m : healthy()) {
            try {
                found.addAll(m.storage().staleUploads(prefix, startedBefore, abort));
            } catch (IOException | RuntimeException e) {
                fail(m, e);
            }
        }
        return found;
    }

    @Override
    public int removeAbandonedWrites(String prefix, java.time.Duration idle) throws IOException {
        int n = 0;
        for (Member m : healthy()) {
            try {
                n += m.storage().removeAbandonedWrites(prefix, idle);
            } catch (IOException | RuntimeException e) {
                fail(m, e);
            }
        }
        return n;
    }

    /** Probes every member; fails only when none is usable (writes check their own minimum). */
    @Override
    public void probe() throws IOException {
        Exception first = null;
        for (Member m : healthy()) {
            try {
                m.storage().probe();
            } catch (IOException | RuntimeException e) {
                first = first == null ? e : first;
                fail(m, e);
            }
        }
        if (healthy().isEmpty()) {
            throw storageError("be reached", first);
        }
    }

    @Override
    public boolean atomicCommit() {
        return members.stream().allMatch(m -> m.storage().atomicCommit());
    }

    private LifeboatException storageError(String what, Exception cause) {
        if (cause instanceof LifeboatException le && members.size() == 1) {
            return le;
        }
        return new LifeboatException(ErrorKind.STORAGE, "no repository could " + what + ": " + describeFailures(),
                "bring one of the repositories back", cause);
    }

    @Override
    public void close() {
        members.forEach(m -> m.storage().close());
    }
}
