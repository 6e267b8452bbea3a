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
    document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  }

  function setLang(next) { lang = next; store.set("ss.lang", next); applyI18n(); }

  class ApiError extends Error {
    constructor(status, body) {
      super((body && body.error && body.error.message) || ("HTTP " + status));
      this.status = status; this.body = body;
    }
  }

  async function api(path, { params, method, body, key, raw } = {}) {
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
    const res = await fetch(url, { method: method || "GET", headers, body: body === undefined ? undefined : JSON.stringify(body) });
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

  window.SS = { CFG, store, t, applyI18n, setLang, get lang() { return lang; }, api, ApiError, esc, price, el, randomId, toast };
})();
