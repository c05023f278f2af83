package io.lifeboat.storage;

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
