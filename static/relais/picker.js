// Search pickers (channels/pickers.py): type to search (htmx fills the listbox), arrows move, Enter or a
// click chooses, Escape closes. A single picker keeps the chosen value in its hidden input and refuses
// to submit a name that was typed but not chosen; a multiple picker adds each choice as a removable chip.
// Loaded once per picker on a page: the guard below makes the later loads do nothing.
(function () {
  "use strict";
  if (window.relaisPickerReady) return;
  window.relaisPickerReady = true;

  function parts(element) {
    var root = element.closest("[data-relais-picker]");
    if (!root) return null;
    return {
      root: root,
      input: root.querySelector("[data-picker-input]"),
      box: root.querySelector("[data-picker-options]"),
      value: root.querySelector("[data-picker-value]"),
      chosen: root.querySelector("[data-picker-chosen]"),
    };
  }
  function options(p) { return Array.prototype.slice.call(p.box.querySelectorAll("[role=option]")); }
  function close(p) {
    p.box.innerHTML = "";
    p.input.setAttribute("aria-expanded", "false");
    p.input.removeAttribute("aria-activedescendant");
  }
  function highlight(p, index) {
    var items = options(p);
    items.forEach(function (item, i) {
      item.classList.toggle("active", i === index);
      item.setAttribute("aria-selected", i === index ? "true" : "false");
    });
    p.root.dataset.active = String(index);
    if (items[index]) {
      p.input.setAttribute("aria-activedescendant", items[index].id);
      items[index].scrollIntoView({ block: "nearest" });
    }
  }
  function validate(p) {
    if (!p.value) return;
    var typed = p.input.value.trim();
    var ok = typed === "" || typed === (p.value.dataset.label || "");
    if (typed === "") p.value.value = "";
    p.input.setCustomValidity(ok ? "" : p.root.dataset.invalid);
  }
  function choose(p, option) {
    var value = option.dataset.value, label = option.dataset.label;
    if (p.chosen) {
      var exists = Array.prototype.some.call(p.chosen.querySelectorAll("input[type=hidden]"),
        function (input) { return input.value === value; });
      if (!exists && value) {
        var li = document.createElement("li");
        li.className = "badge text-bg-secondary d-inline-flex align-items-center gap-1 fs-6 fw-normal";
        li.dataset.value = value;
        var text = document.createElement("span");
        text.textContent = label;
        var hidden = document.createElement("input");
        hidden.type = "hidden"; hidden.name = p.root.dataset.name; hidden.value = value;
        var remove = document.createElement("button");
        remove.type = "button"; remove.className = "btn-close btn-close-white";
        remove.setAttribute("data-picker-remove", "");
        remove.setAttribute("aria-label", (p.root.dataset.removeLabel || "Remove") + " " + label);
        li.appendChild(text); li.appendChild(hidden); li.appendChild(remove);
        p.chosen.appendChild(li);
      }
      p.input.value = "";
    } else {
      p.value.value = value;
      p.value.dataset.label = label;
      p.input.value = label;
      validate(p);
    }
    // A form that reacts to its fields (the customer list's filters) hears the choice.
    (p.value || p.chosen).dispatchEvent(new Event("change", { bubbles: true }));
    close(p);
    p.input.focus();
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    var p = parts(event.target);
    if (!p || event.target !== p.box) return;
    p.root.dataset.active = "-1";
    p.input.setAttribute("aria-expanded", options(p).length ? "true" : "false");
  });
  document.addEventListener("input", function (event) {
    if (!event.target.matches("[data-picker-input]")) return;
    validate(parts(event.target));
  });
  document.addEventListener("keydown", function (event) {
    if (!event.target.matches("[data-picker-input]")) return;
    var p = parts(event.target), items = options(p), active = Number(p.root.dataset.active || -1);
    if (event.key === "ArrowDown" && items.length) {
      event.preventDefault(); highlight(p, Math.min(active + 1, items.length - 1));
    } else if (event.key === "ArrowUp" && items.length) {
      event.preventDefault(); highlight(p, Math.max(active - 1, 0));
    } else if (event.key === "Enter" && items.length) {
      event.preventDefault();  // Enter in the box chooses; it never submits a half-typed name
      choose(p, items[active >= 0 ? active : 0]);
    } else if (event.key === "Escape") {
      close(p);
    }
  });
  document.addEventListener("click", function (event) {
    var option = event.target.closest("[data-relais-picker] [role=option]");
    if (option) { choose(parts(option), option); return; }
    var remove = event.target.closest("[data-picker-remove]");
    if (remove) {
      var p = parts(remove);
      remove.closest("li").remove();
      p.input.focus();
      return;
    }
    document.querySelectorAll("[data-relais-picker]").forEach(function (root) {
      if (!root.contains(event.target)) { var p = parts(root); if (p.box.innerHTML) close(p); }
    });
  });
  document.addEventListener("submit", function (event) {
    var refused = null;
    event.target.querySelectorAll("[data-relais-picker]").forEach(function (root) {
      var p = parts(root);
      if (!p.value) return;
      validate(p);
      if (!refused && !p.input.checkValidity()) refused = p.input;
    });
    if (refused) { event.preventDefault(); refused.reportValidity(); }
  }, true);
})();
