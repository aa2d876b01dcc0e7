// fenghuo console: live countdowns and live updates from the server's streams. Written here,
// no library. Text is only ever set with textContent, never as HTML.
"use strict";
(function () {
  var lang = document.body.dataset.lang === "en" ? "en" : "zh";
  var NAMES = {
    running: ["运行", "running"], degraded: ["降级", "degraded"], throttled: ["限流", "throttled"],
    paused: ["暂停", "paused"], stopped: ["停止", "stopped"], canary: ["灰度", "canary"]
  };
  function t(zh, en) { return lang === "en" ? en : zh; }
  function pad(n) { return n < 10 ? "0" + n : "" + n; }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-due]").forEach(function (el) {
      var due = Date.parse(el.dataset.due);
      if (isNaN(due)) { return; }
      var left = Math.round((due - now) / 1000), a = Math.abs(left);
      var d = Math.floor(a / 86400), h = Math.floor(a % 86400 / 3600), m = Math.floor(a % 3600 / 60), s = a % 60;
      var text = (d ? d + t("天 ", "d ") : "") + pad(h) + ":" + pad(m) + ":" + pad(s);
      el.textContent = left >= 0 ? t("剩余 ", "due in ") + text : t("已超时 ", "overdue by ") + text;
      el.classList.toggle("overdue", left < 0);
    });
  }
  tick();
  setInterval(tick, 1000);

  document.querySelectorAll("[data-back]").forEach(function (a) {
    a.addEventListener("click", function (e) { if (history.length > 1) { e.preventDefault(); history.back(); } });
  });

  function applyState(st) {
    document.querySelectorAll('[data-service="' + CSS.escape(st.service) + '"]').forEach(function (row) {
      row.querySelectorAll("[data-state-badge]").forEach(function (b) {
        var name = NAMES[st.state] || [st.state, st.state];
        var text = t(name[0], name[1]);
        if (st.rate) { text += " " + st.rate + "/s"; }
        if (st.percent) { text += " " + st.percent + "%"; }
        b.textContent = text;
        b.className = "state state-" + st.state;
      });
      row.querySelectorAll("[data-version]").forEach(function (v) { v.textContent = "v" + st.version; });
      row.querySelectorAll("[data-reason]").forEach(function (r) { r.textContent = st.reason || ""; });
      row.dataset.version = st.version;
    });
  }

  var refreshing = null;
  function refresh() {  // a warning or incident changed: redraw the page's main part in place
    if (refreshing) { return; }
    refreshing = setTimeout(function () {
      refreshing = null;
      if (document.activeElement && document.activeElement.form) { return; }  // do not lose what is being typed
      fetch(location.href, {credentials: "same-origin"}).then(function (r) { return r.ok ? r.text() : null; }).then(function (html) {
        if (!html) { return; }
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("main"), main = document.getElementById("main");
        if (fresh && main) { main.replaceWith(document.adoptNode(fresh)); tick(); }
      });
    }, 300);
  }

  var live = document.body.dataset.live;
  var only = live === "page" ? (document.body.dataset.liveServices || "").split(" ").filter(Boolean)
    : live && live !== "all" ? [live] : [];
  if (live === "page" && !only.length) { live = null; }  // an empty page follows nothing
  if (live && window.EventSource) {
    var status = document.getElementById("live-status");
    // the services this page shows (a page of the overview, one service), or all in scope
    var url = "/live" + (only.length ? "?" + only.map(function (s) { return "service=" + encodeURIComponent(s); }).join("&") : "");
    var es = new EventSource(url);
    var seen = {};
    es.addEventListener("hello", function () { status.textContent = t("● 实时", "● live"); status.className = "live-status on"; });
    es.addEventListener("state", function (e) {
      var st = JSON.parse(e.data);
      applyState(st);
      if (seen[st.service] !== undefined && seen[st.service] !== st.version && document.body.dataset.refreshOnState) { refresh(); }
      seen[st.service] = st.version;
    });
    es.addEventListener("warning", refresh);
    es.addEventListener("incident", refresh);
    es.onerror = function () { status.textContent = t("○ 重新连接…", "○ reconnecting…"); status.className = "live-status off"; };
  }
})();
