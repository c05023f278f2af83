// Lifeboat dashboard: live updates (the page polls itself), the timeline's click-to-plan, the
// drill button and the sign-in form. No data is ever inserted as HTML: text goes in textContent.
"use strict";
(function () {
  var TOKEN_KEY = "lifeboat-token";

  function token() {
    try { return sessionStorage.getItem(TOKEN_KEY); } catch (e) { return null; }
  }

  function headers(extra) {
    var h = { "X-Lifeboat-Request": "1" };
    var t = token();
    if (t) { h["Authorization"] = "Bearer " + t; }
    for (var k in extra || {}) { h[k] = extra[k]; }
    return h;
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = text; }
    return e;
  }

  function seconds(s) {
    if (s === null || s === undefined || isNaN(s)) { return "—"; }
    if (s < 10) { return s.toFixed(1) + " s"; }
    s = Math.round(s);
    if (s < 60) { return s + " s"; }
    if (s < 3600) { return Math.floor(s / 60) + " min " + (s % 60) + " s"; }
    return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
  }

  function when(iso) {
    if (!iso) { return "—"; }
    return new Date(iso).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
  }

  // ---- live updates: the page fetches itself and swaps #live
  function live() {
    var every = parseInt(document.body.getAttribute("data-refresh") || "0", 10);
    if (!every || !document.getElementById("live")) { return; }
    setInterval(function () {
      fetch(location.href, { credentials: "same-origin", headers: headers() }).then(function (r) {
        if (r.status !== 200) { throw new Error("HTTP " + r.status); }
        return r.text();
      }).then(function (text) {
        var doc = new DOMParser().parseFromString(text, "text/html");
        var fresh = doc.getElementById("live");
        var gen = doc.getElementById("generated");
        if (fresh) { document.getElementById("live").replaceWith(document.adoptNode(fresh)); }
        if (gen) { document.getElementById("generated").textContent = gen.textContent; }
        document.body.classList.remove("stale");
      }).catch(function () {
        document.body.classList.add("stale");
        document.getElementById("generated").textContent = "connection to the agent lost — retrying";
      });
    }, every * 1000);
  }

  // ---- a click on the timeline opens the planner at that moment
  function timelineClicks() {
    document.addEventListener("click", function (ev) {
      var svg = ev.target.closest ? ev.target.closest("svg.timeline") : null;
      if (!svg) { return; }
      var box = svg.getBoundingClientRect();
      var width = parseFloat(svg.getAttribute("data-width"));
      var left = parseFloat(svg.getAttribute("data-left"));
      var right = parseFloat(svg.getAttribute("data-right"));
      var from = parseFloat(svg.getAttribute("data-from"));
      var to = parseFloat(svg.getAttribute("data-to"));
      var x = (ev.clientX - box.left) * width / box.width;
      if (x < left || x > width - right) { return; }
      var t = new Date(Math.round(from + (x - left) / (width - left - right) * (to - from)));
      location.href = svg.getAttribute("data-plan") + "?kind=time&value=" + encodeURIComponent(t.toISOString());
    });
  }

  // ---- the drill button and its progress
  function renderRun(box, run) {
    box.textContent = "";
    var state = el("p", "drill-state state-" + run.state, run.state);
    state.id = "drill-state";
    box.appendChild(state);
    box.appendChild(el("p", null, run.backup + " to " + run.target + ", started " + when(run.started)
      + (run.finished ? ", finished " + when(run.finished) : "")));
    var elapsed = ((run.finished ? Date.parse(run.finished) : Date.now()) - Date.parse(run.started)) / 1000;
    var line = "elapsed " + seconds(elapsed) + (run.expectedSeconds ? ", expected about " + seconds(run.expectedSeconds) : "");
    box.appendChild(el("p", null, line));
    if (run.state === "running" && run.expectedSeconds) {
      var bar = el("progress");
      bar.max = 100;
      bar.value = Math.min(99, 100 * elapsed / run.expectedSeconds);
      box.appendChild(bar);
    }
    if (run.result) {
      var r = run.result;
      var res = el("div", "drill-result " + (r.ok ? "good" : "bad"));
      res.id = "drill-result";
      res.appendChild(el("p", null, (r.ok ? "proven: " : "DRILL FAILED: ") + r.backup + " restored in "
        + seconds(r.restoreSeconds) + " onto " + r.restoredOnto + (r.target ? ", to " + r.target : "")));
      var table = el("table", "checks");
      Object.keys(r.checks || {}).forEach(function (k) {
        var tr = el("tr");
        tr.appendChild(el("th", null, k));
        tr.appendChild(el("td", null, r.checks[k]));
        table.appendChild(tr);
      });
      res.appendChild(table);
      (r.problems || []).forEach(function (p) { res.appendChild(el("p", "bad", p)); });
      box.appendChild(res);
    }
    if (run.error) { box.appendChild(el("p", "bad", run.error)); }
    var log = el("pre", "drill-log");
    log.textContent = (run.progress || []).slice(-12).join("\n");
    box.appendChild(log);
  }

  function poll(box) {
    var url = box.getAttribute("data-status-url");
    fetch(url, { credentials: "same-origin", headers: headers() }).then(function (r) {
      if (r.status === 404) { return null; }
      return r.json();
    }).then(function (run) {
      if (!run) { return; }
      renderRun(box, run);
      if (run.state === "running") { setTimeout(function () { poll(box); }, 1000); }
    }).catch(function () { setTimeout(function () { poll(box); }, 3000); });
  }

  function drillButton() {
    var button = document.getElementById("drill-button");
    var box = document.getElementById("drill-status");
    if (box && box.querySelector(".state-running")) { poll(box); }
    if (!button || button.disabled) { return; }
    button.addEventListener("click", function () {
      if (button.getAttribute("data-token") === "required" && !token()) {
        box.textContent = "";
        box.appendChild(el("p", "bad", "Starting a drill needs the token: sign in again (it is kept for this tab only)."));
        var a = el("a", "button", "Sign in");
        a.href = "/login?next=" + encodeURIComponent(location.pathname + location.search);
        box.appendChild(a);
        return;
      }
      button.disabled = true;
      var body = "kind=" + encodeURIComponent(button.getAttribute("data-kind"))
        + "&value=" + encodeURIComponent(button.getAttribute("data-value"));
      fetch(button.getAttribute("data-url"), {
        method: "POST", credentials: "same-origin", body: body,
        headers: headers({ "Content-Type": "application/x-www-form-urlencoded" })
      }).then(function (r) {
        return r.json().then(function (j) { return { status: r.status, body: j }; });
      }).then(function (r) {
        button.disabled = false;
        if (r.status !== 202) {
          box.textContent = "";
          box.appendChild(el("p", "bad", r.body.error + (r.body.hint ? " (" + r.body.hint + ")" : "")));
          return;
        }
        renderRun(box, r.body);
        setTimeout(function () { poll(box); }, 1000);
      }).catch(function (e) {
        button.disabled = false;
        box.textContent = "";
        box.appendChild(el("p", "bad", "the drill could not be started: " + e));
      });
    });
  }

  // ---- sign in: the token goes once to /api/session (a session cookie for reading) and stays in this tab
  function login() {
    var form = document.getElementById("login");
    if (!form) { return; }
    var next = new URLSearchParams(location.search).get("next") || "/";
    if (next.charAt(0) !== "/" || next.charAt(1) === "/") { next = "/"; }
    function signIn(t) {
      fetch("/api/session", { method: "POST", credentials: "same-origin", headers: { "Authorization": "Bearer " + t } })
        .then(function (r) {
          if (r.status !== 200) { throw new Error("the token is not right"); }
          try { sessionStorage.setItem(TOKEN_KEY, t); } catch (e) { /* private mode: reading still works */ }
          location.replace(next);
        }).catch(function (e) { document.getElementById("login-error").textContent = e.message; });
    }
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      signIn(document.getElementById("token").value.trim());
    });
    var m = /^#token=(.+)$/.exec(location.hash);
    if (m) {
      history.replaceState(null, "", location.pathname + location.search);
      signIn(decodeURIComponent(m[1]));
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    live();
    timelineClicks();
    drillButton();
    login();
  });
})();
