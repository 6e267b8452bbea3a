// The storefront: home, search (chips, facets, sort, pages, why-lines, not-interested),
// product page, cart and a simulated checkout. Rendered from the /v1 API; sends events.
(function () {
  const { t, tr, api, esc, price, el, store, CFG } = window.SS;
  const app = document.getElementById("app");
  const PAGE_SIZE = 12;
  // Items this shopper dismissed in this browser: hidden everywhere at once. The server also
  // drops them from recommendations and sinks them (and close variants) in search.
  let hiddenNow = new Set(store.get("ss.dismissed", []));
  const saveHidden = () => store.set("ss.dismissed", [...hiddenNow].slice(-200));
  let lastLoggedQuery = null; // one search event per query typed, not per facet click

  // ---- identity --------------------------------------------------------------------------
  let session = store.get("ss.session", null);
  if (!session) { session = SS.randomId("web-"); store.set("ss.session", session); }
  let user = store.get("ss.user", null);
  const who = () => ({ user: user || undefined, session });
  // Personal reads (profile, "why this?") need this shopper's token: an HttpOnly cookie set
  // by POST /web/session for this browser's session, or its signed-in user (docs/PRIVACY.md).
  const openSession = () => api("/web/session", { method: "POST", body: { session_id: session, user_id: user || null } })
    .catch((e) => { console.warn("no shopper session", e); });
  let sessionReady = openSession();

  const shownBy = new Map(); // item id -> request_id of the answer that last showed it
  const answerOf = (r) => (r.item_id && shownBy.has(r.item_id) && ["click", "cart"].includes(r.event_type) ? { request_id: shownBy.get(r.item_id) } : {});
  function sendEvents(rows) {
    const body = rows.map((r) => Object.assign({ user_id: user || null, session_id: session, platform: "web" }, r, answerOf(r)));
    return api("/v1/events", { method: "POST", body }).catch((e) => console.warn("event not recorded", e));
  }
  // What this page showed, for click-through by surface (fire and forget).
  function logImpression(surface, items, extra, answer) {
    const shown = items.filter((x) => !hiddenNow.has(x.item_id)).slice(0, 100);
    const body = Object.assign({ surface, items: shown.map((x) => x.item_id),
      user_id: user || null, session_id: session }, extra || {});
    api("/web/impressions", { method: "POST", body }).catch(() => {});
    if (!answer || !answer.request_id || !shown.length) return;
    // The answer's impression (positions, propensities) for off-policy evaluation: docs/FORMATS.md
    shown.forEach((x) => shownBy.set(x.item_id, answer.request_id));
    api("/v1/impressions", { method: "POST", body: { request_id: answer.request_id, surface, items: body.items,
      propensities: shown.map((x) => x.propensity ?? 1), policy: answer.policy || null, arm: (answer.experiment || {}).tag || null,
      user_id: user || null, session_id: session } }).catch(() => {});
  }
  const sendEvent = (type, item, extra) => sendEvents([Object.assign({ event_type: type, item_id: item || null }, extra || {})]);

  function rememberRecent(itemId) {
    const recent = store.get("ss.recent", []).filter((x) => x !== itemId);
    recent.unshift(itemId); store.set("ss.recent", recent.slice(0, 12));
  }

  // ---- cart -------------------------------------------------------------------------------
  const cart = () => store.get("ss.cart", []);
  function saveCart(items) { store.set("ss.cart", items); updateCartCount(); }
  function updateCartCount() { document.getElementById("cart-count").textContent = cart().reduce((n, x) => n + x.qty, 0); }
  function addToCart(item) {
    const items = cart(); const found = items.find((x) => x.item_id === item.item_id);
    if (found) found.qty += 1; else items.push({ item_id: item.item_id, title: item.title, price: item.price, image_url: item.image_url, category: item.category, qty: 1 });
    saveCart(items); sendEvent("cart", item.item_id, { value: 1 }); SS.toast(esc(t("added")));
  }

  // ---- rendering helpers ---------------------------------------------------------------------
  const catName = (path) => tr.cat(path);
  function image(item) {
    const url = item.image_url || "";
    if (url.startsWith("/")) return url; // bundled or served by this app; never a remote fetch
    const slug = (item.category || "item").split(">").pop().trim().toLowerCase().replace(/[^a-z0-9]+/g, "-") || "item";
    return "/static/demo/" + (/^[a-z0-9]/.test(slug) ? slug : "item") + ".svg";
  }
  // A reason in the shopper's language: catalogue terms inside English text are translated;
  // a cited product title is marked as a title (it stays in the listing's own language).
  const CITES = [/^(Because you viewed |Often bought together with |Similar to |Shown lower: like )(.+?)(, which you dismissed)?$/,
    /^(因为您浏览过 |常与 |与 |排序靠后：与您不感兴趣的 )(.+?)( 一起购买| 相似)?$/];
  function reasonText(r) { return SS.lang === "zh" ? (r.text_zh || r.text_en) : tr.text(r.text_en || r.text_zh); }
  function reasonHtml(r) {
    const text = SS.lang === "zh" ? (r.text_zh || r.text_en) : (r.text_en || r.text_zh);
    const cited = r.evidence && (r.evidence.because_item || r.evidence.dismissed_item);
    const m = cited ? text.match(CITES[SS.lang === "zh" ? 1 : 0]) : null;
    if (!m) return esc(reasonText(r));
    return `${esc(m[1])}<q class="ptitle" lang="${SS.langOf(m[2])}">${esc(m[2])}</q>${esc(m[3] || "")}`;
  }
  function why(item, context, about) {
    // On a product page "similar to <this product>" on every card says nothing: leave it out.
    const reasons = (item.reasons || []).filter((r) => reasonText(r) && !(about && r.evidence && r.evidence.because_item === about)).slice(0, 2);
    if (!reasons.length) return "";
    const more = context ? `<button class="linkish why-more" type="button">${esc(t("why_more"))}</button>` : "";
    return `<p class="why" title="${esc(reasons.map(reasonText).join(" · "))}"><span>${esc(t("why"))}</span>${reasons.map(reasonHtml).join(" · ")}</p>${more}`;
  }

  // "Why this?" in full: the item's rank, every reason with its contribution and the raw
  // signals, re-computed by GET /v1/explain for this shopper and context.
  async function explain(item, context) {
    const dialog = document.getElementById("explain-dialog");
    const body = dialog.querySelector(".explain-body");
    body.innerHTML = `<div class="loading">${esc(t("loading"))}</div>`;
    if (typeof dialog.showModal === "function") dialog.showModal(); else dialog.setAttribute("open", "");
    try {
      await sessionReady;
      const data = await api("/v1/explain", { params: Object.assign({ item: item.item_id, context }, who()) });
      const top = Math.max(1e-9, ...data.reasons.map((r) => Math.abs(r.contribution || 0)));
      body.innerHTML = `<h3>${esc(item.title)}</h3>
        <p class="muted">${esc(t("explain_rank", { rank: data.rank, score: Number(data.score).toFixed(3) }))}</p>
        <table class="data">${data.reasons.map((r) => `<tr><td>${reasonHtml(r)}</td><td class="bar"><span style="width:${(100 * Math.abs(r.contribution || 0) / top).toFixed(0)}%"></span></td><td class="num">${Number(r.contribution || 0).toFixed(3)}</td></tr>`).join("")}</table>
        <details><summary>${esc(t("explain_signals"))}</summary><table class="data">${Object.entries(data.signals || {}).map(([k, v]) => `<tr><td>${esc(k)}</td><td class="num">${Number(v).toFixed(4)}</td></tr>`).join("")}</table></details>`;
    } catch (e) {
      body.innerHTML = ""; body.appendChild(failure(e));
    }
  }
  function card(item, opts) {
    const o = opts || {};
    const node = el(`<article class="card" data-item="${esc(item.item_id)}">
      <a href="/item/${encodeURIComponent(item.item_id)}" data-link class="card-link">
        <img src="${esc(image(item))}" alt="" loading="lazy" width="200" height="200">
        <h3 class="title" lang="${SS.langOf(item.title)}">${o.query ? instant.highlight(item.title, o.query, item.highlights && item.highlights.title) : esc(item.title)}</h3></a>
      <div class="meta"><span class="price">${esc(price(item.price))}</span><span class="brand">${esc(tr.brand(item.brand || ""))}</span></div>
      ${o.why === false ? "" : why(item, o.context, o.about)}
      ${o.dismiss ? `<button class="dismiss" title="${esc(t("not_interested"))}" aria-label="${esc(t("not_interested"))}">✕ <span>${esc(t("not_interested"))}</span></button>` : ""}
    </article>`);
    node.querySelector(".card-link").addEventListener("click", () => {
      sendEvent("click", item.item_id, o.query ? { query: o.query } : {});
    });
    const more = node.querySelector(".why-more");
    if (more) more.addEventListener("click", () => explain(item, o.context));
    const btn = node.querySelector(".dismiss");
    if (btn) btn.addEventListener("click", (ev) => { ev.preventDefault(); dismiss(item, node, o.onDismiss); });
    return node;
  }
  function grid(items, opts) {
    const g = el(`<div class="grid"></div>`);
    items.filter((x) => !hiddenNow.has(x.item_id)).forEach((x) => g.appendChild(card(x, opts)));
    return g;
  }
  function section(title, hint, body, id) {
    const s = el(`<section class="shelf" ${id ? `id="${id}"` : ""}><div class="shelf-head"><h2>${esc(title)}</h2>${hint ? `<span class="muted">${esc(hint)}</span>` : ""}</div></section>`);
    s.appendChild(body); return s;
  }
  let retryTimer = null;
  function failure(e) {
    if (e && e.status === 503) { // models still warming up: say so and try again shortly
      const here = location.href;
      clearTimeout(retryTimer);
      retryTimer = setTimeout(() => { if (location.href === here) route(); }, 2000);
      return el(`<p class="loading warming">${esc(t("warming_up"))}</p>`);
    }
    const text = e && e.status === 404 && !e.body ? t("api_unavailable") : t("error", { m: e && e.message ? e.message : e });
    return el(`<p class="error">${esc(text)}</p>`);
  }

  async function dismiss(item, node, after) {
    hiddenNow.add(item.item_id); saveHidden();
    node.classList.add("gone");
    setTimeout(() => node.remove(), 250);
    try {
      await api("/v1/feedback", { method: "POST", body: { user_id: user || null, session_id: session, item_id: item.item_id, action: "dismiss" } });
    } catch (e) { SS.toast(esc(t("error", { m: e.message }))); return; }
    const box = SS.toast(`${esc(t("removed"))} <button class="linkish" id="undo">${esc(t("undo"))}</button>`, 6000);
    box.querySelector("#undo").addEventListener("click", async () => {
      hiddenNow.delete(item.item_id); saveHidden();
      await api("/v1/feedback", { method: "POST", body: { user_id: user || null, session_id: session, item_id: item.item_id, action: "undo" } });
      box.hidden = true; route();
    });
    if (after) setTimeout(after, 400); // re-rank so close variants sink, within a second
  }

  // ---- pages ----------------------------------------------------------------------------------
  const POPULAR = CFG.popular || [];

  // This browser's recent items first, then (after demo login) the shopper's own history.
  async function continueIds() {
    const local = store.get("ss.recent", []);
    if (!user) return local;
    try {
      await sessionReady;
      const profile = await api(`/v1/users/${encodeURIComponent(user)}/profile`);
      return [...new Set([...local, ...(profile.recent_items || [])])];
    } catch (e) { return local; }
  }

  async function home() {
    app.innerHTML = "";
    // a new page starts with an empty box, but never wipes what the shopper is typing (the
    // first render waits for the session cookie: a fast typist is already in the box)
    const typed = document.getElementById("q");
    if (document.activeElement !== typed) typed.value = "";
    const hero = el(`<section class="hero"><div><h1>${esc(t("hero_title"))}</h1><p>${esc(t("hero_text"))}</p>
      <div class="pills" id="popular"><span class="muted">${esc(t("popular_searches"))}</span></div></div></section>`);
    POPULAR.forEach((q) => {
      const a = el(`<a class="pill" href="/search?q=${encodeURIComponent(q)}" data-link lang="${SS.langOf(q)}">${esc(q)}</a>`);
      hero.querySelector("#popular").appendChild(a);
    });
    app.appendChild(hero);
    const recs = el(`<div class="loading">${esc(t("loading"))}</div>`);
    const shelf = section(t("for_you"), t("for_you_hint"), recs, "for-you");
    shelf.dataset.user = user || "";
    app.appendChild(shelf);
    const box = el(`<div class="loading">${esc(t("loading"))}</div>`);
    const again = section(t("continue"), t("continue_hint"), box, "continue");
    again.hidden = true;
    app.appendChild(again);
    continueIds().then((ids) => {
      if (!ids.length) return;
      again.hidden = false;
      return Promise.all(ids.slice(0, 6).map((id) => api(`/v1/items/${encodeURIComponent(id)}`).catch(() => null)))
        .then((items) => box.replaceWith(grid(items.filter(Boolean).map((x) => x.item || x), { why: false })));
    });
    try {
      const data = await api("/v1/recommend", { params: Object.assign({ k: PAGE_SIZE }, who()) });
      if (data.surface === "trending") {
        shelf.querySelector("h2").textContent = t("trending");
        shelf.querySelector(".muted").textContent = t("trending_hint");
      }
      shelf.dataset.surface = data.surface || "";
      recs.replaceWith(grid(data.results || [], { dismiss: true, onDismiss: home, context: "recommend" }));
      logImpression(data.surface === "trending" ? "trending" : "for_you", data.results || [], null, data);
    } catch (e) { recs.replaceWith(failure(e)); }
  }

  const instant = window.SSInstant({ go: (url) => go(url), image, who, submit: () => submitSearch() });
  const results = window.SSResults({ grid, failure, go: (url) => go(url), who, logImpression,
    logSearch(q) { if (q && q !== lastLoggedQuery) { lastLoggedQuery = q; sendEvent("search", null, { query: q }); } } });

  // The store's own 404 page (the server answers unknown pages and products with status 404).
  function notFound(kind) {
    app.innerHTML = "";
    const node = el(`<section class="not-found" id="not-found"><h1>${esc(t(kind === "item" ? "not_found" : "page_not_found"))}</h1>
      <p class="muted">${esc(t("not_found_help"))}</p>
      <form class="searchbox inline" role="search"><input name="q" type="search" aria-label="${esc(t("search"))}" placeholder="${esc(t("search_placeholder"))}"><button class="btn" type="submit">${esc(t("search"))}</button></form>
      <div class="pills" id="not-found-popular"><span class="muted">${esc(t("popular_searches"))}</span></div>
      <p><a class="btn" href="/" data-link>${esc(t("go_shopping"))}</a></p></section>`);
    POPULAR.forEach((q) => node.querySelector("#not-found-popular").appendChild(el(`<a class="pill" href="/search?q=${encodeURIComponent(q)}" data-link lang="${SS.langOf(q)}">${esc(q)}</a>`)));
    node.querySelector("form").addEventListener("submit", (ev) => { ev.preventDefault(); const q = ev.target.q.value.trim(); if (q) go("/search?q=" + encodeURIComponent(q)); });
    app.appendChild(node);
  }

  async function productPage(itemId) {
    app.innerHTML = `<div class="loading">${esc(t("loading"))}</div>`;
    let item;
    try { const data = await api(`/v1/items/${encodeURIComponent(itemId)}`); item = data.item || data; }
    catch (e) { if (e.status === 404 && e.body) notFound("item"); else { app.innerHTML = ""; app.appendChild(failure(e)); } return; }
    rememberRecent(item.item_id); sendEvent("view", item.item_id);
    const attrs = Object.entries(item.attributes || {}).filter(([k]) => k !== "consumable").map(([k, v]) => [tr.attr(k), tr.value(v)]);
    const path = (item.category || "").split(" > ").filter(Boolean);
    const crumbs = path.map((_, i) => { const p = path.slice(0, i + 1).join(" > "); return `<a href="/search?${new URLSearchParams({ q: "", category: p })}" data-link>${esc(tr.cat(p).split(" > ").pop())}</a>`; }).join(" › ");
    const node = el(`<div class="product" id="product" data-item="${esc(item.item_id)}">
      <nav class="crumbs" aria-label="${esc(t("breadcrumbs"))}"><a href="/" data-link>${esc(t("home"))}</a>${crumbs ? " › " + crumbs : ""}</nav>
      <div class="product-main">
        <img class="product-img" src="${esc(image(item))}" alt="" width="400" height="400">
        <div class="product-info"><h1 lang="${SS.langOf(item.title)}">${esc(item.title)}</h1>
          <p class="price big">${esc(price(item.price))}</p>
          <p class="muted">${esc(t("brand_label"))}: ${esc(tr.brand(item.brand) || "—")} · ${esc(t("category_label"))}: ${esc(catName(item.category))} · ${esc(item.available === false ? t("out_of_stock") : t("in_stock"))}</p>
          <div class="actions"><button class="btn" id="add-to-cart" ${item.available === false ? "disabled" : ""}>${esc(t("add_to_cart"))}</button>
          <button class="btn-ghost" id="buy-now" ${item.available === false ? "disabled" : ""}>${esc(t("buy_now"))}</button></div>
          <h3>${esc(t("details"))}</h3><p class="desc" lang="${SS.langOf(item.description)}">${esc(item.description || "")}</p>
          ${attrs.length ? `<table class="attrs">${attrs.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join("")}</table>` : ""}
        </div></div></div>`);
    node.querySelector("#add-to-cart").addEventListener("click", () => addToCart(item));
    node.querySelector("#buy-now").addEventListener("click", () => { addToCart(item); go("/cart"); });
    app.innerHTML = ""; app.appendChild(node);
    for (const [path, title, id, k] of [["bought-together", t("bought_together"), "bought-together", 6], ["similar", t("similar"), "similar", 12]]) {
      const box = el(`<div class="loading">${esc(t("loading"))}</div>`);
      const shelf = section(title, "", box, id);
      app.appendChild(shelf);
      api(`/v1/items/${encodeURIComponent(item.item_id)}/${path}`, { params: Object.assign({ k }, who()) })
        .then((data) => {
          const results = data.results || [];
          if (!results.length) { shelf.remove(); return; } // nothing to show: no empty shelf
          box.replaceWith(grid(results, { context: `${path}:${item.item_id}`, about: item.item_id }));
          logImpression(path.replace("-", "_"), results, null, data);
        })
        .catch((e) => box.replaceWith(failure(e)));
    }
  }

  function cartPage() {
    const items = cart();
    app.innerHTML = `<h1>${esc(t("cart"))}</h1>`;
    if (!items.length) { app.appendChild(el(`<p class="empty">${esc(t("cart_empty"))} <a href="/" data-link>${esc(t("go_shopping"))}</a></p>`)); return; }
    const table = el(`<div class="cart" id="cart"></div>`);
    items.forEach((x, i) => {
      const row = el(`<div class="cart-row" data-item="${esc(x.item_id)}"><img src="${esc(image(x))}" alt="" width="64" height="64">
        <a href="/item/${encodeURIComponent(x.item_id)}" data-link class="cart-title">${esc(x.title)}</a>
        <span class="qty"><button class="linkish minus">−</button> ${x.qty} <button class="linkish plus">+</button></span>
        <span class="price">${esc(price(x.price * x.qty))}</span><button class="linkish remove">${esc(t("remove"))}</button></div>`);
      row.querySelector(".plus").onclick = () => { items[i].qty += 1; saveCart(items); cartPage(); };
      row.querySelector(".minus").onclick = () => { items[i].qty = Math.max(1, items[i].qty - 1); saveCart(items); cartPage(); };
      row.querySelector(".remove").onclick = () => { items.splice(i, 1); saveCart(items); cartPage(); };
      table.appendChild(row);
    });
    const total = items.reduce((s, x) => s + (x.price || 0) * x.qty, 0);
    table.appendChild(el(`<div class="cart-total">${esc(t("subtotal"))}: <b class="price big" id="cart-total">${esc(price(total))}</b></div>`));
    app.appendChild(table);
    const form = el(`<form class="checkout" id="checkout"><h3>${esc(t("checkout_title"))}</h3>
      <label>${esc(t("name"))} <input name="name" value="${esc(user || t("guest"))}" required></label>
      <label>${esc(t("address"))} <input name="address" value="上海市浦东新区世纪大道 100 号" required></label>
      <button class="btn" id="place-order" type="submit">${esc(t("place_order"))}</button></form>`);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      await sendEvents(items.map((x) => ({ event_type: "purchase", item_id: x.item_id, value: x.qty })));
      saveCart([]);
      const order = "SS" + Date.now().toString().slice(-8);
      app.innerHTML = ""; app.appendChild(el(`<div class="done" id="order-done"><h1>${esc(t("order_done", { id: order }))}</h1><p>${esc(t("thanks"))}</p><a class="btn" href="/" data-link>${esc(t("go_shopping"))}</a></div>`));
    });
    app.appendChild(form);
  }

  function submitSearch() {
    const q = document.getElementById("q").value.trim();
    if (!q) return;
    document.getElementById("suggest").hidden = true;
    lastLoggedQuery = null;
    go("/search?q=" + encodeURIComponent(q));
  }

  // ---- login ----------------------------------------------------------------------------------
  function renderWho() {
    document.getElementById("who").textContent = user ? t("hello") + user : t("guest");
    document.getElementById("login").textContent = user ? t("logout") : t("login");
  }
  function setupLogin() {
    const dialog = document.getElementById("login-dialog"), select = document.getElementById("login-user");
    select.innerHTML = (CFG.demoUsers || []).map((u) => `<option>${esc(u)}</option>`).join("");
    document.getElementById("login").addEventListener("click", () => {
      if (user) { user = null; store.set("ss.user", null); session = SS.randomId("web-"); store.set("ss.session", session); store.set("ss.recent", []); hiddenNow = new Set(); saveHidden(); sessionReady = openSession(); renderWho(); route(); return; }
      if (typeof dialog.showModal === "function") dialog.showModal(); else dialog.setAttribute("open", "");
    });
    dialog.addEventListener("close", async () => {
      if (dialog.returnValue !== "ok") return;
      user = document.getElementById("login-custom").value.trim() || select.value;
      store.set("ss.user", user); sessionReady = openSession(); renderWho();
      // One event carrying both ids links this anonymous session to the shopper.
      const recent = store.get("ss.recent", []);
      if (recent.length) await sendEvent("view", recent[0]);
      route();
    });
  }

  // ---- router ---------------------------------------------------------------------------------
  const firstUrl = location.href;
  function go(url) { history.pushState({}, "", url); route(); window.scrollTo(0, 0); }
  async function route() {
    SS.applyI18n(); renderWho(); updateCartCount();
    const switcher = document.getElementById("lang");
    switcher.textContent = SS.lang === "zh" ? "EN" : "中文"; switcher.lang = SS.lang === "zh" ? "en" : "zh";
    const path = location.pathname;
    // personalised lists are computed only for the shopper whose cookie this browser holds:
    // a list asked before the (re)opened session's cookie is set would be a visitor's
    await sessionReady;
    if (path.startsWith("/item/")) return productPage(decodeURIComponent(path.slice(6)));
    if (CFG.status === 404 && location.href === firstUrl) return notFound(path.startsWith("/item/") ? "item" : "page");
    if (path === "/search") return results.render();
    if (path === "/cart") return cartPage();
    if (path === "/" || path === "") return home();
    return notFound("page");
  }
  document.addEventListener("click", (ev) => {
    const a = ev.target.closest("a[data-link]");
    if (!a || ev.ctrlKey || ev.metaKey || ev.shiftKey || a.target) return;
    ev.preventDefault(); go(a.getAttribute("href"));
  });
  window.addEventListener("popstate", route);
  document.getElementById("search-form").addEventListener("submit", (ev) => { ev.preventDefault(); submitSearch(); });
  document.getElementById("lang").addEventListener("click", () => { SS.setLang(SS.lang === "zh" ? "en" : "zh"); route(); });

  instant.setup(); setupLogin();
  api("/web/glossary.json", { key: "" }).then((g) => SS.setGlossary(g)).catch(() => {}).finally(route);
})();
