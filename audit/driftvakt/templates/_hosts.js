(function () {
  "use strict";
  // The hosts x concerns heat map and a host's detail, from the packed data (fleetview.host_data).
  var D = JSON.parse(document.getElementById("fleet-data").textContent);
  var W = JSON.parse(document.getElementById("fleet-words").textContent);
  var LETTERS = "fewpn", RANK = { f: 0, e: 1, w: 2, p: 3, n: 4, ".": 9 };
  var ICON = { f: "✗", e: "!", w: "◷", p: "✓", n: "–" };
  var CLASS = { f: "fail", e: "error", w: "waived", p: "pass", n: "not_applicable" };
  var PAGE = 50;
  var table = document.getElementById("host-heatmap"), body = table.tBodies[0];
  var form = document.getElementById("host-filters"), more = document.getElementById("host-more");
  var shown = document.getElementById("hosts-shown");
  var concerns = table.tHead.rows[0].cells.length - 3;
  document.getElementById("host-results").hidden = true;  // until a host is chosen
  var limit = PAGE, matched = [];
  // worst hosts first (failures and errors), then by name: the order the data has
  var order = D.hosts.map(function (h, i) { return i; });
  order.sort(function (a, b) { return D.hosts[b][3] - D.hosts[a][3] || a - b; });
  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) { return "&#" + c.charCodeAt(0) + ";"; });
  }
  function value(key) { return form.querySelector("[data-key=" + key + "]").value; }
  function filters() {
    return { group: value("group"), concern: value("concern"), severity: value("severity"),
             status: value("status"), q: value("q").trim().toLowerCase() };
  }
  function worstByConcern(letters, f) {
    var worst = [];
    for (var c = 0; c < D.controls.length; c++) {
      var ctl = D.controls[c], l = letters.charAt(c);
      if (l === "." || ctl[2] < 0) continue;
      if (f.severity !== "" && ctl[3] !== +f.severity) continue;
      if (worst[ctl[2]] === undefined || RANK[l] < RANK[worst[ctl[2]]]) worst[ctl[2]] = l;
    }
    return worst;
  }
  function matches(h, f) {
    if (f.group !== "" && h[1].indexOf(+f.group) < 0) return false;
    if (f.q && h[0].toLowerCase().indexOf(f.q) < 0) return false;
    if (f.status === "" && f.concern === "") return true;
    for (var c = 0; c < D.controls.length; c++) {
      var ctl = D.controls[c], l = h[2].charAt(c);
      if (l === ".") continue;
      if (f.concern !== "" && ctl[2] !== +f.concern) continue;
      if (f.severity !== "" && ctl[3] !== +f.severity) continue;
      if (f.status === "" || l === f.status) return true;
    }
    return false;
  }
  function draw() {
    var f = filters(), rows = [];
    matched = [];
    for (var k = 0; k < order.length; k++) if (matches(D.hosts[order[k]], f)) matched.push(order[k]);
    for (var m = 0; m < Math.min(limit, matched.length); m++) {
      var i = matched[m], h = D.hosts[i], worst = worstByConcern(h[2], f);
      var cells = "";
      for (var c = 0; c < concerns; c++) {
        var l = worst[c], dim = f.concern !== "" && c !== +f.concern ? " dim" : "";
        cells += l ? '<td class="cell s-' + CLASS[l] + dim + '" title="' + esc(W.statuses[l]) + '"><span aria-hidden="true">' + ICON[l] + '</span><span class="sr">' + esc(W.statuses[l]) + "</span></td>"
                   : '<td class="cell empty' + dim + '"></td>';
      }
      rows.push('<tr><th scope="row"><button type="button" class="host" data-host="' + i + '">' + esc(h[0]) +
        "</button></th><td>" + esc(h[1].map(function (g) { return W.group_labels[g]; }).join(", ")) +
        '</td><td class="num">' + h[3] + "</td>" + cells + "</tr>");
    }
    body.innerHTML = rows.join("");
    more.hidden = matched.length <= limit;
    shown.textContent = W.shown.replace("{n}", Math.min(limit, matched.length)).replace("{total}", matched.length);
  }
  function detail(i) {
    var h = D.hosts[i], why = {};
    D.detail[i].forEach(function (d) { why[d[0]] = d; });
    var idx = [];
    for (var c = 0; c < D.controls.length; c++) if (h[2].charAt(c) !== ".") idx.push(c);
    idx.sort(function (a, b) { return RANK[h[2].charAt(a)] - RANK[h[2].charAt(b)] || a - b; });
    var rows = idx.map(function (c) {
      var ctl = D.controls[c], l = h[2].charAt(c), d = why[c], text = "";
      if (d) {
        var block = D.blocks[d[1]], reason = D.texts[block[0]], lines = block[1];
        text = reason ? "<div>" + esc(reason) + "</div>" : "";
        if (lines.length) text += "<details><summary>" + esc(W.evidence) + " (" + lines.length + " " + esc(W.lines) +
          ")</summary><pre>" + esc(lines.map(function (n) { return D.texts[n]; }).join("\n")) + "</pre></details>";
      }
      return "<tr><td>" + esc(ctl[1]) + '<br><span class="req">' + esc(ctl[0]) + "</span></td><td>" +
        (ctl[3] >= 0 ? esc(W.severities[ctl[3]]) : "–") + '</td><td><span class="badge s-' + CLASS[l] +
        '"><span class="i" aria-hidden="true">' + ICON[l] + "</span>" + esc(W.statuses[l]) + "</span></td><td>" + text + "</td></tr>";
    });
    document.getElementById("host-name").textContent = h[0];
    document.getElementById("host-note").textContent = W.passing;
    var results = document.getElementById("host-results");
    results.tBodies[0].innerHTML = rows.join("");
    results.hidden = false;
    document.getElementById("host-detail").scrollIntoView();
  }
  function refilter() { limit = PAGE; draw(); }
  form.querySelectorAll("select").forEach(function (s) { s.addEventListener("change", refilter); });
  form.querySelector("input").addEventListener("input", refilter);
  document.getElementById("host-reset").addEventListener("click", function () {
    form.querySelectorAll("select, input").forEach(function (s) { s.value = ""; });
    refilter();
  });
  more.addEventListener("click", function () { limit += PAGE * 5; draw(); });
  body.addEventListener("click", function (e) {
    var b = e.target.closest("button.host");
    if (b) detail(+b.getAttribute("data-host"));
  });
  // a cell of the group x concern heat map lists its hosts
  function fromCell(cell) {
    var g = W.groups.indexOf(cell.getAttribute("data-filter-group"));
    form.querySelector("[data-key=group]").value = cell.getAttribute("data-filter-group") === "" ? "" : String(g);
    form.querySelector("[data-key=concern]").value = String(W.concerns.indexOf(cell.getAttribute("data-filter-concern")));
    form.querySelector("[data-key=status]").value = "";
    refilter();
    table.scrollIntoView();
  }
  document.querySelectorAll("td[data-filter-concern]").forEach(function (cell) {
    cell.addEventListener("click", function () { fromCell(cell); });
    cell.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); fromCell(cell); } });
  });
  window.driftvaktHosts = { draw: draw, detail: detail, matched: function () { return matched.length; } };
  draw();
})();
