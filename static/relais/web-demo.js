/* The demo shop's own script: product views, cart additions and sign-in through track.js. */
(function () {
  "use strict";
  var count = 0, counter = document.getElementById("cart-count");
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-action]");
    if (!button || !window.relais) return;
    var sku = button.getAttribute("data-sku");
    if (button.getAttribute("data-action") === "view") {
      window.relais.track("product_view", { sku: sku });
    } else {
      window.relais.track("cart_add", { sku: sku, quantity: 1 });
      counter.textContent = String(++count);
    }
  });
  document.querySelectorAll("[data-consent]").forEach(function (button) {
    button.addEventListener("click", function () {
      if (window.relais) window.relais.consent(button.getAttribute("data-consent") === "1");
      document.getElementById("consent-banner").classList.add("d-none");
    });
  });
  var form = document.getElementById("signin-form");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var email = form.elements.email.value.trim();
    if (!email || !window.relais) return;
    window.relais.identify({ email: email });
    window.relais.flush();
    var done = document.getElementById("signed-in");
    done.textContent = email;
    done.hidden = false;
    form.hidden = true;
  });
})();
