// Header search: arrow keys move through the dropdown's results, Enter opens one, Escape closes.
(function () {
  "use strict";
  var input = document.getElementById("relais-search-input");
  var box = document.getElementById("relais-search-results");
  if (!input || !box) return;
  var active = -1;

  function options() { return Array.prototype.slice.call(box.querySelectorAll("[role=option]")); }
  function highlight(index) {
    var items = options();
    items.forEach(function (item, i) {
      item.classList.toggle("active", i === index);
      item.setAttribute("aria-selected", i === index ? "true" : "false");
    });
    active = index;
    if (items[index]) {
      input.setAttribute("aria-activedescendant", items[index].id || "");
      items[index].scrollIntoView({ block: "nearest" });
    }
  }
  function close() { box.innerHTML = ""; active = -1; input.setAttribute("aria-expanded", "false"); }

  box.addEventListener("htmx:afterSwap", function () {
    active = -1;
    input.setAttribute("aria-expanded", options().length ? "true" : "false");
  });
  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.target === box) input.setAttribute("aria-expanded", options().length ? "true" : "false");
  });
  input.addEventListener("keydown", function (event) {
    var items = options();
    if (event.key === "ArrowDown" && items.length) {
      event.preventDefault();
      highlight(Math.min(active + 1, items.length - 1));
    } else if (event.key === "ArrowUp" && items.length) {
      event.preventDefault();
      highlight(Math.max(active - 1, 0));
    } else if (event.key === "Enter" && active >= 0 && items[active]) {
      event.preventDefault();
      window.location.href = items[active].getAttribute("href");
    } else if (event.key === "Escape") {
      close();
    }
  });
  document.addEventListener("click", function (event) {
    if (!event.target.closest(".relais-search")) close();
  });
})();
