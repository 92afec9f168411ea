/* evalkit report: lists the cases embedded as JSON, a page at a time, with filters and a link per case.
   Every string from the data is untrusted: it only ever enters the page through textContent (or as an
   attribute value set through the DOM), never as markup, and always in an element of its own that isolates
   it (<bdi>, or dir="auto"): a U+202E in an answer cannot reverse the text after it. The
   Content-Security-Policy allows this script by its hash and nothing else. */
(function () {
  "use strict";

  var PAGE_SIZE = 50;
  var data = JSON.parse(document.getElementById("evalkit-cases").textContent);
  var targets = data.targets || [];
  var cases = data.cases || [];
  var state = { view: "all", target: data.focus, label: "", query: "", page: 0, only: null };
  var shown = initialColumns();
  var checks = [];
  var flips = {};
  var byId = new Map();
  var texts = null;

  Object.keys(data.flips || {}).forEach(function (name) {
    flips[name] = { fixed: new Set(data.flips[name].fixed), broken: new Set(data.flips[name].broken) };
  });
  cases.forEach(function (c, i) { if (!byId.has(c.id)) { byId.set(c.id, i); } });

  function $(id) { return document.getElementById(id); }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function bdi(text) { return el("bdi", null, text); }

  function isolated(node) {
    node.dir = "auto";
    return node;
  }

  function initialColumns() {
    var keep = new Set([data.base, data.focus, data.best]);
    return targets.map(function (name) { return targets.length <= 6 || keep.has(name); });
  }

  function hasError(c) {
    return (c.res || []).some(function (r) { return r && (r.err != null || (r.serr && r.serr.length)); });
  }

  function searchText(i) {
    if (texts === null) { texts = new Array(cases.length); }
    if (texts[i] === undefined) {
      var c = cases[i];
      var parts = [c.id, c.input, c.ref];
      (c.ctx || []).forEach(function (m) { parts.push(m[1]); });
      (c.res || []).forEach(function (r) {
        if (r) {
          parts.push(r.out, r.err);
          (r.s || []).forEach(function (s) { parts.push(s[2], s[3]); });
          (r.serr || []).forEach(function (e) { parts.push(e[1]); });
        }
      });
      texts[i] = parts.filter(function (p) { return p != null; }).join("\n").toLowerCase();
    }
    return texts[i];
  }

  function flipped(kind, c) {
    var found = flips[state.target];
    return Boolean(found && found[kind].has(c.id));
  }

  function matches(c, i) {
    if (state.label && c.label !== state.label) { return false; }
    if (state.view === "errors" && !hasError(c)) { return false; }
    if (state.view === "regressions" && !flipped("broken", c)) { return false; }
    if (state.view === "fixes" && !flipped("fixed", c)) { return false; }
    if (state.query && searchText(i).indexOf(state.query) < 0) { return false; }
    return true;
  }

  function selected() {
    if (state.only !== null) { return [state.only]; }
    var rows = [];
    for (var i = 0; i < cases.length; i += 1) {
      if (matches(cases[i], i)) { rows.push(i); }
    }
    return rows;
  }

  function score(value) {
    if (value === null || value === undefined) { return "—"; }
    return value === 0 || value === 1 ? String(value) : value.toFixed(3);
  }

  function grade(value) {
    if (value === null || value === undefined) { return "chip"; }
    return value >= 1 ? "chip good" : value <= 0 ? "chip bad" : "chip mid";
  }

  function pre(className, text) { return isolated(el("pre", className, text)); }

  function labelled(node, label, text) {
    node.appendChild(document.createTextNode(label));
    node.appendChild(bdi(text));
    return node;
  }

  function renderHead() {
    var head = $("cases-head");
    var table = $("cases-table");
    var cols = document.createElement("colgroup");
    var row = el("tr");
    [["c-id", "case"], ["c-input", "input"], ["c-ref", "reference"]].forEach(function (c) {
      cols.appendChild(el("col", c[0]));
      row.appendChild(el("th", null, c[1]));
    });
    targets.forEach(function (name, k) {
      if (!shown[k]) { return; }
      cols.appendChild(el("col", "c-target"));
      var th = el("th");
      th.appendChild(bdi(name));
      th.dataset.target = name;
      if (name === data.base) { th.appendChild(el("span", "tag", "base")); }
      if (name === data.best) { th.appendChild(el("span", "tag best", "★ best")); }
      row.appendChild(th);
    });
    var old = table.querySelector("colgroup");
    if (old) { old.remove(); }
    table.insertBefore(cols, head);
    head.replaceChildren(row);
  }

  function idCell(c, i) {
    var td = el("td", "id");
    var link = isolated(el("a", null, c.id));
    link.href = "#case=" + encodeURIComponent(c.id);
    link.title = "Link to this case";
    td.appendChild(link);
    td.appendChild(el("span", "line", "#" + (i + 1) + (c.line != null ? " · line " + c.line : "")));
    return td;
  }

  function inputCell(c) {
    var td = el("td", "input");
    if (c.ctx && c.ctx.length) {
      var details = el("details", "ctx");
      details.appendChild(el("summary", null, c.ctx.length + (c.ctx.length === 1 ? " earlier message" : " earlier messages")));
      c.ctx.forEach(function (m) {
        var block = el("pre");
        block.appendChild(el("span", "role", m[0] + ": "));
        block.appendChild(bdi(m[1]));
        details.appendChild(block);
      });
      td.appendChild(details);
    }
    td.appendChild(pre(null, c.input || ""));
    return td;
  }

  function answerCell(r) {
    var td = el("td");
    if (!r) {
      td.appendChild(el("span", "notrun", "not run"));
      return td;
    }
    var tone = r.err != null ? " failed" : r.ok === true ? " right" : r.ok === false ? " wrong" : "";
    var box = el("div", "answer" + tone);
    if (r.err != null) { box.appendChild(labelled(el("pre", "error"), "error: ", r.err)); }
    if (r.out != null) {
      var text = el("pre", "output");
      if (r.ok === true || r.ok === false) {
        var mark = el("span", "verdict-mark", r.ok ? "✓" : "✗");
        mark.title = (r.ok ? "right" : "wrong") + (data.scorer ? " by " + data.scorer : "");
        text.appendChild(mark);
      }
      text.appendChild(bdi(r.out));
      box.appendChild(text);
    }
    appendScores(box, r);
    appendBadges(box, r);
    td.appendChild(box);
    return td;
  }

  function appendScores(box, r) {
    var chips = el("div", "chips");
    (r.s || []).forEach(function (s) {
      if (s[1] === null && s[2] == null) { return; }
      var chip = el("span", grade(s[1]));
      chip.appendChild(bdi(s[0]));
      chip.appendChild(document.createTextNode(" " + score(s[1])));
      if (s[2] != null) { labelled(chip, " → ", s[2]); }
      chips.appendChild(chip);
    });
    if (chips.childNodes.length) { box.appendChild(chips); }
    (r.s || []).forEach(function (s) {
      if (s[3] == null) { return; }
      var why = el("div", "why");
      var who = why.appendChild(el("span", "who"));
      who.appendChild(bdi(s[0]));
      who.appendChild(document.createTextNode(": "));
      why.appendChild(bdi(s[3]));
      box.appendChild(why);
    });
    (r.serr || []).forEach(function (e) {
      var failed = el("div", "why error");
      if (e[0]) { failed.appendChild(bdi(e[0])); }
      box.appendChild(labelled(failed, e[0] ? " could not score: " : "scoring failed: ", e[1]));
    });
  }

  function appendBadges(box, r) {
    var badges = el("div", "badges");
    if (r.cached) { badges.appendChild(el("span", null, "cached")); }
    if (r.lat != null) { badges.appendChild(el("span", null, r.lat.toFixed(2) + " s")); }
    if (r.fin) { badges.appendChild(labelled(el("span"), "finish: ", r.fin)); }
    if (badges.childNodes.length) { box.appendChild(badges); }
  }

  function caseRow(i) {
    var c = cases[i];
    var tr = el("tr", "case" + (state.only === i ? " opened" : ""));
    tr.id = "case-" + (i + 1);
    tr.appendChild(idCell(c, i));
    tr.appendChild(inputCell(c));
    tr.appendChild(el("td", "ref")).appendChild(pre(null, c.ref || ""));
    targets.forEach(function (name, k) {
      if (shown[k]) { tr.appendChild(answerCell(c.res ? c.res[k] : null)); }
    });
    return tr;
  }

  function render() {
    var rows = selected();
    var pages = Math.max(1, Math.ceil(rows.length / PAGE_SIZE));
    state.page = Math.min(state.page, pages - 1);
    var start = state.page * PAGE_SIZE;
    var slice = rows.slice(start, start + PAGE_SIZE);
    var body = document.createDocumentFragment();
    slice.forEach(function (i) { body.appendChild(caseRow(i)); });
    if (!slice.length) {
      var empty = el("td", "notrun", "No case matches these filters.");
      empty.colSpan = 3 + shown.filter(Boolean).length;
      body.appendChild(el("tr")).appendChild(empty);
    }
    renderHead();
    $("cases-body").replaceChildren(body);
    $("f-count").textContent = rows.length + " of " + cases.length + " cases";
    $("page").textContent = rows.length
      ? (start + 1) + "–" + (start + slice.length) + " of " + rows.length + " · page " + (state.page + 1) + " of " + pages
      : "";
    $("prev").disabled = state.page === 0;
    $("next").disabled = state.page >= pages - 1;
    $("single").hidden = state.only === null;
  }

  function showAll() {
    state.only = null;
    try { history.replaceState(null, "", "#cases"); } catch (ignored) { /* a page opened from disk may refuse */ }
    render();
  }

  function showCompared() {
    var compared = targets.indexOf(state.target);
    if ((state.view === "regressions" || state.view === "fixes") && compared >= 0 && !shown[compared]) {
      shown[compared] = checks[compared].checked = true;  // the target being compared is always in view
    }
  }

  function changed() {
    state.page = 0;
    showCompared();
    if (state.only !== null) { showAll(); } else { render(); }
  }

  /* A page opened without a case link starts on the focus target's regressions against the base, when
     it has any: what a reviewer reads first. */
  function openOnRegressions() {
    var found = flips[state.target];
    if ($("f-target") && found && found.broken.size) {
      $("f-view").value = state.view = "regressions";
      showCompared();
    }
    render();
  }

  function openFromHash() {
    var hash = location.hash;
    if (hash.indexOf("#case=") !== 0) { return false; }
    var id;
    try { id = decodeURIComponent(hash.slice(6)); } catch (ignored) { id = hash.slice(6); }
    var index = byId.get(id);
    state.only = index === undefined ? null : index;
    var single = $("single-text");
    single.replaceChildren();
    if (index !== undefined) {
      labelled(single, "Showing case ", id).appendChild(document.createTextNode(" only."));
    }
    render();
    if (index !== undefined) { $("cases").scrollIntoView(); }
    return true;
  }

  function setUpLabels() {
    var select = $("f-label");
    if (!(data.labels || []).length) {
      select.parentNode.hidden = true;
      return;
    }
    data.labels.forEach(function (label) {
      var option = isolated(el("option", null, label));
      option.value = label;
      select.appendChild(option);
    });
    select.addEventListener("change", function () { state.label = select.value; changed(); });
  }

  function setUpColumns() {
    var box = $("f-columns");
    targets.forEach(function (name, k) {
      var label = el("label");
      var check = el("input");
      check.type = "checkbox";
      check.checked = shown[k];
      check.addEventListener("change", function () { shown[k] = check.checked; render(); });
      checks.push(check);
      label.appendChild(check);
      label.appendChild(bdi(name));
      box.appendChild(label);
    });
  }

  function setUpFilters() {
    var view = $("f-view");
    var target = $("f-target");
    var search = $("f-search");
    var timer = null;
    view.addEventListener("change", function () { state.view = view.value; changed(); });
    if (target) {
      state.target = target.value;
      target.addEventListener("change", function () { state.target = target.value; changed(); });
    }
    search.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { state.query = search.value.trim().toLowerCase(); changed(); }, 120);
    });
    $("prev").addEventListener("click", function () { state.page -= 1; render(); });
    $("next").addEventListener("click", function () { state.page += 1; render(); });
    $("show-all").addEventListener("click", showAll);
    document.querySelectorAll("button[data-view]").forEach(function (button) {
      button.addEventListener("click", function () {
        view.value = state.view = button.dataset.view;
        if (target) { target.value = state.target = button.dataset.target; }
        changed();
        $("cases").scrollIntoView();
      });
    });
  }

  setUpLabels();
  setUpColumns();
  setUpFilters();
  window.addEventListener("hashchange", openFromHash);
  if (!openFromHash()) { openOnRegressions(); }
}());
