// Relais staff shell behaviour: keyboard focus for the search box and toasts for server events.
(function () {
  "use strict";

  // "/" focuses the header search box (when the page has one), as in most CRMs and mail clients.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
    var search = document.querySelector("[data-relais-search]");
    if (search) {
      event.preventDefault();
      search.focus();
    }
  });

  // window.relaisToast(text, level) shows a Bootstrap toast in the corner (screen pops, new chats).
  window.relaisToast = function (text, level) {
    var container = document.getElementById("toasts");
    if (!container || !window.bootstrap) return;
    var toast = document.createElement("div");
    toast.className = "toast align-items-center text-bg-" + (level || "primary") + " border-0";
    toast.setAttribute("role", "status");
    var body = document.createElement("div");
    body.className = "d-flex";
    var message = document.createElement("div");
    message.className = "toast-body";
    message.textContent = text;
    body.appendChild(message);
    toast.appendChild(body);
    container.appendChild(toast);
    new window.bootstrap.Toast(toast).show();
    toast.addEventListener("hidden.bs.toast", function () { toast.remove(); });
  };

  // Behaviours declared in the markup instead of inline handlers (the Content-Security-Policy runs no
  // inline script): <form data-confirm="question">, <select data-submit-on-change>,
  // <textarea data-submit-on-ctrl-enter>, and <div data-swap-refusals="400 409"> whose htmx requests
  // show those refusals (htmx leaves 4xx answers unswapped by default).
  document.addEventListener("submit", function (event) {
    var form = event.target.closest && event.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
  }, true);
  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field.matches && field.matches("[data-submit-on-change]") && field.form) field.form.submit();
  });
  document.addEventListener("keydown", function (event) {
    var field = event.target;
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
    if (!field.matches || !field.matches("[data-submit-on-ctrl-enter]") || !field.form) return;
    event.preventDefault();
    field.form.requestSubmit();
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    var holder = event.target.closest && event.target.closest("[data-swap-refusals]");
    if (!holder) return;
    var statuses = holder.getAttribute("data-swap-refusals").split(/\s+/);
    if (statuses.indexOf(String(event.detail.xhr.status)) !== -1) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // Copy buttons: <button data-copy-target="#id">.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-target]");
    if (!button) return;
    var source = document.querySelector(button.getAttribute("data-copy-target"));
    if (source && navigator.clipboard) {
      navigator.clipboard.writeText(source.textContent.trim());
      button.classList.add("btn-success");
    }
  });
})();
