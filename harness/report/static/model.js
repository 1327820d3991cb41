/* Model page: token search. The vocabulary's scores live in a per-model script (search/tokens.js) that is added
   with a <script> tag on first use: pages opened from file:// may not fetch() local files under their CSP, but
   may load a script from their own folder. Ranks count strictly higher finite scores (1 = highest); percentile
   = 100 * (n - rank) / (n - 1) over the n finite scores (100 = highest). Results are written as text only. */
(function () {
  "use strict";

  var form = document.getElementById("token-search");
  if (!form) { return; }
  var input = document.getElementById("token-q");
  var status = document.getElementById("search-status");
  var table = document.getElementById("search-results");
  var sorted = null;  // prompt -> ascending finite scores
  var loading = false;
  var MAX_HITS = 50;

  function load(then) {
    if (window.RMH_TOKENS) { then(); return; }
    if (loading) { return; }
    loading = true;
    status.textContent = "loading the vocabulary…";
    var s = document.createElement("script");
    s.src = form.getAttribute("data-src");
    s.onload = function () { loading = false; then(); };
    s.onerror = function () { loading = false; status.textContent = "could not load " + s.src; };
    document.head.appendChild(s);
  }

  function prepare() {
    if (sorted) { return; }
    sorted = {};
    window.RMH_TOKENS.prompts.forEach(function (p) {
      sorted[p] = window.RMH_TOKENS.scores[p].filter(function (v) { return v !== null; })
        .sort(function (a, b) { return a - b; });
    });
  }

  function countAbove(arr, v) {  // number of values strictly greater than v in an ascending array
    var lo = 0, hi = arr.length;
    while (lo < hi) { var mid = (lo + hi) >> 1; if (arr[mid] <= v) { lo = mid + 1; } else { hi = mid; } }
    return arr.length - lo;
  }

  function cell(tr, text, cls) {
    var td = document.createElement("td");
    td.textContent = text;
    if (cls) { td.className = cls; }
    tr.appendChild(td);
    return td;
  }

  function run() {
    prepare();
    var data = window.RMH_TOKENS;
    var raw = input.value;
    var q = raw.toLowerCase();
    var q2 = raw.replace(/^ +| +$/g, function (m) { return m.replace(/ /g, "\u2423"); }).toLowerCase();
    var exact = [], partial = [];
    for (var i = 0; i < data.tokens.length; i++) {
      var t = data.tokens[i].toLowerCase();
      if (t === q || t === q2) { exact.push(i); }
      else if (q && (t.indexOf(q) !== -1 || t.indexOf(q2) !== -1)) { partial.push(i); }
    }
    var hits = exact.concat(partial).slice(0, MAX_HITS);
    var body = table.tBodies[0];
    while (body.firstChild) { body.removeChild(body.firstChild); }
    hits.forEach(function (i) {
      var tr = document.createElement("tr");
      var id = data.ids ? data.ids[i] : data.first_id + i;
      tr.setAttribute("data-id", String(id));
      var code = document.createElement("code");
      code.className = "tok";
      code.textContent = data.tokens[i];
      var td = document.createElement("td");
      td.appendChild(code);
      tr.appendChild(td);
      cell(tr, String(id), "num");
      data.prompts.forEach(function (p) {
        var v = data.scores[p][i];
        if (v === null) { cell(tr, "—", "missing"); cell(tr, "—", "missing"); cell(tr, "—", "missing"); return; }
        var n = sorted[p].length;
        var rank = countAbove(sorted[p], v) + 1;
        cell(tr, String(Number(v.toPrecision(6))), "num score");
        cell(tr, String(rank), "num rank");
        cell(tr, n > 1 ? (100 * (n - rank) / (n - 1)).toFixed(1) : "100.0", "num pct");
      });
      body.appendChild(tr);
    });
    table.hidden = hits.length === 0;
    status.textContent = (exact.length + partial.length) + " match(es)" +
      (exact.length + partial.length > MAX_HITS ? ", first " + MAX_HITS + " shown" : "");
  }

  form.addEventListener("submit", function (ev) { ev.preventDefault(); load(run); });
  input.addEventListener("focus", function () { load(function () { status.textContent = ""; }); });
})();
