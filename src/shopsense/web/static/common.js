// Shared by the storefront and the dashboard: config, i18n, API calls, formatting.
(function () {
  const CFG = JSON.parse(document.getElementById("cfg").textContent || "{}");
  const store = {
    get(key, fallback) {
      try { const v = localStorage.getItem(key); return v === null ? fallback : JSON.parse(v); }
      catch (e) { return fallback; }
    },
    set(key, value) { localStorage.setItem(key, JSON.stringify(value)); },
  };
  let lang = store.get("ss.lang", null) || ((navigator.language || "zh").startsWith("en") ? "en" : "zh");

  function t(key, vars) {
    const table = window.I18N[lang] || window.I18N.zh;
    let s = table[key] !== undefined ? table[key] : (window.I18N.en[key] || key);
    for (const [k, v] of Object.entries(vars || {})) s = s.split("{" + k + "}").join(String(v));
    return s;
  }

  function applyI18n(root) {
    (root || document).querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
    (root || document).querySelectorAll("[data-i18n-placeholder]").forEach((el) => { el.placeholder = t(el.dataset.i18nPlaceholder); });
    (root || document).querySelectorAll("[data-i18n-aria]").forEach((el) => { el.setAttribute("aria-label", t(el.dataset.i18nAria)); });
    document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  }

  function setLang(next) { lang = next; store.set("ss.lang", next); applyI18n(); }

  class ApiError extends Error {
    constructor(status, body) {
      super((body && body.error && body.error.message) || ("HTTP " + status));
      this.status = status; this.body = body;
    }
  }

  async function api(path, { params, method, body, key, raw, signal } = {}) {
    const url = new URL(path, location.origin);
    for (const [k, v] of Object.entries(params || {})) {
      if (v === undefined || v === null || v === "") continue;
      if (Array.isArray(v)) v.forEach((x) => url.searchParams.append(k, x));
      else url.searchParams.set(k, v);
    }
    const headers = {};
    const apiKey = key !== undefined ? key : CFG.publicKey;
    if (apiKey) headers["X-API-Key"] = apiKey;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const res = await fetch(url, { method: method || "GET", headers, signal, body: body === undefined ? undefined : JSON.stringify(body) });
    if (raw) { if (!res.ok) throw new ApiError(res.status, null); return res; }
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    if (!res.ok) throw new ApiError(res.status, data);
    return data;
  }

  function esc(s) {
    return String(s === undefined || s === null ? "" : s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }

  function price(v) {
    if (v === null || v === undefined || isNaN(v)) return "";
    const n = Number(v);
    return "¥" + n.toLocaleString("zh-CN", { minimumFractionDigits: n % 1 ? 2 : 0, maximumFractionDigits: 2 });
  }

  function el(html) { const tpl = document.createElement("template"); tpl.innerHTML = html.trim(); return tpl.content.firstElementChild; }

  function randomId(prefix) {
    const bytes = new Uint8Array(8); crypto.getRandomValues(bytes);
    return prefix + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function toast(html, ms) {
    const box = document.getElementById("toast");
    if (!box) return;
    box.innerHTML = html; box.hidden = false;
    clearTimeout(box._timer);
    box._timer = setTimeout(() => { box.hidden = true; }, ms || 3500);
    return box;
  }

  // The catalogue's glossary (GET /web/glossary.json): category paths, attribute names and
  // values, brands in both languages. `tr` shows catalogue terms in the chosen language.
  let G = { categories: {}, attributes: {}, values: {}, brands: {} }, reverse = {}, zhTerms = [];
  const CJK = /[\u3400-\u9fff\uf900-\ufaff]/;
  function setGlossary(g) {
    G = Object.assign({ categories: {}, attributes: {}, values: {}, brands: {} }, g || {});
    reverse = {}; for (const [zh, en] of Object.entries(G.values)) reverse[en.toLowerCase()] = zh;
    const pairs = new Map();
    for (const [zh, en] of Object.entries(G.categories)) {
      pairs.set(zh, en);
      const a = zh.split(" > "), b = en.split(" > ");
      if (a.length === b.length) a.forEach((node, i) => { if (!pairs.has(node)) pairs.set(node, b[i]); });
    }
    for (const table of [G.brands, G.values]) for (const [zh, en] of Object.entries(table)) if (!pairs.has(zh)) pairs.set(zh, en);
    zhTerms = [...pairs.entries()].filter(([zh]) => CJK.test(zh)).sort((x, y) => y[0].length - x[0].length);
  }
  const upper = (s) => (s ? s[0].toUpperCase() + s.slice(1) : s);
  const tr = {
    cat(path) {
      if (!path || lang !== "en") return path || "";
      if (G.categories[path]) return G.categories[path];
      const parts = path.split(" > ");
      return parts.map((node, i) => { const known = G.categories[parts.slice(0, i + 1).join(" > ")]; return known ? known.split(" > ").pop() : tr.text(node); }).join(" > ");
    },
    attr(key) {
      const names = G.attributes[key] || {};
      return upper(names[lang] || names.en || String(key).replace(/_/g, " "));
    },
    value(v) {
      if (v === true || v === "true") return t("yes");
      if (v === false || v === "false") return t("no");
      const s = String(v);
      if (lang === "en") return G.values[s] || tr.text(s);
      return reverse[s.toLowerCase()] || s;
    },
    brand(b) { return lang === "en" && b ? (G.brands[b] || b) : (b || ""); },
    // Catalogue terms written in Chinese inside an English sentence (a reason naming a category).
    text(s) {
      let out = String(s === undefined || s === null ? "" : s);
      if (lang !== "en" || !CJK.test(out)) return out;
      for (const [zh, en] of zhTerms) if (out.includes(zh)) out = out.split(zh).join(en);
      return out;
    },
  };

  // The language of a piece of shop content (a title, a description, a typed query), for its
  // `lang` attribute: screen readers and the page's own language check rely on it.
  const langOf = (text) => (CJK.test(String(text || "")) ? "zh" : "en");

  window.SS = { CFG, store, t, tr, langOf, setGlossary, CJK, applyI18n, setLang, get lang() { return lang; }, api, ApiError, esc, price, el, randomId, toast };
})();
