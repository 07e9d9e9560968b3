// Diagrams fit the page width; a button switches one to its actual size (scroll to see it all).
// Without JavaScript the diagram still shows, fitted, and scrolls on small screens.
(function () {
  "use strict";
  function equip() {
    var boxes = document.querySelectorAll(".diagram");
    for (var i = 0; i < boxes.length; i++) {
      var box = boxes[i];
      if (box.previousElementSibling && box.previousElementSibling.classList.contains("zoom")) { continue; }
      if (!box.querySelector("svg")) { continue; }
      var button = document.createElement("button");
      button.type = "button";
      button.className = "zoom";
      button.textContent = box.getAttribute("data-zoom-in");
      button.setAttribute("aria-pressed", "false");
      button.addEventListener("click", (function (b, d) {
        return function () {
          var full = d.classList.toggle("full");
          b.textContent = d.getAttribute(full ? "data-zoom-out" : "data-zoom-in");
          b.setAttribute("aria-pressed", full ? "true" : "false");
          if (full) {
            var current = d.querySelector(".node.current");
            if (current && current.scrollIntoView) { current.scrollIntoView({ block: "nearest", inline: "center" }); }
          }
        };
      })(button, box));
      box.parentNode.insertBefore(button, box);
    }
  }
  document.addEventListener("DOMContentLoaded", equip);
  document.addEventListener("landflow:diagram", equip);
})();
