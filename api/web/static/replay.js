// The history slider, live: the page works without this (the slider sits in a GET form); with it, moving
// the slider fetches the replay as of that event and swaps it in, without reloading the page.
(function () {
  "use strict";
  var form = document.getElementById("replay-form");
  var section = document.getElementById("replay");
  if (!form || !section || !window.fetch) { return; }
  var range = form.querySelector("input[type=range]");
  var out = document.getElementById("at-out");
  var base = section.getAttribute("data-fragment");
  var total = range.getAttribute("max");
  var controller = null;

  function label(n) { out.textContent = n + " / " + total; }

  function mark(n) {
    var rows = document.querySelectorAll("table[data-table=events] tbody tr");
    for (var i = 0; i < rows.length; i++) { rows[i].classList.toggle("current", i + 1 === Number(n)); }
  }

  function load(n) {
    if (controller) { controller.abort(); }
    controller = window.AbortController ? new AbortController() : null;
    var url = base + "?at=" + encodeURIComponent(n) + "&fragment=1";
    fetch(url, { credentials: "same-origin", signal: controller ? controller.signal : undefined })
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.text(); })
      .then(function (html) {
        section.innerHTML = html;
        label(n);
        mark(n);
        window.history.replaceState(null, "", base + "?at=" + encodeURIComponent(n) + "#replay");
        document.dispatchEvent(new CustomEvent("landflow:diagram"));
      })
      .catch(function (err) { if (!err || err.name !== "AbortError") { form.submit(); } });
  }

  range.addEventListener("input", function () { label(range.value); });
  range.addEventListener("change", function () { load(range.value); });
  form.addEventListener("submit", function (e) { e.preventDefault(); load(range.value); });
})();
