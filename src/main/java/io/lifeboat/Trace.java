package io.lifeboat;

import java.lang.management.ManagementFactory;

/** Start-up and phase timings on stderr when LIFEBOAT_TRACE is set; for finding where time goes. */
public final class Trace {
    private static final boolean ON = System.getenv("LIFEBOAT_TRACE") != null;

    private Trace() {
    }

    public static void mark(String what) {
        if (ON) {
            long ms = System.currentTimeMillis() - ManagementFactory.getRuntimeMXBean().getStartTime();
            long cpu = ProcessHandle.current().info().totalCpuDuration().map(java.time.Duration::toMillis).orElse(-1L);
            System.err.printf("trace %6d ms  (cpu %6d ms)  %s%n", ms, cpu, what);
        }
    }
}
