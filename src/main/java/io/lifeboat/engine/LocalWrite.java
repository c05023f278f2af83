package io.lifeboat.engine;

import io.lifeboat.ErrorKind;
import io.lifeboat.LifeboatException;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Path;

/**
 * Writing to local disk, where a failure is the local machine's (disk full, no permission):
 * RESOURCE naming the path, decided where the write fails, never taken for the repository's fault
 * or for damaged data.
 */
public final class LocalWrite {
    private LocalWrite() {
    }

    /** One step of writing to a local path. */
    public interface Step<T> {
        T run() throws IOException;
    }

    /** One step that returns nothing. */
    public interface Action {
        void run() throws IOException;
    }

    public static LifeboatException failed(Path path, IOException e) {
        String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        if (e instanceof AccessDeniedException) {
            why = "permission denied";
        }
        return new LifeboatException(ErrorKind.RESOURCE, "cannot write " + path + ": " + why,
                e instanceof AccessDeniedException ? "check the ownership and permissions of that directory"
                        : "free space on that filesystem, or restore elsewhere (the repository is not at fault)", e);
    }

    public static <T> T at(Path path, Step<T> step) {
        try {
            return step.run();
        } catch (IOException e) {
            throw failed(path, e);
        }
    }

    public static void run(Path path, Action action) {
        try {
            action.run();
        } catch (IOException e) {
            throw failed(path, e);
        }
    }

    /** {@code out} (which writes to {@code path}) with its failures reported as RESOURCE naming the path. */
    public static OutputStream guard(Path path, OutputStream out) {
        return new Guarded(out, e -> failed(path, e));
    }

    /** A sink whose failures are local ones, described by {@code failure}. */
    static OutputStream guard(OutputStream out, java.util.function.Function<IOException, LifeboatException> failure) {
        return out instanceof Guarded ? out : new Guarded(out, failure);
    }

    private static final class Guarded extends FilterOutputStream {
        private final java.util.function.Function<IOException, LifeboatException> failure;

        Guarded(OutputStream out, java.util.function.Function<IOException, LifeboatException> failure) {
            super(out);
            this.failure = failure;
        }

        @Override
        public void write(int b) {
            try {
                out.write(b);
            } catch (IOException e) {
                throw failure.apply(e);
            }
        }

        @Override
        public void write(byte[] b, int off, int len) {
            try {
                out.write(b, off, len);
            } catch (IOException e) {
                throw failure.apply(e);
            }
        }

        @Override
        public void flush() {
            try {
                out.flush();
            } catch (IOException e) {
                throw failure.apply(e);
            }
        }

        @Override
        public void close() {
            try {
                out.close();
            } catch (IOException e) {
                throw failure.apply(e);
            }
        }
    }
}
