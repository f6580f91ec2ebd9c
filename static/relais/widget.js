/*
 * Relais contact widget: "Chat with us" and "Call me back" for the pages of a customer's site.
 *
 *   <script src="https://crm.example.com/static/relais/widget.js" data-site-key="SITE-KEY" async></script>
 *
 * No dependency, no cookie. Everything the visitor or an agent wrote is shown with textContent, never
 * as HTML. The widget lives in a shadow root so the site's CSS and ours do not mix. Optional
 * attributes: data-lang ("fr" or "en"; default: the page's <html lang>), data-api (the Relais origin;
 * default: where this script was loaded from).
 *
 * Page push: a page the agent pushes on the same origin as the current page opens in this tab at once
 * (the chat resumes on the next page if it embeds the widget too); a page on another origin is shown
 * as a link the visitor opens in a new tab. Only http(s) addresses are ever opened.
 */
(function () {
  "use strict";
  if (window.__relaisWidget) return;
  window.__relaisWidget = true;

  var script = document.currentScript || document.querySelector("script[data-site-key][src*='widget.js']");
  if (!script) return;
  var siteKey = script.getAttribute("data-site-key");
  if (!siteKey) return;
  var apiOrigin = script.getAttribute("data-api") || new URL(script.src, location.href).origin;
  var base = apiOrigin.replace(/\/$/, "") + "/api/v1/widget/" + encodeURIComponent(siteKey);
  var lang = (script.getAttribute("data-lang") || document.documentElement.lang || "fr").slice(0, 2);

  var TEXT = {
    en: {
      open: "Contact us", close: "Close", chat: "Chat with us", callback: "Call me back", name: "Your name",
      email: "Email (optional)", message: "Your message", start: "Start the chat", send: "Send",
      type: "Type a message", end: "End the chat", ended: "The chat has ended. Thank you!",
      waiting: "An advisor will answer in a moment.", phone: "Phone number", day: "Day", from: "From",
      to: "Until", reason: "What is it about?", ask: "Call me back", thanks: "Thank you! We will call you back on ",
      pushed: "Your advisor sent you a page:", openPage: "Open the page", error: "Something went wrong. Try again.",
      newChat: "New chat", you: "You", advisor: "Advisor"
    },
    fr: {
      open: "Nous contacter", close: "Fermer", chat: "Discuter avec nous", callback: "Être rappelé", name: "Votre nom",
      email: "E-mail (facultatif)", message: "Votre message", start: "Démarrer la discussion", send: "Envoyer",
      type: "Écrivez un message", end: "Terminer la discussion", ended: "La discussion est terminée. Merci !",
      waiting: "Un conseiller va vous répondre.", phone: "Numéro de téléphone", day: "Jour", from: "De",
      to: "À", reason: "À quel sujet ?", ask: "Me rappeler", thanks: "Merci ! Nous vous rappellerons le ",
      pushed: "Votre conseiller vous envoie une page :", openPage: "Ouvrir la page",
      error: "Une erreur est survenue. Réessayez.", newChat: "Nouvelle discussion", you: "Vous", advisor: "Conseiller"
    }
  };
  var t = TEXT[lang] || TEXT.en;

  function storageGet(store, key) { try { return store.getItem(key); } catch (e) { return null; } }
  function storageSet(store, key, value) { try { store.setItem(key, value); } catch (e) { /* private mode */ } }
  // The visitor id is track.js's, so the agent sees the pages this browser visited: asked when the
  // visitor writes (track.js may load after the widget), empty when track.js is not on the page or may
  // not track (no consent, Do Not Track). The widget never makes up an id of its own.
  function visitorId() {
    var tracker = window.relais;
    return (tracker && typeof tracker.visitorId === "function" && tracker.visitorId()) || "";
  }

  var STATE_KEY = "relais_chat:" + siteKey;
  var state = null; // {id, token}
  try { state = JSON.parse(storageGet(sessionStorage, STATE_KEY) || "null"); } catch (e) { state = null; }
  var lastId = 0;
  var seen = {};
  var stream = null;

  // --- DOM helpers (text only) -----------------------------------------------------------------
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "text") node.textContent = attrs[name];
      else node.setAttribute(name, attrs[name]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }
  function field(label, input) { return el("label", {}, [el("span", { text: label }), input]); }

  var host = el("div", { id: "relais-widget" });
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  root.appendChild(el("style", { text: [
    ":host{all:initial}",
    "*{box-sizing:border-box;font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;font-size:14px}",
    ".fab{position:fixed;right:20px;bottom:20px;z-index:2147483000;border:0;border-radius:24px;padding:12px 18px;",
    "background:#1d4ed8;color:#fff;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25)}",
    ".panel{position:fixed;right:20px;bottom:76px;z-index:2147483000;width:340px;max-width:calc(100vw - 40px);",
    "height:480px;max-height:calc(100vh - 100px);display:flex;flex-direction:column;background:#fff;color:#111;",
    "border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.3);overflow:hidden}",
    // [hidden] must win over every display rule below (.body is a flex box): one form at a time.
    "[hidden]{display:none!important}",
    ".tabs{display:flex;border-bottom:1px solid #ddd}.tabs button{flex:1;border:0;background:#f3f4f6;padding:10px;cursor:pointer}",
    ".tabs button[aria-selected=true]{background:#fff;font-weight:600;border-bottom:2px solid #1d4ed8}",
    ".body{flex:1;overflow:auto;padding:12px;display:flex;flex-direction:column;gap:8px}",
    "label{display:flex;flex-direction:column;gap:2px}input,textarea,select{padding:6px;border:1px solid #bbb;border-radius:6px;width:100%}",
    ".row{display:flex;gap:6px}.row>*{flex:1}",
    ".primary{background:#1d4ed8;color:#fff;border:0;border-radius:6px;padding:8px;cursor:pointer}",
    ".link{background:none;border:0;color:#1d4ed8;cursor:pointer;padding:2px;text-decoration:underline}",
    ".lines{flex:1;overflow:auto;display:flex;flex-direction:column;gap:6px}",
    ".line{max-width:85%;padding:6px 10px;border-radius:10px;white-space:pre-wrap;word-wrap:break-word}",
    ".visitor{align-self:flex-end;background:#1d4ed8;color:#fff}.agent{align-self:flex-start;background:#f1f5f9}",
    ".system{align-self:center;color:#666;font-size:12px}.who{display:block;font-size:11px;opacity:.75}",
    ".error{color:#b91c1c}.note{color:#555}:focus-visible{outline:2px solid #f59e0b;outline-offset:1px}"
  ].join("") }));

  var fab = el("button", { class: "fab", type: "button", "aria-expanded": "false", "data-relais": "open", text: t.open });
  var panel = el("div", { class: "panel", role: "dialog", "aria-label": t.open, hidden: "" });
  var tabChat = el("button", { type: "button", role: "tab", "aria-selected": "true", "data-relais": "tab-chat", text: t.chat });
  var tabCallback = el("button", { type: "button", role: "tab", "aria-selected": "false", "data-relais": "tab-callback", text: t.callback });
  var chatBody = el("div", { class: "body", role: "tabpanel", "data-relais": "chat-body" });
  var callbackBody = el("div", { class: "body", role: "tabpanel", hidden: "", "data-relais": "callback-body" });
  panel.appendChild(el("div", { class: "tabs", role: "tablist" }, [tabChat, tabCallback]));
  panel.appendChild(chatBody);
  panel.appendChild(callbackBody);
  root.appendChild(fab);
  root.appendChild(panel);

  function toggle(open) {
    if (open) panel.removeAttribute("hidden"); else panel.setAttribute("hidden", "");
    fab.setAttribute("aria-expanded", open ? "true" : "false");
    fab.textContent = open ? t.close : t.open;
  }
  fab.addEventListener("click", function () { toggle(panel.hasAttribute("hidden")); });
  function selectTab(chat) {
    tabChat.setAttribute("aria-selected", chat ? "true" : "false");
    tabCallback.setAttribute("aria-selected", chat ? "false" : "true");
    if (chat) { chatBody.removeAttribute("hidden"); callbackBody.setAttribute("hidden", ""); }
    else { callbackBody.removeAttribute("hidden"); chatBody.setAttribute("hidden", ""); }
  }
  tabChat.addEventListener("click", function () { selectTab(true); });
  tabCallback.addEventListener("click", function () { selectTab(false); });

  // --- API ---------------------------------------------------------------------------------------
  function api(method, path, body) {
    var headers = { "Accept": "application/json", "Accept-Language": lang };
    if (body) headers["Content-Type"] = "application/json";
    if (state && state.token) headers["X-Chat-Token"] = state.token;
    return fetch(base + path, {
      method: method, headers: headers, body: body ? JSON.stringify(body) : undefined,
      credentials: "omit", mode: "cors"
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) throw data;
        return data;
      });
    });
  }
  function errorText(error) {
    var detail = error && error.error;
    if (!detail) return t.error;
    if (detail.fields) {
      return Object.keys(detail.fields).map(function (name) {
        return detail.fields[name].map(function (item) { return item.message; }).join(" ");
      }).join(" ");
    }
    return detail.message || t.error;
  }

  // --- Chat --------------------------------------------------------------------------------------
  var lines = el("div", { class: "lines", "aria-live": "polite", "data-relais": "lines" });
  var chatError = el("div", { class: "error", role: "alert" });

  function isWebUrl(url) {
    try { var parsed = new URL(url); return parsed.protocol === "http:" || parsed.protocol === "https:"; }
    catch (e) { return false; }
  }
  function openPushed(url, live) {
    if (!isWebUrl(url)) return;
    var parsed = new URL(url);
    if (live && parsed.origin === location.origin) {
      location.assign(parsed.href);
    }
  }
  function addLine(line, live) {
    if (seen[line.id]) return;
    seen[line.id] = true;
    lastId = Math.max(lastId, line.id);
    var who = line.author === "visitor" ? t.you : (line.author === "agent" ? (line.agent || t.advisor) : "");
    var bubble = el("div", { class: "line " + line.author, "data-relais": "line-" + line.author });
    if (who) bubble.appendChild(el("span", { class: "who", text: who }));
    bubble.appendChild(document.createTextNode(line.body));
    if (line.pushed_url && isWebUrl(line.pushed_url)) {
      var open = el("button", { type: "button", class: "link", "data-relais": "pushed-link", text: t.openPage });
      open.addEventListener("click", function () { window.open(line.pushed_url, "_blank", "noopener"); });
      bubble.appendChild(el("div", {}, [el("span", { text: t.pushed + " " }), open]));
      openPushed(line.pushed_url, live);
    }
    lines.appendChild(bubble);
    lines.scrollTop = lines.scrollHeight;
  }
  function saveState() { storageSet(sessionStorage, STATE_KEY, JSON.stringify(state)); }
  function forget() { state = null; lastId = 0; seen = {}; try { sessionStorage.removeItem(STATE_KEY); } catch (e) { /* ignore */ } }

  function catchUp() {
    return api("GET", "/chats/" + state.id + "/messages/?after=" + lastId).then(function (data) {
      data.messages.forEach(function (line) { addLine(line, false); });
      if (data.status === "closed") showEnded();
    });
  }
  function listen() {
    if (!window.EventSource || stream) return;
    stream = new EventSource(base + "/chats/" + state.id + "/stream/?token=" + encodeURIComponent(state.token));
    stream.addEventListener("line", function (event) {
      try { addLine(JSON.parse(event.data), true); } catch (e) { /* a malformed frame is skipped */ }
    });
    stream.addEventListener("status", function (event) {
      try { if (JSON.parse(event.data).status === "closed") showEnded(); } catch (e) { /* skipped */ }
    });
    // The stream ends every minute and reconnects: read what was said in between.
    stream.addEventListener("open", function () { if (state) catchUp().catch(function () {}); });
  }
  function stopListening() { if (stream) { stream.close(); stream = null; } }

  function showEnded() {
    stopListening();
    forget();
    var again = el("button", { type: "button", class: "link", text: t.newChat });
    again.addEventListener("click", renderStart);
    chatBody.replaceChildren(lines, el("p", { class: "note", "data-relais": "ended", text: t.ended }), again);
  }

  function renderConversation() {
    var input = el("textarea", { rows: "2", maxlength: "4000", "aria-label": t.type, placeholder: t.type, "data-relais": "input" });
    var send = el("button", { type: "submit", class: "primary", "data-relais": "send", text: t.send });
    var end = el("button", { type: "button", class: "link", "data-relais": "end", text: t.end });
    var form = el("form", {}, [input, send]);
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); }
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = input.value.trim();
      if (!text) return;
      send.disabled = true;
      api("POST", "/chats/" + state.id + "/messages/", { body: text }).then(function (line) {
        input.value = ""; chatError.textContent = ""; addLine(line, false);
      }).catch(function (error) { chatError.textContent = errorText(error); })
        .then(function () { send.disabled = false; input.focus(); });
    });
    end.addEventListener("click", function () {
      api("POST", "/chats/" + state.id + "/end/").then(showEnded).catch(function (error) {
        chatError.textContent = errorText(error);
      });
    });
    chatBody.replaceChildren(lines, chatError, form, end);
    listen();
  }

  function renderStart() {
    lines.replaceChildren();
    var name = el("input", { name: "name", required: "", maxlength: "120", autocomplete: "name", "data-relais": "name" });
    var email = el("input", { name: "email", type: "email", maxlength: "254", autocomplete: "email", "data-relais": "email" });
    var message = el("textarea", { name: "message", required: "", rows: "3", maxlength: "4000", "data-relais": "message" });
    var start = el("button", { type: "submit", class: "primary", "data-relais": "start", text: t.start });
    var form = el("form", {}, [field(t.name, name), field(t.email, email), field(t.message, message), chatError, start]);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      start.disabled = true;
      api("POST", "/chats/", {
        name: name.value, email: email.value, message: message.value, visitor_id: visitorId(), url: location.href
      }).then(function (data) {
        state = { id: data.id, token: data.token };
        saveState();
        chatError.textContent = "";
        lines.replaceChildren(el("p", { class: "note", text: t.waiting }));
        renderConversation();
        data.messages.forEach(function (line) { addLine(line, false); });
      }).catch(function (error) { chatError.textContent = errorText(error); start.disabled = false; });
    });
    chatBody.replaceChildren(form);
  }

  // --- Call-back ---------------------------------------------------------------------------------
  function renderCallback() {
    var today = new Date();
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    var iso = today.getFullYear() + "-" + pad(today.getMonth() + 1) + "-" + pad(today.getDate());
    var name = el("input", { name: "name", required: "", maxlength: "120", autocomplete: "name", "data-relais": "cb-name" });
    var phone = el("input", { name: "phone", type: "tel", required: "", maxlength: "40", autocomplete: "tel", "data-relais": "cb-phone" });
    var day = el("input", { name: "day", type: "date", required: "", min: iso, value: iso, "data-relais": "cb-day" });
    function hours(selected) {
      var select = el("select", {});
      for (var h = 9; h <= 18; h++) {
        var option = el("option", { value: pad(h) + ":00", text: pad(h) + ":00" });
        if (h === selected) option.selected = true;
        select.appendChild(option);
      }
      return select;
    }
    var from = hours(Math.min(Math.max(today.getHours() + 1, 9), 17));
    var to = hours(Math.min(Math.max(today.getHours() + 2, 10), 18));
    from.setAttribute("data-relais", "cb-from");
    to.setAttribute("data-relais", "cb-to");
    var reason = el("input", { name: "reason", required: "", maxlength: "255", "data-relais": "cb-reason" });
    var error = el("div", { class: "error", role: "alert", "data-relais": "cb-error" });
    var submit = el("button", { type: "submit", class: "primary", "data-relais": "cb-submit", text: t.ask });
    var form = el("form", {}, [
      field(t.name, name), field(t.phone, phone), field(t.day, day),
      el("div", { class: "row" }, [field(t.from, from), field(t.to, to)]), field(t.reason, reason), error, submit
    ]);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      // The slot is typed in the visitor's local time; the server checks it against Paris business hours.
      var start = new Date(day.value + "T" + from.value), end = new Date(day.value + "T" + to.value);
      submit.disabled = true;
      api("POST", "/callbacks/", {
        name: name.value, phone: phone.value, reason: reason.value, visitor_id: visitorId(),
        preferred_from: start.toISOString(), preferred_to: end.toISOString()
      }).then(function () {
        callbackBody.replaceChildren(el("p", { class: "note", "data-relais": "cb-done",
          text: t.thanks + start.toLocaleString(lang, { weekday: "long", day: "numeric", month: "long", hour: "2-digit", minute: "2-digit" }) + "." }));
      }).catch(function (problem) { error.textContent = errorText(problem); submit.disabled = false; });
    });
    callbackBody.replaceChildren(form);
  }

  renderCallback();
  if (state && state.id && state.token) {
    lines.replaceChildren();
    renderConversation();
    catchUp().catch(function () { forget(); stopListening(); renderStart(); });
    toggle(true);
  } else {
    renderStart();
  }
  (document.body || document.documentElement).appendChild(host);
})();
