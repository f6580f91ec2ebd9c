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
