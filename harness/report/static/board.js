/* Leaderboard: prompt switch, raw-scale columns toggle, click a header to sort (again to reverse), filter rows.
   Plain DOM, no dependencies, no network; works from file:// under the page's CSP. Only textContent and
   attributes are read; nothing from the page is ever parsed as HTML. */
(function () {
  "use strict";

  var tables = Array.prototype.slice.call(document.querySelectorAll("table.board"));
  var filter = document.getElementById("filter");
  var count = document.getElementById("count");

  function sortable(table) {
    var tbody = table.tBodies[0];
    var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
    var state = { col: -1, dir: 0 };
    headers.forEach(function (th, k) {  // the initial order is stated in the HTML (aria-sort)
      var s = th.getAttribute("aria-sort");
      if (s === "ascending" || s === "descending") { state.col = k; state.dir = s === "ascending" ? 1 : -1; }
    });

    function defaultDir(th) {
      var hib = th.getAttribute("data-hib");
      if (hib === "-1" || hib === "t" || th.getAttribute("data-type") === "text") { return 1; }
      return -1;
    }

    function key(row, i) {
      var cell = row.cells[i];
      var v = cell ? cell.getAttribute("data-sort") : null;
      if (v === null || v === "") { return null; }
      var target = headers[i].getAttribute("data-target");  // "closer to a target": sort by the distance
      return target === null ? v : String(Math.abs(parseFloat(v) - parseFloat(target)));
    }

    function sortBy(i, dir) {
      var numeric = headers[i].getAttribute("data-type") === "num";
      var rows = Array.prototype.slice.call(tbody.rows);
      rows.forEach(function (r, k) { r.setAttribute("data-pos", String(k)); });
      rows.sort(function (a, b) {
        var x = key(a, i), y = key(b, i), c;
        if (x === null && y === null) { c = 0; }
        else if (x === null) { return 1; }   // missing values last, whichever the direction
        else if (y === null) { return -1; }
        else if (numeric) { c = parseFloat(x) - parseFloat(y); if (isNaN(c)) { c = 0; } }
        else { c = x < y ? -1 : (x > y ? 1 : 0); }
        if (c === 0) { return parseInt(a.getAttribute("data-pos"), 10) - parseInt(b.getAttribute("data-pos"), 10); }
        return dir * c;
      });
      var frag = document.createDocumentFragment();
      rows.forEach(function (r) { frag.appendChild(r); });
      tbody.appendChild(frag);
      headers.forEach(function (th, k) {
        if (k === i) { th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending"); }
        else { th.removeAttribute("aria-sort"); }
      });
      state.col = i;
      state.dir = dir;
    }

    headers.forEach(function (th, i) {
      var button = th.querySelector("button.sort") || th;
      button.addEventListener("click", function () {
        sortBy(i, state.col === i ? -state.dir : defaultDir(th));
      });
    });
  }

  tables.forEach(function (t) { if (t.tHead && t.tBodies.length) { sortable(t); } });

  function applyFilter() {
    var terms = ((filter && filter.value) || "").toLowerCase().split(/\s+/).filter(function (t) { return t; });
    var shown = {};
    var total = {};
    tables.forEach(function (t) {
      Array.prototype.forEach.call(t.tBodies[0].rows, function (row) {
        var id = row.getAttribute("data-model");
        var ok = terms.every(function (x) { return row.textContent.toLowerCase().indexOf(x) !== -1; });
        row.hidden = !ok;
        total[id] = true;
        if (ok && !row.closest(".prompt-table").hidden) { shown[id] = true; }
      });
    });
    if (count) {
      count.textContent = Object.keys(shown).length + " of " + Object.keys(total).length + " models";
    }
  }
  if (filter) { filter.addEventListener("input", applyFilter); }

  function showPrompt(prompt) {
    Array.prototype.forEach.call(document.querySelectorAll(".prompt-table"), function (div) {
      div.hidden = div.getAttribute("data-prompt") !== prompt;
    });
    applyFilter();
  }
  Array.prototype.forEach.call(document.querySelectorAll(".prompt-switch input[name=prompt]"), function (radio) {
    radio.addEventListener("change", function () { if (radio.checked) { showPrompt(radio.value); } });
    if (radio.checked) { showPrompt(radio.value); }
  });

  var raw = document.getElementById("show-raw");
  if (raw) {
    raw.addEventListener("change", function () { document.body.classList.toggle("show-raw", raw.checked); });
  }
})();
