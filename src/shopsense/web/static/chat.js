// The storefront's assistant panel: a floating button opens a chat over POST /v1/assistant/chat.
// Replies are shown as text (tables rendered from "| a | b |" lines) with the cited products
// as cards. Everything is escaped; nothing is fetched from outside this app.
(function () {
  if (!window.SS) return;
  const { api, esc, price, store, el } = window.SS;
  const T = {
    zh: { open: "问问导购", title: "购物助手", placeholder: "例如：最近有什么新款手机推荐", send: "发送",
          hello: "你好！我只根据本店商品目录回答：可以让我找商品、比较商品、查参数。", error: "助手暂时不可用：",
          close: "关闭", reset: "新对话" },
    en: { open: "Ask the assistant", title: "Shopping assistant", placeholder: "e.g. recommend a new phone", send: "Send",
          hello: "Hi! I answer only from this shop's catalogue: ask me to find, compare or explain products.",
          error: "The assistant is unavailable: ", close: "Close", reset: "New chat" },
  };
  const tr = (key) => (T[window.SS.lang] || T.zh)[key];
  let conversation = sessionStorage.getItem("ss.chat.id") || null;
  let busy = false;

  function who() {
    let session = store.get("ss.session", null);
    if (!session) { session = window.SS.randomId("web-"); store.set("ss.session", session); }
    return { user: store.get("ss.user", null) || null, session };
  }

  // A turn naming this shopper needs their token (the HttpOnly cookie POST /web/session sets):
  // if it is missing (the page's own call not back yet) it is asked for once; a shopper the
  // storefront may not sign in itself chats as its anonymous session, else anonymously.
  const PERSONAL = new Set(["shopper_token_required", "invalid_shopper_token", "forbidden"]);
  async function ask(text) {
    const { user, session } = who();
    const ids = [{ user, session }, { user, session }, { user: null, session }, {}];
    for (let i = 0; ; i++) {
      try {
        return await api("/v1/assistant/chat", { method: "POST", body: Object.assign({ message: text, conversation_id: conversation }, ids[i]) });
      } catch (err) {
        const code = err.body && err.body.error && err.body.error.code;
        if (!PERSONAL.has(code) || i === ids.length - 1) throw err;
        if (i === 0) await api("/web/session", { method: "POST", body: { session_id: session, user_id: user } }).catch(() => {});
      }
    }
  }

  function image(item) {
    const url = item.image_url || "";
    if (url.startsWith("/")) return url;
    const slug = (item.category || "item").split(">").pop().trim().toLowerCase().replace(/[^a-z0-9]+/g, "-");
    return "/static/demo/" + (/^[a-z0-9]/.test(slug) ? slug : "item") + ".svg";
  }

  function renderText(text) {
    const out = [];
    let table = null;
    for (const line of String(text).split("\n")) {
      const cells = line.trim().startsWith("|") ? line.trim().replace(/^\||\|$/g, "").split("|").map((c) => c.trim()) : null;
      if (cells) {
        if (cells.every((c) => /^-*$/.test(c))) continue;
        if (!table) { table = []; out.push(table); }
        table.push(cells);
        continue;
      }
      table = null;
      if (line.trim()) out.push(line);
    }
    return out.map((part) => Array.isArray(part)
      ? `<table class="chat-table">${part.map((row, i) => `<tr>${row.map((c) => i === 0 ? `<th>${esc(c)}</th>` : `<td>${esc(c)}</td>`).join("")}</tr>`).join("")}</table>`
      : `<p>${esc(part)}</p>`).join("");
  }

  function cards(items) {
    if (!items || !items.length) return "";
    return `<div class="chat-cards">${items.map((item) => `
      <a class="chat-card" href="/item/${encodeURIComponent(item.item_id)}" data-link data-item="${esc(item.item_id)}">
        <img src="${esc(image(item))}" alt="" width="56" height="56" loading="lazy">
        <span class="chat-card-title">${esc(item.title)}</span>
        <span class="chat-card-price">${esc(price(item.price))}${item.available === false ? " · ✕" : ""}</span>
      </a>`).join("")}</div>`;
  }

  function add(panel, who_, html) {
    const log = panel.querySelector(".chat-log");
    const node = el(`<div class="chat-msg chat-${who_}">${html}</div>`);
    log.appendChild(node);
    log.scrollTop = log.scrollHeight;
    return node;
  }

  function chips(panel, suggestions) {
    const box = panel.querySelector(".chat-chips");
    box.innerHTML = (suggestions || []).map((s) => `<button type="button" class="chat-chip">${esc(s)}</button>`).join("");
    box.querySelectorAll(".chat-chip").forEach((b) => b.addEventListener("click", () => send(panel, b.textContent)));
  }

  async function send(panel, message) {
    const text = String(message || "").trim();
    if (!text || busy) return;
    busy = true;
    add(panel, "me", `<p>${esc(text)}</p>`);
    const pending = add(panel, "bot", `<p class="chat-typing">…</p>`);
    try {
      const reply = await ask(text);
      conversation = reply.conversation_id;
      sessionStorage.setItem("ss.chat.id", conversation);
      pending.innerHTML = renderText(reply.reply) + cards(reply.items);
      pending.dataset.act = reply.act;
      pending.dataset.source = reply.source;
      pending.dataset.intent = (reply.intent && reply.intent.name) || "";
      if (reply.answered === false) pending.classList.add("chat-no-answer");  // policy: no passage, a way to a person
      chips(panel, reply.suggestions);
    } catch (err) {
      pending.innerHTML = `<p class="chat-error">${esc(tr("error") + err.message)}</p>`;
    } finally {
      busy = false;
      panel.querySelector(".chat-log").scrollTop = 1e9;
    }
  }

  function build() {
    const button = el(`<button type="button" id="chat-open" class="chat-open" aria-expanded="false"><span>${esc(tr("open"))}</span></button>`);
    const panel = el(`<section id="chat-panel" class="chat-panel" hidden aria-label="${esc(tr("title"))}">
      <header class="chat-head"><b>${esc(tr("title"))}</b>
        <span><button type="button" class="chat-reset linkish">${esc(tr("reset"))}</button>
        <button type="button" class="chat-close linkish" aria-label="${esc(tr("close"))}">✕</button></span></header>
      <div class="chat-log" aria-live="polite"></div>
      <div class="chat-chips"></div>
      <form class="chat-form" autocomplete="off"><input name="message" maxlength="500" placeholder="${esc(tr("placeholder"))}" aria-label="${esc(tr("placeholder"))}">
        <button type="submit" class="btn">${esc(tr("send"))}</button></form>
    </section>`);
    const root = document.getElementById("chat-root") || document.body;
    root.appendChild(button);
    root.appendChild(panel);
    add(panel, "bot", `<p>${esc(tr("hello"))}</p>`);
    const toggle = (open) => { panel.hidden = !open; button.setAttribute("aria-expanded", String(open)); if (open) panel.querySelector("input").focus(); };
    button.addEventListener("click", () => toggle(panel.hidden));
    panel.querySelector(".chat-close").addEventListener("click", () => toggle(false));
    panel.querySelector(".chat-reset").addEventListener("click", () => {
      conversation = null; sessionStorage.removeItem("ss.chat.id");
      panel.querySelector(".chat-log").innerHTML = ""; chips(panel, []);
      add(panel, "bot", `<p>${esc(tr("hello"))}</p>`);
    });
    panel.querySelector(".chat-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const input = panel.querySelector("input");
      send(panel, input.value); input.value = "";
    });
    // The storefront's language switch relabels the panel (replies keep their language).
    const relabel = () => {
      button.querySelector("span").textContent = tr("open");
      panel.querySelector(".chat-head b").textContent = tr("title");
      panel.querySelector(".chat-reset").textContent = tr("reset");
      const input = panel.querySelector("input");
      input.placeholder = tr("placeholder"); input.setAttribute("aria-label", tr("placeholder"));
      panel.querySelector(".chat-form .btn").textContent = tr("send");
    };
    const lang = document.getElementById("lang");
    if (lang) lang.addEventListener("click", () => setTimeout(relabel, 0));
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", build);
  else build();
})();
