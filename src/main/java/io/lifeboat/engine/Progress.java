package io.lifeboat.engine;

/**
 * Progress of a long task in bytes. The CLI shows a bar on a terminal; everything else passes
 * {@link #NONE}. Implementations must be thread-safe (parallel transfers report concurrently).
 */
public interface Progress {
    void start(String task, long totalBytes);

    void advance(long bytes);

    void finish();

    Progress NONE = new Progress() {
        @Override
        public void start(String task, long totalBytes) {
        }

        @Override
        public void advance(long bytes) {
        }

        @Override
        public void finish() {
        }
    };
}
