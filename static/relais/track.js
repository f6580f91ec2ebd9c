/* Relais track.js (no dependencies): relais.track(type, props), relais.identify({email}), relais.consent(bool),
   relais.flush(). Honours Do Not Track / Global Privacy Control; see docs/channels/web.md. */
(function (w, d) {
  "use strict";
  var me = d.currentScript, ls = w.localStorage, q = [], timer = null;
  if (!me || w.relais) return;
  var key = me.getAttribute("data-site-key"),
    endpoint = me.getAttribute("data-endpoint") || new URL("/api/v1/channels/events/", me.src).href,
    needConsent = me.hasAttribute("data-require-consent"),
    dnt = d.doNotTrack === "1" || w.doNotTrack === "1" || navigator.doNotTrack === "1" || navigator.globalPrivacyControl === true,
    SESSION_MS = 30 * 60 * 1000;

  function get(k) { try { return ls.getItem(k); } catch (e) { return null; } }
  function set(k, v) { try { ls.setItem(k, v); } catch (e) { /* storage off */ } }
  function id() {
    var a = new Uint8Array(12); w.crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function allowed() { return key && !dnt && (!needConsent || get("relais_consent") === "1"); }
  function visitor() {
    var v = get("relais_vid") || (d.cookie.match(/(?:^|; )relais_vid=([^;]+)/) || [])[1] || id();
    set("relais_vid", v);
    d.cookie = "relais_vid=" + v + "; path=/; max-age=31536000; SameSite=Lax" + (location.protocol === "https:" ? "; Secure" : "");
    return v;
  }
  function session() {
    var now = Date.now(), s = get("relais_sid"), at = +get("relais_sat") || 0;
    if (!s || now - at > SESSION_MS) s = id();
    set("relais_sid", s); set("relais_sat", String(now));
    return s;
  }

  function flush(leaving) {
    clearTimeout(timer); timer = null;
    if (!q.length) return;
    var body = JSON.stringify({ site_key: key, events: q.splice(0, 500) });
    // text/plain: a simple cross-site request (no preflight); sendBeacon accepts it.
    var blob = new Blob([body], { type: "text/plain" });
    if (!(leaving && navigator.sendBeacon && navigator.sendBeacon(endpoint, blob))) {
      fetch(endpoint, { method: "POST", body: body, keepalive: true, credentials: "omit", headers: { "Content-Type": "text/plain" } })
        .catch(function () { /* offline: dropped, never retried */ });
    }
    if (q.length) flush(leaving);
  }

  function track(type, props) {
    if (!allowed()) return false;
    props = props || {};
    var e = { type: type, visitor_id: visitor(), session_id: session(), occurred_at: new Date().toISOString(),
      url: String(props.url || location.href).slice(0, 1000), title: String(props.title || d.title).slice(0, 300) },
      extra = {}, n = 0;
    if (props.sku || props.product_sku) e.product_sku = String(props.sku || props.product_sku).slice(0, 64);
    for (var k in props) if (["url", "title", "sku", "product_sku"].indexOf(k) < 0) { extra[k] = props[k]; n++; }
    if (n) e.properties = extra;
    q.push(e);
    if (q.length >= 50) flush(); else if (!timer) timer = setTimeout(flush, 1000);
    return true;
  }

  function identify(who) {
    who = who || {};
    var p = {};
    if (who.email) p.customer_email = who.email;
    if (who.account) p.customer_account = who.account;
    if (who.external_id && who.source) { p.customer_external_id = who.external_id; p.customer_external_source = who.source; }
    return track("login", p);
  }

  function consent(granted) {
    set("relais_consent", granted ? "1" : "0");
    if (granted) { track("page_view"); return; }
    q.length = 0;
    try { ls.removeItem("relais_vid"); ls.removeItem("relais_sid"); ls.removeItem("relais_sat"); } catch (e) { /* storage off */ }
    d.cookie = "relais_vid=; path=/; max-age=0";
  }

  w.relais = { track: track, identify: identify, consent: consent, flush: flush,
    visitorId: function () { return allowed() ? visitor() : null; } };
  d.addEventListener("visibilitychange", function () { if (d.visibilityState === "hidden") flush(true); });
  w.addEventListener("pagehide", function () { flush(true); });
  track("page_view");
})(window, document);
