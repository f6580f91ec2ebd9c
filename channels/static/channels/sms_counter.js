// Live SMS length under the message box: characters, parts and encoding, as channels/sms/encoding.py counts them.
(function () {
  "use strict";
  var BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var EXTENDED = "^{}\\[~]|€\f";

  function count(text) {
    var chars = Array.from(text);
    var gsm = chars.every(function (c) { return BASIC.indexOf(c) >= 0 || EXTENDED.indexOf(c) >= 0; });
    var units, single, multi;
    if (gsm) {
      units = chars.reduce(function (n, c) { return n + (EXTENDED.indexOf(c) >= 0 ? 2 : 1); }, 0);
      single = 160; multi = 153;
    } else {
      units = chars.reduce(function (n, c) { return n + (c.codePointAt(0) > 0xffff ? 2 : 1); }, 0);
      single = 70; multi = 67;
    }
    if (units === 0) return { gsm: gsm, units: 0, segments: 0, remaining: single };
    var per = units <= single ? single : multi;
    var segments = Math.ceil(units / per);
    return { gsm: gsm, units: units, segments: segments, remaining: segments * per - units };
  }

  function bind(output) {
    var box = document.querySelector(output.getAttribute("data-sms-counter"));
    if (!box || box.dataset.smsCounterBound) return;
    box.dataset.smsCounterBound = "1";
    var max = parseInt(output.getAttribute("data-max-segments"), 10);
    function update() {
      var c = count(box.value.trim());
      var text = output.getAttribute("data-template")
        .replace("{chars}", c.units).replace("{segments}", c.segments).replace("{remaining}", c.remaining)
        .replace("{encoding}", output.getAttribute(c.gsm ? "data-label-gsm" : "data-label-ucs"));
      if (c.segments > max) text += " — " + output.getAttribute("data-too-long");
      output.textContent = text;
      output.classList.toggle("text-danger", c.segments > max);
      output.classList.toggle("text-body-secondary", c.segments <= max);
    }
    box.addEventListener("input", update);
    update();
  }

  function bindAll() { document.querySelectorAll("[data-sms-counter]").forEach(bind); }
  document.addEventListener("DOMContentLoaded", bindAll);
  document.addEventListener("htmx:afterSettle", bindAll);
  bindAll();
})();
