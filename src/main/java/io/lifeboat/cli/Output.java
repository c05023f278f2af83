package io.lifeboat.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.lifeboat.catalog.Json;
import io.lifeboat.engine.Progress;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.io.PrintStream;

/**
 * Where a command's results go: human text on stdout by default, one JSON document with --json.
 * Messages and warnings go to stderr so that stdout stays parseable.
 */
public final class Output {
    private final boolean json;
    private final PrintStream out;
    private final PrintStream err;
    private final JsonDocument document;

    public Output(boolean json, PrintStream out, PrintStream err) {
        this(json, out, err, null);
    }

    /** @param document where the result goes with --json, printed once when the run ends; null: print it now */
    Output(boolean json, PrintStream out, PrintStream err, JsonDocument document) {
        this.json = json;
        this.out = out;
        this.err = err;
        this.document = document;
    }

    public boolean json() {
        return json;
    }

    public void info(String message) {
        if (!json) {
            err.println(message);
        }
    }

    /** Messages from the engine: warnings always reach stderr (also with --json), the rest only in text mode. */
    public void log(String message) {
        if (message.startsWith("warning:")) {
            warn(message);
        } else {
            info(message);
        }
    }

    public void warn(String message) {
        err.println(message.startsWith("WARNING") || message.startsWith("warning") ? message : "warning: " + message);
    }

    public void text(String line) {
        if (!json) {
            out.println(line);
        }
    }

    public void result(Object value) {
        if (json && document != null) {
            document.result(value);
        } else if (json) {
            try {
                out.println(Json.MAPPER.writeValueAsString(value));
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    /** A progress bar on a terminal; nothing when output is redirected or JSON. */
    public Progress progress() {
        if (json || System.console() == null) {
            return Progress.NONE;
        }
        return new Progress() {
            private ProgressBar bar;

            @Override
            public synchronized void start(String task, long totalBytes) {
                bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(totalBytes).setUnit(" MiB", 1 << 20)
                        .setStyle(ProgressBarStyle.ASCII).showSpeed().setConsumer(
                                new me.tongfei.progressbar.ConsoleProgressBarConsumer(err)).build();
            }

            @Override
            public synchronized void advance(long bytes) {
                if (bar != null) {
                    bar.stepBy(bytes);
                }
            }

            @Override
            public synchronized void finish() {
                if (bar != null) {
                    // Totals are estimates (database size vs dump size): end the bar at what was done.
                    bar.maxHint(bar.getCurrent());
                    bar.close();
                    bar = null;
                }
            }
        };
    }
}
