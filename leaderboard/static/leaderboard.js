/* Leaderboard table: click a column header to sort (again to reverse), type in the box to filter rows.
   Plain DOM, no dependencies, no network; works from file:// and from any web host.
   Only textContent and attributes are read; nothing from the page is ever parsed as HTML. */
(function () {
  "use strict";

  var table = document.getElementById("board");
  if (!table || !table.tHead || !table.tBodies.length) {
    return;
  }
  var tbody = table.tBodies[0];
  var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
  var filter = document.getElementById("filter");
  var count = document.getElementById("count");

  // Column metadata (default sort direction) from the JSON data island; fall back to the header attributes.
  var defaults = {};
  try {
    var island = document.getElementById("board-data");
    var data = island ? JSON.parse(island.textContent) : null;
    (data && data.columns ? data.columns : []).forEach(function (c) {
      defaults[c.id] = c.default_dir;
    });
  } catch (e) {
    defaults = {};
  }

  function defaultDir(th) {
    var id = th.getAttribute("data-col");
    if (Object.prototype.hasOwnProperty.call(defaults, id) && (defaults[id] === 1 || defaults[id] === -1)) {
      return defaults[id];
    }
    var hib = th.getAttribute("data-hib");
    if (hib === "-1") { return 1; }    // lower is better: best first = ascending
    if (th.getAttribute("data-type") === "text") { return 1; }
    return -1;                           // higher is better or descriptive: largest first
  }

  function sortValue(row, i) {
    var cell = row.cells[i];
    if (!cell) { return null; }
    var v = cell.getAttribute("data-sort");
    return v === null || v === "" ? null : v;
  }

  var state = { col: -1, dir: 0 };

  function sortBy(i, dir) {
    var numeric = headers[i].getAttribute("data-type") === "num";
    var rows = Array.prototype.slice.call(tbody.rows);
    rows.forEach(function (r, k) { r.setAttribute("data-pos", String(k)); });
    rows.sort(function (a, b) {
      var x = sortValue(a, i), y = sortValue(b, i);
      var c;
      if (x === null && y === null) { c = 0; }
      else if (x === null) { return 1; }   // missing values last, whichever the direction
      else if (y === null) { return -1; }
      else if (numeric) { c = parseFloat(x) - parseFloat(y); if (isNaN(c)) { c = 0; } }
      else { c = x < y ? -1 : (x > y ? 1 : 0); }
      if (c === 0) {
        return parseInt(a.getAttribute("data-pos"), 10) - parseInt(b.getAttribute("data-pos"), 10);
      }
      return dir * c;
    });
    var frag = document.createDocumentFragment();
    rows.forEach(function (r) { frag.appendChild(r); });
    tbody.appendChild(frag);
    headers.forEach(function (th, k) {
      if (k === i) {
        th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
      } else {
        th.removeAttribute("aria-sort");
      }
    });
    state.col = i;
    state.dir = dir;
  }

  headers.forEach(function (th, i) {
    var button = th.querySelector("button.sort") || th;
    button.addEventListener("click", function () {
      var dir = state.col === i ? -state.dir : defaultDir(th);
      sortBy(i, dir);
    });
  });

  function applyFilter() {
    var terms = (filter.value || "").toLowerCase().split(/\s+/).filter(function (t) { return t.length > 0; });
    var shown = 0;
    Array.prototype.forEach.call(tbody.rows, function (row) {
      var text = row.textContent.toLowerCase();
      var ok = terms.every(function (t) { return text.indexOf(t) !== -1; });
      row.hidden = !ok;
      if (ok) { shown += 1; }
    });
    if (count) {
      count.textContent = shown + " of " + tbody.rows.length + " models";
    }
  }

  if (filter) {
    filter.addEventListener("input", applyFilter);
    if (filter.value) { applyFilter(); }
  }
})();
