// nodekeeper fleet view: live updates over server-sent events. The pages
// work without this script (they are rendered on the server); it only
// keeps them current without a reload.
(function () {
  "use strict";
  var body = document.body;
  var base = body.dataset.base || "";
  var view = body.dataset.view;
  var streamQuery = body.dataset.stream;
  var live = document.getElementById("live");
  if (!streamQuery || !window.EventSource) { return; }

  function say(text, on) {
    if (!live) { return; }
    live.textContent = text;
    live.classList.toggle("on", on);
    live.classList.toggle("off", !on);
  }
  function clock() { return new Date().toLocaleTimeString(); }

  // Parse one element from HTML in the right context (a <tr> needs a table).
  function fromHTML(html) {
    var t = document.createElement("template");
    t.innerHTML = html.trim();
    return t.content.firstElementChild;
  }

  // Replace an element, keeping the keyboard focus where it was.
  function replace(old, neu) {
    var focused = document.activeElement;
    var hadFocus = focused && old.contains(focused);
    var href = hadFocus && focused.getAttribute("href");
    old.replaceWith(neu);
    if (hadFocus && href) {
      var again = neu.querySelector('[href="' + CSS.escape(href) + '"]');
      if (again) { again.focus(); }
    }
  }

  // Fetch the page's content again and swap it in (other pages than the
  // nodes table and the events: few, small, refreshed at most every 3 s).
  var refreshing = false, pending = false, lastRefresh = 0;
  function refresh() {
    var wait = 3000 - (Date.now() - lastRefresh);
    if (refreshing || wait > 0) {
      if (!pending) { pending = true; setTimeout(function () { pending = false; refresh(); }, Math.max(wait, 500)); }
      return;
    }
    refreshing = true;
    lastRefresh = Date.now();
    fetch(location.href, { headers: { "X-Fragment": "1" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var main = document.getElementById("main");
        var focusedId = document.activeElement && document.activeElement.id;
        var openDetails = Array.prototype.map.call(main.querySelectorAll("details[open] summary"), function (s) { return s.textContent; });
        main.innerHTML = html;
        Array.prototype.forEach.call(main.querySelectorAll("details summary"), function (s) {
          if (openDetails.indexOf(s.textContent) >= 0) { s.parentNode.open = true; }
        });
        if (focusedId && document.getElementById(focusedId)) { document.getElementById(focusedId).focus(); }
      })
      .catch(function () {})
      .then(function () { refreshing = false; });
  }

  var es = new EventSource(base + "/stream?" + streamQuery);
  var wasDown = false;
  es.onopen = function () {
    say("live · " + clock(), true);
    if (wasDown && view !== "nodes" && view !== "events") { refresh(); }
    wasDown = false;
  };
  es.onerror = function () { say("live updates lost: reconnecting…", false); wasDown = true; };

  es.addEventListener("summary", function (e) {
    var s = JSON.parse(e.data);
    ["nodes", "online", "offline"].forEach(function (k) {
      var el = document.getElementById("c-" + k);
      if (el) { el.textContent = s[k]; }
    });
  });

  es.addEventListener("rows", function (e) {
    var msg = JSON.parse(e.data);
    var table = document.getElementById("nodes");
    (msg.rows || []).forEach(function (r) {
      var old = document.getElementById("n-" + r.id);
      var neu = fromHTML(r.html);
      if (old) {
        if (neu.dataset.status !== old.dataset.status) { neu.classList.add("fresh"); }
        replace(old, neu);
      } else if (table && table.dataset.last === "1") {
        neu.classList.add("fresh");
        table.tBodies[0].appendChild(neu);
      }
    });
    (msg.gone || []).forEach(function (id) {
      var old = document.getElementById("n-" + id);
      if (old) { old.remove(); }
    });
    say("live · " + clock(), true);
  });

  es.addEventListener("events", function (e) {
    var tbody = document.getElementById("event-rows");
    if (!tbody) { return; }
    var none = document.getElementById("no-events");
    if (none) { none.remove(); }
    JSON.parse(e.data).forEach(function (ev) {
      var tr = fromHTML(ev.html);
      tr.classList.add("fresh");
      tbody.insertBefore(tr, tbody.firstChild);
    });
    while (tbody.children.length > 1000) { tbody.removeChild(tbody.lastChild); }
    say("live · " + clock(), true);
  });

  es.addEventListener("changed", function () {
    say("live · " + clock(), true);
    refresh();
  });
})();
