package io.lifeboat.agent.http.dashboard;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.function.DoubleFunction;

/**
 * Small inline SVG charts over the last 30 days (a bar per point at its time, or a line), with the
 * largest value on the axis and every point's exact value in its tooltip. Hand-written: a charting
 * library would be more code to ship than the charts themselves.
 */
final class Charts {
    private static final int W = 480;
    private static final int H = 130;
    private static final int L = 56;
    private static final int B = 20;

    private Charts() {
    }

    static String bars(String id, String title, List<DashboardModel.Point> points, Instant from, Instant to,
                       DoubleFunction<String> format, boolean line) {
        Html h = new Html();
        h.open("figure", "class", "chart", "id", id);
        h.el("figcaption", null, title);
        h.open("svg", "viewBox", "0 0 " + W + " " + H, "role", "img", "aria-label", title);
        double max = points.stream().mapToDouble(DashboardModel.Point::value).max().orElse(0);
        double top = max <= 0 ? 1 : max;
        h.open("line", "class", "axis", "x1", Integer.toString(L), "x2", Integer.toString(W - 4), "y1",
                Integer.toString(H - B), "y2", Integer.toString(H - B)).close("line");
        h.open("text", "class", "tick y", "x", Integer.toString(L - 4), "y", "14").text(format.apply(max)).close("text");
        h.open("text", "class", "tick y", "x", Integer.toString(L - 4), "y", Integer.toString(H - B)).text("0").close("text");
        h.open("text", "class", "tick", "x", Integer.toString(L), "y", Integer.toString(H - 4)).text(Format.time(from))
                .close("text");
        h.open("text", "class", "tick end", "x", Integer.toString(W - 4), "y", Integer.toString(H - 4)).text(Format.time(to))
                .close("text");
        if (points.isEmpty()) {
            h.open("text", "class", "none", "x", Integer.toString(L + 10), "y", Integer.toString(H / 2)).text("nothing in the "
                    + "last 30 days").close("text");
        }
        StringBuilder poly = new StringBuilder();
        for (DashboardModel.Point p : points) {
            double x = x(p.time(), from, to);
            double y = (H - B) - (H - B - 10) * (p.value() / top);
            if (line) {
                poly.append(n(x)).append(',').append(n(y)).append(' ');
            } else {
                h.open("rect", "class", "bar", "x", n(x - 1.5), "y", n(y), "width", "3", "height", n(H - B - y));
                h.open("title").text(Format.time(p.time()) + ": " + format.apply(p.value()) + " (" + p.label() + ")")
                        .close("title").close("rect");
            }
        }
        if (line && !points.isEmpty()) {
            h.open("polyline", "class", "line", "points", poly.toString().trim()).close("polyline");
        }
        h.close("svg").close("figure");
        return h.toString();
    }

    private static double x(Instant t, Instant from, Instant to) {
        double span = Math.max(1, Duration.between(from, to).toMillis());
        return L + (W - 4 - L) * (Duration.between(from, t).toMillis() / span);
    }

    private static String n(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }
}
