package io.lifeboat.storage;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MemoryStorageTest extends StorageContract {
    private MemoryStorage memory;

    @Override
    protected Storage open() {
        memory = new MemoryStorage();
        memory.retryFor(RETRY);
        return memory;
    }

    @Override
    protected Faults faults() {
        return faultsOf(memory);
    }

    @Test
    void aResumedReadOfAReplacedObjectFailsRatherThanSplice() throws Exception {
        memory.put("v/obj", bytes(big(), 1));
        memory.cutReads(1, 5000);
        try (var in = memory.read("v/obj")) {
            in.readNBytes(1000);
            memory.put("v/obj", bytes(big(), 2));
            assertThatThrownBy(in::readAllBytes).isInstanceOfSatisfying(LifeboatException.class, e -> {
                assertThat(e.kind()).isEqualTo(ErrorKind.STORAGE);
                assertThat(e.getMessage()).contains("v/obj", "changed while it was being read");
            });
        }
    }

    /** The memory storage's test hooks as the contract's faults: reads break a third of the way in. */
    static Faults faultsOf(MemoryStorage... members) {
        return new Faults() {
            @Override
            public void cutReads(int times) {
                for (MemoryStorage m : members) {
                    m.cutReads(times, 1_000_000);
                }
            }

            @Override
            public void failReads(int times) {
                for (MemoryStorage m : members) {
                    m.cutReads(times, 0);
                }
            }

            @Override
            public boolean invalidListings(int times) {
                for (MemoryStorage m : members) {
                    m.failListings(times);
                }
                return true;
            }

            @Override
            public void clear() {
                for (MemoryStorage m : members) {
                    m.cutReads(0, 0);
                    m.failListings(0);
                }
            }
        };
    }
}
