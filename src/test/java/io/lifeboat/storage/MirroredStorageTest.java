package io.lifeboat.storage;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MirroredStorageTest {
    /** Two memory repositories behind one mirror pass the same contract as every driver. */
    @Nested
    class Contract extends StorageContract {
        private final MemoryStorage[] members = {new MemoryStorage(), new MemoryStorage()};

        @Override
        protected Storage open() {
            for (MemoryStorage m : members) {
                m.retryFor(RETRY);
            }
            return new MirroredStorage(List.of(new MirroredStorage.Member("a", members[0]),
                    new MirroredStorage.Member("b", members[1])), 2, w -> { });
        }

        @Override
        protected Faults faults() {
            return MemoryStorageTest.faultsOf(members);
        }

        @Override
        protected String where() {
            return members[0].describe();
        }
    }

    /** A repository that can be switched off, as an unreachable server would answer. */
    static final class Switchable implements Storage {
        final MemoryStorage inner = new MemoryStorage();
        volatile boolean down;

        private void check() {
            if (down) {
                throw new LifeboatException(ErrorKind.STORAGE, "connection refused", "test");
            }
        }

        @Override
        public String describe() {
            return "switchable";
        }

        @Override
        public ObjectWriter create(String key) throws IOException {
            check();
            ObjectWriter w = inner.create(key);
            return new ObjectWriter() {
                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    check();
                    w.write(b, off, len);
                }

                @Override
                public void write(int b) throws IOException {
                    check();
                    w.write(b);
                }

                @Override
                public long commit() throws IOException {
                    check();
                    return w.commit();
                }

                @Override
                public void abort() {
                    w.abort();
                }
            };
        }

        @Override
        public InputStream read(String key, long offset) throws IOException {
            check();
            return inner.read(key, offset);
        }

        @Override
        public Optional<ObjectInfo> stat(String key) throws IOException {
            check();
            return inner.stat(key);
        }

        @Override
        public List<ObjectInfo> list(String prefix) throws IOException {
            check();
            return inner.list(prefix);
        }

        @Override
        public void delete(String key) throws IOException {
            check();
            inner.delete(key);
        }

        @Override
        public void probe() {
            check();
        }
    }

    private final Switchable a = new Switchable();
    private final Switchable b = new Switchable();
    private final List<String> warnings = new ArrayList<>();

    private MirroredStorage mirror(int required) {
        return new MirroredStorage(List.of(new MirroredStorage.Member("s3", a), new MirroredStorage.Member("sftp", b)),
                required, warnings::add);
    }

    @Test
    void writesGoToEveryRepository() throws IOException {
        MirroredStorage m = mirror(2);
        m.put("k", new byte[]{1, 2});
        assertThat(a.inner.get("k")).containsExactly(1, 2);
        assertThat(b.inner.get("k")).containsExactly(1, 2);
        assertThat(warnings).isEmpty();
    }

    @Test
    void aRepositoryDownFailsWritesThatNeedItNamingIt() throws IOException {
        b.down = true;
        MirroredStorage m = mirror(2);
        assertThatThrownBy(() -> m.put("k", new byte[]{1}))
                .isInstanceOfSatisfying(LifeboatException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.STORAGE);
                    assertThat(e.getMessage()).contains("1 of 2", "'sftp'", "connection refused");
                });
        assertThat(a.inner.list("")).isEmpty(); // not committed anywhere
        assertThat(warnings).singleElement().asString().contains("'sftp'");
    }

    @Test
    void withAMinimumOfOneTheOtherRepositoryCarriesOnAndTheFailureIsReported() throws IOException {
        MirroredStorage m = mirror(1);
        m.put("before", new byte[]{0});
        try (ObjectWriter w = m.create("k")) {
            w.write(new byte[]{1});
            a.down = true; // fails half way through the object
            w.write(new byte[]{2});
            w.commit();
        }
        a.down = false;
        assertThat(b.inner.get("k")).containsExactly(1, 2);
        assertThat(a.inner.stat("k")).isEmpty();
        assertThat(m.healthy()).extracting(MirroredStorage.Member::name).containsExactly("sftp");
        // left out for the rest of the run, even though it came back: a manifest must not land where objects did not
        m.put("manifest", new byte[]{9});
        assertThat(a.inner.stat("manifest")).isEmpty();
        assertThat(warnings).singleElement().asString().contains("'s3'");
    }

    @Test
    void readsComeFromTheFirstRepositoryThatHasTheObject() throws IOException {
        MirroredStorage m = mirror(2);
        b.inner.put("only-b", new byte[]{7});
        a.inner.put("both", new byte[]{1});
        b.inner.put("both", new byte[]{2});
        assertThat(m.get("both")).containsExactly(1);
        assertThat(m.get("only-b")).containsExactly(7);
        assertThat(m.list("")).extracting(ObjectInfo::key).containsExactly("both", "only-b");
        a.down = true;
        assertThat(m.get("both")).containsExactly(2); // reads need one repository, whatever the minimum for writes
        assertThatThrownBy(() -> m.get("absent")).isInstanceOfSatisfying(LifeboatException.class,
                e -> assertThat(e.kind()).isEqualTo(ErrorKind.NOT_FOUND));
        b.down = true;
        assertThatThrownBy(() -> m.get("both")).isInstanceOfSatisfying(LifeboatException.class, e -> {
            assertThat(e.kind()).isEqualTo(ErrorKind.STORAGE);
            assertThat(e.getMessage()).contains("'s3'", "'sftp'");
        });
    }

    /**
     * With min-repositories 1 of 2 an object may be in one repository only: while the other is
     * down, "not there" cannot be proven, so it is a STORAGE error; with 2 of 2, one answer is proof.
     */
    @Test
    void notFoundNeedsEnoughAnswers() throws IOException {
        a.inner.put("k", new byte[] {1});
        MirroredStorage loose = mirror(1);
        b.down = true;
        assertThat(loose.get("k")).containsExactly(1);
        for (org.assertj.core.api.ThrowableAssert.ThrowingCallable c : List.<org.assertj.core.api.ThrowableAssert
                .ThrowingCallable>of(() -> loose.read("absent").close(), () -> loose.stat("absent"), () -> loose.list(""))) {
            assertThatThrownBy(c).isInstanceOfSatisfying(LifeboatException.class, e -> {
                assertThat(e.kind()).isEqualTo(ErrorKind.STORAGE);
                assertThat(e.getMessage()).contains("only 1 of 2 repositories answered", "'sftp'");
            });
        }
        // what a backup needs to choose a free id: the repositories it writes to, not proof of what others hold
        assertThat(loose.listWritable("")).extracting(ObjectInfo::key).containsExactly("k");
        b.down = false;
        MirroredStorage strict = mirror(2);
        b.down = true;
        assertThat(strict.stat("absent")).isEmpty();
        assertThat(strict.list("")).extracting(ObjectInfo::key).containsExactly("k");
        assertThatThrownBy(() -> strict.read("absent").close()).isInstanceOfSatisfying(LifeboatException.class,
                e -> assertThat(e.kind()).isEqualTo(ErrorKind.NOT_FOUND));
        b.down = false;
        MirroredStorage both = mirror(1);
        assertThat(both.stat("absent")).as("both answered").isEmpty();
        assertThat(both.list("")).extracting(ObjectInfo::key).containsExactly("k");
    }
}
