package io.lifeboat.agent.http.dashboard;

import io.lifeboat.engine.plan.RecoverabilityTimeline;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;

/**
 * The recoverability timeline as inline SVG: the restorable windows on top, drills as proof points,
 * one lane per timeline with its archived WAL as a green band, gaps in red and the streamed
 * partial segment, backups as marks (physical on their timeline's lane, logical on their own row),
 * and a UTC time axis. Every element carries a tooltip (title) with exact times; a click on the
 * plot opens the planner at that moment (dashboard.js reads data-from/data-to).
 */
final class TimelineSvg {
    static final int WIDTH = 1000;
    static final int LEFT = 90;
    static final int RIGHT = 16;
    private static final int LANE = 40;
    private static final DateTimeFormatter TICK = DateTimeFormatter.ofPattern("MM-dd HH:mm").withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter TICK_SECONDS = DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZoneOffset.UTC);

    private final Instant from;
    private final Instant to;

    private TimelineSvg(Instant from, Instant to) {
        this.from = from;
        this.to = to;
    }

    static String render(RecoverabilityTimeline.Timeline tl, Instant now, String planUrl) {
        Instant start = tl.from() == null ? now.minus(Duration.ofDays(1)) : tl.from();
        Instant end = now.isAfter(start) ? now : start.plusSeconds(60);
        long pad = Math.max(1000, Duration.between(start, end).toMillis() / 50);
        TimelineSvg t = new TimelineSvg(start.minusMillis(pad), end.plusMillis(pad));
        return t.svg(tl, now, planUrl);
    }

    private double x(Instant t) {
        double span = Math.max(1, Duration.between(from, to).toMillis());
        return LEFT + (WIDTH - LEFT - RIGHT) * (Duration.between(from, t).toMillis() / span);
    }

    private static String n(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }

    private String svg(RecoverabilityTimeline.Timeline tl, Instant now, String planUrl) {
        List<RecoverabilityTimeline.Lane> lanes = tl.lanes();
        boolean logical = tl.backups().stream().anyMatch(b -> !b.type().equals("physical"));
        int lanesTop = 70;
        int logicalY = lanesTop + Math.max(1, lanes.size()) * LANE;
        int axisY = logicalY + (logical ? LANE : 0) + 6;
        int height = axisY + 34;
        Html h = new Html();
        h.open("svg", "class", "timeline", "id", "timeline", "viewBox", "0 0 " + WIDTH + " " + height, "role", "img",
                "aria-label", "recoverability timeline", "data-from", Long.toString(from.toEpochMilli()), "data-to",
                Long.toString(to.toEpochMilli()), "data-left", Integer.toString(LEFT), "data-right",
                Integer.toString(RIGHT), "data-width", Integer.toString(WIDTH), "data-plan", planUrl);
        h.open("rect", "class", "plot", "x", Integer.toString(LEFT), "y", "4", "width", Integer.toString(WIDTH - LEFT - RIGHT),
                "height", Integer.toString(axisY - 4)).close("rect");
        // restorable windows
        label(h, "restorable", 24);
        if (tl.windows().isEmpty()) {
            h.open("text", "class", "none", "x", Integer.toString(LEFT + 8), "y", "28").text("no moment can be restored to")
                    .close("text");
        }
        for (RecoverabilityTimeline.Window w : tl.windows()) {
            rect(h, "window", w.from(), w.to(), 14, 14, "restorable from " + Format.time(w.from()) + " to "
                    + Format.time(w.to()) + " (from backup " + w.fromBackup() + "; ends at " + w.endsAt() + ")", null);
        }
        // drills
        label(h, "drills", 52);
        for (RecoverabilityTimeline.DrillMark d : tl.drills()) {
            h.open("circle", "class", d.ok() ? "drill ok" : "drill failed", "cx", n(x(d.time())), "cy", "48", "r", "6",
                    "data-backup", d.backup());
            h.open("title").text("drill of " + d.backup() + " at " + Format.time(d.time()) + ": " + (d.ok() ? "ok" : "FAILED")
                    + ", restored in " + Format.seconds(d.seconds()) + (d.target() == null ? ", to the end of the archive"
                    : ", to " + d.target()) + (d.ok() ? "" : " — " + String.join("; ", d.problems()))).close("title");
            h.close("circle");
        }
        for (int i = 0; i < lanes.size(); i++) {
            RecoverabilityTimeline.Lane lane = lanes.get(i);
            int y = lanesTop + i * LANE;
            label(h, "timeline " + lane.timeline(), y + 14);
            for (RecoverabilityTimeline.Band b : lane.bands()) {
                rect(h, "wal", b.from(), b.to(), y + 4, 14, "archived WAL " + b.first() + (b.segments() > 1 ? ".." + b.last()
                        : "") + " (" + b.segments() + " segment" + (b.segments() == 1 ? "" : "s") + ", " + Format.bytes(
                        b.storedBytes()) + " stored), stored " + Format.time(b.from()) + " to " + Format.time(b.to()), null);
            }
            if (lane.partial() != null) {
                rect(h, "partial", lane.partialStored(), lane.partialStored(), y + 4, 14, "partial segment " + lane.partial()
                        + " streamed by the agent, stored " + Format.time(lane.partialStored()), null);
            }
            for (RecoverabilityTimeline.Gap g : lane.gaps()) {
                Instant a = g.after() == null ? from : g.after();
                Instant b = g.before() == null ? now : g.before();
                rect(h, "gap", a, b, y + 1, 20, g.reason() + " " + g.first() + (g.segments() > 1 ? ".." + g.last() : "") + " ("
                        + g.segments() + " segment" + (g.segments() == 1 ? "" : "s") + ") between WAL stored "
                        + Format.time(g.after()) + " and " + Format.time(g.before()) + ": " + g.cost(), g);
            }
            for (RecoverabilityTimeline.BackupMark m : tl.backups()) {
                if (m.type().equals("physical") && m.timeline() != null && m.timeline() == lane.timeline()) {
                    mark(h, m, y);
                }
            }
        }
        if (logical) {
            label(h, "logical", logicalY + 14);
            for (RecoverabilityTimeline.BackupMark m : tl.backups()) {
                if (!m.type().equals("physical")) {
                    mark(h, m, logicalY);
                }
            }
        }
        // now
        h.open("line", "class", "now", "x1", n(x(now)), "x2", n(x(now)), "y1", "4", "y2", Integer.toString(axisY)).close("line");
        axis(h, axisY);
        h.close("svg");
        return h.toString();
    }

    private void label(Html h, String text, int y) {
        h.open("text", "class", "lane", "x", Integer.toString(LEFT - 6), "y", Integer.toString(y)).text(text).close("text");
    }

    private void rect(Html h, String cls, Instant a, Instant b, int y, int height, String title, RecoverabilityTimeline.Gap gap) {
        double x1 = x(a);
        double w = Math.max(3, x(b) - x1);
        h.open("rect", "class", cls, "x", n(x1), "y", Integer.toString(y), "width", n(w), "height", Integer.toString(height),
                "data-first", gap == null ? null : gap.first(), "data-last", gap == null ? null : gap.last());
        h.open("title").text(title).close("title").close("rect");
    }

    private void mark(Html h, RecoverabilityTimeline.BackupMark m, int y) {
        double xs = x(m.stop());
        String cls = "backup " + m.type() + (m.parent() != null ? " incremental" : "") + (m.damaged() ? " damaged" : "");
        h.open("g", "class", cls, "data-id", m.id());
        h.open("line", "x1", n(xs), "x2", n(xs), "y1", Integer.toString(y - 2), "y2", Integer.toString(y + 24)).close("line");
        h.open("path", "d", "M" + n(xs - 6) + " " + (y - 4) + " L" + n(xs + 6) + " " + (y - 4) + " L" + n(xs) + " " + (y + 4) + " Z")
                .close("path");
        h.open("title").text(m.type() + " backup " + m.id() + ": " + Format.time(m.start()) + " to " + Format.time(m.stop())
                + " (" + Format.seconds(m.seconds()) + "), " + Format.bytes(m.storedBytes()) + " stored"
                + (m.parent() == null ? "" : ", incremental of " + m.parent() + " (chain of " + m.chain() + ")") + (m.damaged() ? " — DAMAGED: " + String.join("; ",
                m.problems()) : "")).close("title");
        h.close("g");
    }

    private void axis(Html h, int y) {
        h.open("line", "class", "axis", "x1", Integer.toString(LEFT), "x2", Integer.toString(WIDTH - RIGHT), "y1",
                Integer.toString(y), "y2", Integer.toString(y)).close("line");
        long span = Duration.between(from, to).toMillis();
        int ticks = 6;
        for (int i = 0; i <= ticks; i++) {
            Instant t = from.plusMillis(span * i / ticks);
            double xt = x(t);
            h.open("line", "class", "tick", "x1", n(xt), "x2", n(xt), "y1", Integer.toString(y), "y2",
                    Integer.toString(y + 5)).close("line");
            h.open("text", "class", i == 0 ? "tick first" : i == ticks ? "tick last" : "tick", "x", n(xt), "y",
                    Integer.toString(y + 18)).text(
                    (span < 6 * 3600_000L ? TICK_SECONDS : TICK).format(t)).close("text");
        }
        h.open("text", "class", "zone", "x", Integer.toString(LEFT - 10), "y", Integer.toString(y + 18)).text("UTC")
                .close("text");
    }
}
