// Follows an assessment run on its page (templates/pages/tax/run.html): reads the run's
// JSON once a second with the session's cookie and updates the figures in place, until
// the run has finished or failed. Without this script the page has a link to reload it.
(function () {
  "use strict";
  var box = document.getElementById("run");
  if (!box || !window.fetch) { return; }
  var api = box.getAttribute("data-api");
  var status = document.getElementById("run-status");
  function set(id, text) {
    var e = document.getElementById(id);
    if (e) { e.textContent = String(text); }
  }
  function yuan(fen) {
    // Fen are whole numbers in the JSON: the yuan are shown without floating point.
    var neg = fen < 0, s = String(Math.abs(fen));
    while (s.length < 3) { s = "0" + s; }
    return (neg ? "-" : "") + s.slice(0, -2) + "." + s.slice(-2);
  }
  function show(run) {
    var bar = document.getElementById("run-bar");
    bar.max = Math.max(run.total, 1);
    bar.value = run.processed;
    bar.textContent = run.processed + " / " + run.total;
    set("run-count", run.processed + " / " + run.total);
    set("run-assessed", run.assessed);
    set("run-unchanged", run.unchanged);
    set("run-failed", run.failed);
    set("run-exempt", run.exempt);
    set("run-below", run.below_quota);
    set("run-payable", yuan(run.payable_total_fen));
    status.setAttribute("data-status", run.status);
    status.textContent = box.getAttribute("data-" + run.status) || run.status;
  }
  function poll() {
    fetch(api, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (run) {
        if (!run) { return; }
        show(run);
        if (run.status === "running") {
          window.setTimeout(poll, 1000);
        } else {
          var refresh = document.getElementById("run-refresh");
          if (refresh) { refresh.hidden = true; }
        }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  if (status.getAttribute("data-status") === "running") { poll(); }
}());
