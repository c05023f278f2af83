package io.lifeboat.agent.http.dashboard;

import io.lifeboat.agent.ProblemBoard;
import io.lifeboat.engine.plan.RecoverabilityTimeline;
import io.lifeboat.engine.plan.RepositorySnapshot;
import io.lifeboat.engine.plan.RestorePlan;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The dashboard's pages, rendered on the server from the same records the API returns. No inline
 * script or style (the Content-Security-Policy forbids them): dashboard.js polls the page for live
 * updates, turns a click on the timeline into a planner link and runs the drill button.
 */
final class Pages {
    private Pages() {
    }

    private static Html page(String title, String crumbs, int refreshSeconds) {
        Html h = new Html();
        h.raw("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">")
                .raw("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
                .open("title").text(title + " — Lifeboat").close("title")
                .raw("<link rel=\"stylesheet\" href=\"/static/dashboard.css\">")
                .raw("<script src=\"/static/dashboard.js\" defer></script></head>");
        h.open("body", "data-refresh", refreshSeconds > 0 ? Integer.toString(refreshSeconds) : null);
        h.raw("<header><a class=\"home\" href=\"/\">Lifeboat</a>").raw(crumbs)
                .open("span", "class", "generated", "id", "generated").text("as of " + Format.time(Instant.now()))
                .close("span").raw("</header>");
        return h;
    }

    private static String end(Html h) {
        return h.raw("</body></html>").toString();
    }

    private static String badge(String state) {
        return "<span class=\"badge state-" + Html.esc(state) + "\">" + Html.esc(state) + "</span>";
    }

    private static String clusterUrl(String name) {
        return "/clusters/" + Html.url(name);
    }

    // ---------------------------------------------------------------- fleet

    static String fleet(DashboardModel.Fleet fleet) {
        Html h = page("Fleet", "<span class=\"crumb\">fleet</span>", 10);
        h.raw("<main id=\"live\">");
        h.el("h1", null, "Clusters");
        h.raw("<table class=\"fleet\" id=\"fleet\">").headers("cluster", "state", "point-in-time recovery window",
                "stream / archive", "newest backups", "last drill", "repositories");
        for (DashboardModel.FleetRow r : fleet.clusters()) {
            Instant now = fleet.generated();
            h.open("tr", "class", "cluster state-" + r.state(), "data-cluster", r.name(), "data-state", r.state());
            h.raw("<td class=\"name\">").open("a", "href", clusterUrl(r.name())).text(r.name()).close("a").raw("</td>");
            h.raw("<td class=\"state\">").raw(badge(r.state())).raw("<ul class=\"reasons\">");
            for (String reason : r.reasons()) {
                h.el("li", null, reason);
            }
            h.raw("</ul>");
            running(h, r.running());
            h.raw("</td>");
            h.raw("<td class=\"pitr\">");
            if (r.pitr() == null || r.pitr().oldest() == null) {
                h.el("span", "none", "none");
            } else {
                h.text(Format.time(r.pitr().oldest())).raw(" →<br>").text(Format.time(r.pitr().newest()));
                if (r.pitr().windows() > 1) {
                    h.raw("<br>").el("span", "warn", (r.pitr().windows() - 1) + " hole(s): see the timeline");
                }
            }
            h.raw("</td><td class=\"stream\">");
            stream(h, r, now);
            h.raw("</td><td class=\"backups\">");
            for (var e : r.newestBackups().entrySet()) {
                h.raw("<div>").el("b", null, e.getKey()).text(" " + Format.age(e.getValue().end(), now) + " ago")
                        .raw("<br>").el("small", null, e.getValue().id() + ", " + Format.bytes(e.getValue().storedBytes())
                        + ", took " + Format.seconds(e.getValue().seconds())).raw("</div>");
            }
            if (r.newestBackups().isEmpty()) {
                h.el("span", "none", "none");
            }
            h.raw("</td><td class=\"drill\">");
            drillCell(h, r.lastDrill());
            h.raw("</td><td class=\"repositories\">");
            for (RepositorySnapshot.Usage u : r.repositories()) {
                h.raw("<div>").el("b", null, u.name()).text(": ");
                if (u.error() != null) {
                    h.el("span", "bad", "unreadable: " + u.error());
                } else {
                    h.text(Format.bytes(u.totalBytes())).raw("<br>").el("small", null, "backups " + Format.bytes(
                            u.backupBytes()) + ", WAL " + Format.bytes(u.walBytes()) + ", " + u.objects() + " objects");
                }
                h.raw("<br>").el("small", "location", u.location()).raw("</div>");
            }
            h.raw("</td></tr>");
        }
        h.raw("</table>");
        h.el("p", "hint", "Times are UTC. Refreshed every 10 s; the repositories are re-read every "
                + Dashboard.REFRESH.toSeconds() + " s.");
        h.raw("</main>");
        return end(h);
    }

    private static void stream(Html h, DashboardModel.FleetRow r, Instant now) {
        if (r.stream() != null) {
            DashboardModel.Stream s = r.stream();
            h.el("span", s.state().equals("streaming") ? "good" : "bad", s.state()).text(" (timeline " + s.timeline()
                    + (s.synchronous() ? ", synchronous" : "") + ")").raw("<br>").el("small", null, "lag " + Format.bytes(
                    s.lagBytes()) + ", " + Format.seconds(s.lagSeconds()) + "; slot holds " + Format.bytes(s.retainedBytes()));
            if (s.lastError() != null) {
                h.raw("<br>").el("small", "bad", s.lastError());
            }
        } else {
            h.text("archive_command");
        }
        if (r.newestWal() != null) {
            h.raw("<br>").el("small", null, "newest WAL stored " + Format.age(r.newestWal(), now) + " ago ("
                    + Format.time(r.newestWal()) + ")");
        } else {
            h.raw("<br>").el("small", "none", "no WAL archived");
        }
    }

    private static void drillCell(Html h, DashboardModel.Drill d) {
        if (d == null) {
            h.el("span", "warn", "never drilled");
            return;
        }
        h.el("span", d.ok() ? "good" : "bad", d.ok() ? "ok" : "FAILED").text(" " + Format.time(d.time())).raw("<br>")
                .el("small", null, "restore took " + Format.seconds(d.seconds()) + " (" + d.backup()
                        + (d.target() == null ? ", to the end of the archive" : ", to " + d.target()) + ")");
        for (String p : d.problems()) {
            h.raw("<br>").el("small", "bad", p);
        }
    }

    // ---------------------------------------------------------------- cluster

    static String cluster(DashboardModel.Cluster c, Instant now) {
        String name = c.summary().name();
        Html h = page(name, "<span class=\"crumb\">" + Html.esc(name) + "</span>", 10);
        h.raw("<main id=\"live\">");
        h.open("h1").text(name + " ").raw(badge(c.summary().state())).close("h1");
        h.raw("<ul class=\"reasons\" id=\"reasons\">");
        c.summary().reasons().forEach(r -> h.el("li", null, r));
        h.raw("</ul>");
        if (!c.problems().isEmpty()) {
            h.el("h2", null, "Open problems");
            h.raw("<table class=\"problems\">").headers("problem", "since", "message");
            for (ProblemBoard.Problem p : c.problems()) {
                h.row(p.key(), Format.time(p.since()), p.message());
            }
            h.raw("</table>");
        }
        h.el("h2", null, "Recoverable window");
        RecoverabilityTimeline.Timeline tl = c.timeline();
        if (tl == null) {
            h.el("p", "bad", "the repository cannot be read: " + String.join("; ", c.summary().reasons()));
        } else {
            h.raw("<div class=\"timeline-box\">").raw(TimelineSvg.render(tl, now, clusterUrl(name) + "/plan")).raw("</div>");
            h.el("p", "hint", "Click the timeline to plan a restore to that moment. Green: archived WAL (by when each "
                    + "segment was stored); red: WAL recovery cannot read; triangles: backups; dots: drills.");
            h.raw("<table class=\"windows\" id=\"windows\">").headers("restorable from", "to", "starting from backup",
                    "ends at");
            for (RecoverabilityTimeline.Window w : tl.windows()) {
                h.row(Format.time(w.from()), Format.time(w.to()), w.fromBackup(), w.endsAt());
            }
            h.raw("</table>");
            List<RecoverabilityTimeline.Gap> gaps = tl.lanes().stream().flatMap(l -> l.gaps().stream()).toList();
            if (!gaps.isEmpty()) {
                h.el("h3", "bad", "WAL gaps");
                h.raw("<table class=\"gaps\" id=\"gaps\">").headers("missing", "segments", "after WAL stored",
                        "before WAL stored", "what it costs");
                for (RecoverabilityTimeline.Gap g : gaps) {
                    h.open("tr", "class", "gap", "data-first", g.first());
                    h.raw("<td>").text(g.reason() + " " + g.first() + (g.segments() > 1 ? ".." + g.last() : "")).raw("</td>");
                    h.raw("<td>").text(g.segments()).raw("</td><td>").text(Format.time(g.after())).raw("</td><td>")
                            .text(Format.time(g.before())).raw("</td><td>").text(g.cost()).raw("</td></tr>");
                }
                h.raw("</table>");
            }
        }
        h.raw("<p>").open("a", "class", "button", "href", clusterUrl(name) + "/plan").text("Plan a restore").close("a")
                .raw("</p>");
        backups(h, c);
        jobs(h, c, now);
        h.el("h2", null, "Last 30 days");
        DashboardModel.Charts ch = c.charts();
        h.raw("<div class=\"charts\">");
        h.raw(Charts.bars("chart-backup-seconds", "backup duration", ch.backupSeconds(), ch.from(), ch.to(),
                Format::seconds, false));
        h.raw(Charts.bars("chart-backup-bytes", "backup size (stored)", ch.backupBytes(), ch.from(), ch.to(),
                v -> Format.bytes((long) v), false));
        h.raw(Charts.bars("chart-wal", "WAL stored per hour", ch.walBytesPerHour(), ch.from(), ch.to(),
                v -> Format.bytes((long) v), false));
        h.raw(Charts.bars("chart-lag", "stream lag (sampled since the agent started)", ch.lagSeconds(), ch.from(),
                ch.to(), Format::seconds, true));
        h.raw(Charts.bars("chart-jobs", "scheduled job duration", ch.jobSeconds(), ch.from(), ch.to(), Format::seconds,
                false));
        h.raw("</div>");
        if (!c.notes().isEmpty()) {
            h.el("h2", null, "Notes");
            h.raw("<ul class=\"notes\">");
            c.notes().forEach(n -> h.el("li", null, n));
            h.raw("</ul>");
        }
        h.raw("</main>");
        return end(h);
    }

    private static void backups(Html h, DashboardModel.Cluster c) {
        h.el("h2", null, "Backups");
        h.raw("<table class=\"backups\" id=\"backups\">").headers("backup", "type", "started", "ended", "duration",
                "stored / raw", "chain", "encryption", "WAL", "repositories", "last drill");
        for (DashboardModel.BackupRow r : c.backups()) {
            RecoverabilityTimeline.BackupMark b = r.backup();
            h.open("tr", "data-id", b.id(), "class", b.damaged() ? "damaged" : null);
            h.raw("<td>").text(b.id()).raw("</td><td>").text(b.type()).raw("</td><td>").text(Format.time(b.start()))
                    .raw("</td><td>").text(Format.time(b.stop())).raw("</td><td>").text(Format.seconds(b.seconds()))
                    .raw("</td><td>").text(Format.bytes(b.storedBytes()) + " / " + Format.bytes(b.rawBytes()))
                    .raw("</td><td>").text(b.parent() == null ? "full" : "incremental of " + b.parent() + " (chain of " + b.chain() + ")")
                    .raw("</td><td>")
                    .text(b.encryption() == null || b.encryption().equals("none") ? "none" : b.encryption()).raw("</td><td>");
            if (b.type().equals("physical")) {
                if (b.damaged()) {
                    h.el("span", "bad", "DAMAGED");
                } else if (b.recoverableUntil() != null) {
                    h.text("recovers to " + Format.time(b.recoverableUntil()));
                }
                for (String p : b.problems()) {
                    h.raw("<br>").el("small", b.damaged() ? "bad" : "warn", p);
                }
            } else {
                h.text("—");
            }
            h.raw("</td><td>").text(String.join(", ", r.repositories())).raw("</td><td>");
            drillCell(h, r.lastDrill());
            h.raw("</td></tr>");
        }
        h.raw("</table>");
        if (!c.unfinished().isEmpty()) {
            h.el("h3", "warn", "Unfinished backups (never restored from; expire removes them)");
            h.raw("<table class=\"unfinished\">").headers("backup", "objects", "stored", "last written");
            for (DashboardModel.Unfinished u : c.unfinished()) {
                h.row(u.id(), u.objects(), Format.bytes(u.storedBytes()), Format.time(u.lastModified()));
            }
            h.raw("</table>");
        }
    }

    /** The scheduled job running now (the page polls itself, so its time counts up). */
    private static void running(Html h, DashboardModel.Running r) {
        if (r != null) {
            h.open("p", "class", "running", "id", "running").text("running now: " + r.kind() + " job, for "
                    + Format.seconds(r.seconds()) + " (started " + Format.time(r.since()) + ", scheduled for "
                    + Format.time(r.scheduled()) + ")").close("p");
        }
    }

    private static void jobs(Html h, DashboardModel.Cluster c, Instant now) {
        h.el("h2", null, "Scheduled jobs");
        running(h, c.summary().running());
        if (!c.nextRuns().isEmpty()) {
            h.raw("<p class=\"next\">next: ");
            boolean first = true;
            for (Map.Entry<String, Instant> e : c.nextRuns().entrySet()) {
                h.text((first ? "" : ", ") + e.getKey() + " " + Format.time(e.getValue()));
                first = false;
            }
            h.raw("</p>");
        }
        h.raw("<table class=\"jobs\" id=\"jobs\">").headers("job", "scheduled for", "started", "duration", "outcome",
                "what it did", "host");
        for (DashboardModel.Job j : c.jobs().subList(0, Math.min(100, c.jobs().size()))) {
            h.open("tr", "class", j.ok() ? "ok" : "failed");
            h.raw("<td>").text(j.kind()).raw("</td><td>").text(Format.time(j.scheduled())).raw("</td><td>")
                    .text(Format.time(j.started())).raw("</td><td>").text(Format.seconds(j.seconds())).raw("</td><td>")
                    .el("span", j.ok() ? "good" : "bad", j.ok() ? "ok" : "FAILED").raw("</td><td>").text(j.summary())
                    .raw("</td><td>").text(j.host()).raw("</td></tr>");
        }
        if (c.jobs().isEmpty()) {
            h.raw("<tr><td colspan=\"7\" class=\"none\">no scheduled run recorded yet</td></tr>");
        }
        h.raw("</table>");
    }

    // ---------------------------------------------------------------- planner

    /** The planner's form values, as given (for the form and the command). */
    record PlanForm(String kind, String value, String dataDirectory, String port) {
    }

    static String plan(String name, PlanForm form, RestorePlan plan, String error, boolean drillsEnabled,
                       boolean tokenRequired, DrillRunner.Run drill) {
        Html h = page("Restore planner — " + name, "<a class=\"crumb\" href=\"" + clusterUrl(name) + "\">"
                + Html.esc(name) + "</a><span class=\"crumb\">restore planner</span>", 0);
        h.raw("<div class=\"top\">").el("h1", null, "Restore planner: " + name);
        h.open("form", "class", "planner", "id", "planner", "method", "get", "action", clusterUrl(name) + "/plan");
        h.raw("<label>target <select name=\"kind\" id=\"kind\">");
        for (String k : List.of("time", "lsn", "xid", "name", "immediate")) {
            h.open("option", "value", k, "selected", k.equals(form.kind()) ? "selected" : null).text(k).close("option");
        }
        h.raw("</select></label>");
        h.raw("<label>moment ").open("input", "name", "value", "id", "value", "size", "36", "value", form.value(),
                "placeholder", "2026-11-24T22:05:12Z, 0/3000028, 7321, before-migration").raw("</label>");
        h.raw("<label>restore into ").open("input", "name", "dir", "id", "dir", "size", "30", "value",
                form.dataDirectory(), "placeholder", "a new, empty directory").raw("</label>");
        h.raw("<label>start on port ").open("input", "name", "port", "id", "port", "size", "6", "value", form.port(),
                "placeholder", "leave stopped").raw("</label>");
        h.raw("<button type=\"submit\" id=\"plan-button\">Plan</button></form>");
        h.el("p", "hint", "Times need a zone (UTC: ...Z). The plan uses what the repositories held at their last look.")
                .raw("</div>");
        h.raw("<main id=\"plan\">");
        if (error != null) {
            h.el("p", "bad error", error);
        }
        if (plan != null) {
            planBody(h, plan);
            h.raw("<section class=\"drill-panel\" id=\"drill-panel\">");
            h.el("h2", null, "Prove it: a restore drill to this moment");
            h.el("p", "hint", "A scratch restore of " + plan.backup().id() + " into a new temporary directory on this "
                    + "host, recovered to the target and checked (rows, amcheck), then removed. It never touches a "
                    + "production data directory. One drill at a time per cluster.");
            if (drillsEnabled) {
                h.open("button", "id", "drill-button", "class", "button", "type", "button", "data-url", "/api/clusters/"
                        + Html.url(name) + "/drills", "data-kind", plan.target().kind(), "data-value", plan.target().value(),
                        "data-token", tokenRequired ? "required" : "none").text("Start drill").close("button");
            } else {
                h.open("button", "id", "drill-button", "class", "button", "type", "button", "disabled", "disabled")
                        .text("Start drill").close("button");
                h.el("p", "warn", "Drills from the dashboard are off (read-only): set agent.http.drills: true in "
                        + "lifeboat.yml to allow them.");
            }
            h.open("div", "id", "drill-status", "data-status-url", "/api/clusters/" + Html.url(name) + "/drills/current");
            drillStatus(h, drill);
            h.close("div").raw("</section>");
        }
        h.raw("</main>");
        return end(h);
    }

    private static void planBody(Html h, RestorePlan p) {
        h.open("div", "class", "verdict " + (p.restorable() ? "good" : "bad"), "id", "restorable")
                .text(p.restorable() ? "Restorable: every object is in a repository" : "NOT restorable as planned")
                .close("div");
        if (!p.problems().isEmpty()) {
            h.raw("<ul class=\"problems bad\">");
            p.problems().forEach(x -> h.el("li", null, x));
            h.raw("</ul>");
        }
        h.raw("<table class=\"plan\" id=\"plan-table\">");
        h.raw("<tr><th>target</th><td id=\"plan-target\">").text(p.target().kind() + " " + p.target().value()
                + (p.target().time() == null ? "" : " (" + Format.time(p.target().time()) + ")")).raw("</td></tr>");
        RestorePlan.Backup b = p.backup();
        h.raw("<tr><th>backup</th><td id=\"plan-backup\">").text(b.id()).raw("</td></tr>");
        h.raw("<tr><th></th><td>").text("ended " + Format.time(b.stop()) + " at LSN " + b.stopLsn() + " on timeline "
                + b.timeline() + "; " + b.objects() + " objects, " + Format.bytes(b.storedBytes()) + " stored, "
                + Format.bytes(b.rawBytes()) + " of files" + (b.walIncluded() ? "; its own WAL is stored with it" : "")
                + (b.chain().isEmpty() ? "" : "; an incremental: the restore also reads " + String.join(", ", b.chain())
                + " (objects counted for the whole chain)")).raw("</td></tr>");
        RestorePlan.Wal w = p.wal();
        h.raw("<tr><th>WAL</th><td id=\"plan-wal\">");
        if (w.count() == 0) {
            h.text("none from the archive");
        } else {
            h.open("span", "id", "wal-first").text(w.first()).close("span").text(" .. ").open("span", "id", "wal-through")
                    .text(w.through()).close("span").text(" (" + w.count() + " segment" + (w.count() == 1 ? "" : "s") + ", "
                    + Format.bytes(w.storedBytes()) + " stored)" + (w.throughIsAtLeast() ? ", at least" : ""));
        }
        h.raw("<br>").el("small", null, w.basis());
        if (!w.missing().isEmpty()) {
            h.raw("<br>").el("span", "bad", "missing everywhere: " + String.join(", ", w.missing().subList(0,
                    Math.min(20, w.missing().size()))) + (w.missing().size() > 20 ? " …" : ""));
        }
        h.raw("</td></tr>");
        h.raw("<tr><th>expected time</th><td id=\"plan-estimate\">").text(p.estimate().seconds() == null ? "unknown"
                : "about " + Format.seconds(p.estimate().seconds())).raw("<br>").el("small", null, p.estimate().basis())
                .raw("</td></tr>");
        h.raw("</table>");
        h.el("h2", null, "Where every object is");
        h.raw("<table class=\"coverage\" id=\"coverage\">").headers("repository", "location", "backup objects", "WAL segments",
                "complete", "missing");
        for (RestorePlan.Coverage c : p.repositories()) {
            h.open("tr", "data-repository", c.name(), "class", c.complete() ? "ok" : "incomplete");
            h.raw("<td>").text(c.name()).raw("</td><td>").text(c.location()).raw("</td><td>")
                    .text(c.backupObjectsPresent() + " of " + c.backupObjects()).raw("</td><td>")
                    .text(c.walPresent() + " of " + c.walSegments()).raw("</td><td>")
                    .el("span", c.complete() ? "good" : "bad", c.complete() ? "yes" : "no").raw("</td><td>");
            if (c.error() != null) {
                h.el("span", "bad", "cannot be listed: " + c.error());
            } else {
                List<String> missing = new java.util.ArrayList<>(c.missingObjects());
                missing.addAll(c.missingWal());
                h.text(String.join(", ", missing));
            }
            h.raw("</td></tr>");
        }
        h.raw("</table>");
        h.el("h2", null, "The command");
        h.open("pre", "class", "command", "id", "command").text(p.command()).close("pre");
        if (!p.notes().isEmpty()) {
            h.raw("<ul class=\"notes\">");
            p.notes().forEach(n -> h.el("li", null, n));
            h.raw("</ul>");
        }
    }

    private static void drillStatus(Html h, DrillRunner.Run d) {
        if (d == null) {
            h.el("p", "none", "no drill started from the dashboard yet");
            return;
        }
        h.open("p", "class", "drill-state state-" + d.state(), "id", "drill-state").text(d.state()).close("p");
        h.el("p", null, d.backup() + " to " + d.target() + ", started " + Format.time(d.started()));
        if (d.result() != null || d.error() != null) {
            h.el("p", d.state().equals("succeeded") ? "good" : "bad", d.error() != null ? d.error()
                    : (d.result().ok() ? "proven: " : "DRILL FAILED: ") + d.backup() + " restored in "
                    + Format.seconds(d.result().restoreSeconds()));
        }
    }

    // ---------------------------------------------------------------- login

    static String login() {
        Html h = page("Sign in", "<span class=\"crumb\">sign in</span>", 0);
        h.raw("<main>");
        h.el("h1", null, "Sign in");
        h.el("p", null, "This agent requires its bearer token (the content of agent.http.token-file).");
        h.raw("<form id=\"login\" class=\"planner\"><label>token <input type=\"password\" id=\"token\" "
                + "autocomplete=\"current-password\" size=\"40\"></label><button type=\"submit\">Sign in</button></form>");
        h.raw("<p class=\"bad\" id=\"login-error\"></p>");
        h.raw("</main>");
        return end(h);
    }

    static String error(int status, String message) {
        Html h = page("Error " + status, "<span class=\"crumb\">error</span>", 0);
        h.raw("<main>").el("h1", null, "Error " + status).el("p", "bad", message).raw("</main>");
        return end(h);
    }
}
