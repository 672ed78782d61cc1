// Search-as-you-type completions for the search box. Optional: without this script the
// form works the same; with it, /api/suggest fills the input's <datalist>.
(function () {
  "use strict";
  var input = document.getElementById("q");
  var list = document.getElementById("q-completions");
  if (!input || !list || !window.fetch) {
    return;
  }
  var timer = null;
  var asked = "";
  var composing = false;

  function show(query, completions) {
    if (input.value.trim() !== query) {
      return; // the user typed on while we waited
    }
    var options = completions.map(function (text) {
      var option = document.createElement("option");
      option.value = text;
      return option;
    });
    list.replaceChildren.apply(list, options);
  }

  function ask() {
    var query = input.value.trim();
    if (!query || query === asked) {
      return;
    }
    asked = query;
    fetch("/api/suggest?limit=8&q=" + encodeURIComponent(query), { headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { if (data) { show(query, data.completions || []); } })
      .catch(function () { /* completions are a convenience: stay quiet */ });
  }

  function later() {
    if (composing) {
      return; // wait for the IME to commit (kana -> kanji)
    }
    window.clearTimeout(timer);
    timer = window.setTimeout(ask, 150);
  }

  input.addEventListener("compositionstart", function () { composing = true; });
  input.addEventListener("compositionend", function () { composing = false; later(); });
  input.addEventListener("input", later);
})();
