package io.lifeboat.storage;

class MemoryStorageTest extends StorageContract {
    @Override
    protected Storage open() {
        return new MemoryStorage();
    }
}
