// The search box on the framework page, filtering as you type. The statements come from the
// JSON index the page embeds; every result is built with textContent, so a statement's text
// is only ever text (never markup), whatever it says. Without JavaScript the form submits
// and the server answers the same search.
(function () {
  "use strict";
  var input = document.getElementById("q");
  var list = document.getElementById("search-results");
  var status = document.getElementById("search-status");
  var data = document.getElementById("statement-index");
  if (!input || !list || !status || !data) return;
  var index;
  try { index = JSON.parse(data.textContent); } catch (e) { return; }
  var MAX = 200;
  var timer = null;

  function render(query) {
    var words = query.toLocaleLowerCase().split(/\s+/).filter(Boolean);
    while (list.firstChild) list.removeChild(list.firstChild);
    if (!words.length) { status.textContent = ""; return; }
    var found = 0;
    for (var i = 0; i < index.length && found < MAX; i++) {
      var e = index[i];
      var hay = (e.text + " " + e.area).toLocaleLowerCase();
      if (!words.every(function (w) { return hay.indexOf(w) !== -1; })) continue;
      found++;
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = e.url;
      a.textContent = e.text;
      var where = document.createElement("span");
      where.className = "where";
      where.textContent = [e.craft, e.level, e.area, e.specialism].join(" · ");
      li.appendChild(a);
      li.appendChild(document.createTextNode(" "));
      li.appendChild(where);
      list.appendChild(li);
    }
    status.textContent = found + (found >= MAX ? "+" : "") + " statement(s) found for \u201c" + query.trim() + "\u201d.";
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () { render(input.value); }, 120);
  });
})();
