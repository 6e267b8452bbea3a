// Search-page parts of the storefront: URL state, "understood as" chips (with drops that
// name the original reading's parts), facets (list or map shapes), pagination.
window.SSSearchParts = function ({ catName, go }) {
  const { t, esc, price, el } = window.SS;
  const PAGE_SIZE = 12;
  function searchParams() {
    const p = new URLSearchParams(location.search);
    const out = { q: p.get("q") || "", page: Number(p.get("page") || 1), sort: p.get("sort") || "relevance", multi: {} };
    for (const [k, v] of p.entries()) {
      if (["q", "page", "sort"].includes(k)) continue;
      (out.multi[k] = out.multi[k] || []).push(v);
    }
    return out;
  }
  function searchUrl(change) {
    const p = new URLSearchParams(location.search);
    for (const [k, v] of Object.entries(change)) {
      if (v === null) p.delete(k);
      else if (k.startsWith("+")) p.append(k.slice(1), v);
      else p.set(k, v);
    }
    if (!("page" in change)) p.delete("page");
    return "/search?" + p.toString();
  }

  // Drops name parts of the *original* reading ("attribute:2"); the response shows what is
  // left, so the i-th chip shown of a kind maps to the i-th original index not yet dropped.
  function originalIndex(kind, shown, drops) {
    const gone = new Set(drops.filter((d) => d.startsWith(kind + ":")).map((d) => Number(d.split(":")[1])));
    let j = 0, seen = -1;
    for (;; j++) { if (!gone.has(j)) { seen += 1; if (seen === shown) return j; } }
  }
  function chipList(u, drops) {
    const out = [];
    const val = (s) => (s && s.value !== undefined ? s.value : s);
    const first = (v) => (Array.isArray(v) ? v[0] : v);
    if (u.category) out.push({ drop: "category", text: t("category_chip", { v: catName(val(u.category)) }) });
    (u.brands || []).forEach((b, i) => out.push({ drop: `brand:${originalIndex("brand", i, drops)}`, text: t("brand_chip", { v: first(val(b)) }) }));
    if (u.price_min) out.push({ drop: "price_min", text: t("price_min", { v: Math.round(val(u.price_min)) }) });
    if (u.price_max) out.push({ drop: "price_max", text: t("price_max", { v: Math.round(val(u.price_max)) }) });
    if (u.value_preference) out.push({ drop: "value_preference", text: t("value_" + val(u.value_preference)) });
    (u.attributes || []).forEach((a, i) => {
      const v = val(a); const shown = Array.isArray(v) ? `${v[0]}: ${first(v[1])}` : v;
      out.push({ drop: `attribute:${originalIndex("attribute", i, drops)}`, text: (a && a.text) || shown });
    });
    (u.exclusions || []).forEach((x, i) => {
      const v = val(x); let payload = Array.isArray(v) ? v[1] : v;
      if (Array.isArray(payload)) payload = Array.isArray(payload[1]) ? `${payload[0]}=${first(payload[1])}` : first(payload);
      out.push({ drop: `exclusion:${originalIndex("exclusion", i, drops)}`, text: t("exclude", { v: (x && x.text) || payload }) });
    });
    return out;
  }
  function chips(understood, sp) {
    const box = el(`<div class="understood" id="understood"><span class="label">${esc(t("understood"))}</span></div>`);
    const list = chipList(understood, sp.multi.drop || []);
    if (!list.length) box.appendChild(el(`<span class="muted">${esc(t("reading_none"))}</span>`));
    list.forEach((c) => {
      const chip = el(`<span class="chip" data-drop="${esc(c.drop)}">${esc(c.text)} <button aria-label="remove">×</button></span>`);
      chip.querySelector("button").addEventListener("click", () => go(searchUrl({ ["+drop"]: c.drop })));
      box.appendChild(chip);
    });
    return box;
  }

  function facetLink(label, count, url, active) {
    return `<li><a href="${esc(url)}" data-link class="${active ? "active" : ""}">${esc(label)}</a>${count !== undefined ? ` <span class="count">${count}</span>` : ""}</li>`;
  }
  // Facets arrive as {value: count} maps (or [{value, count}] lists); price keys look like
  // "1000-2500", ">=5000" or "<100".
  function facetList(raw) {
    if (!raw) return [];
    if (Array.isArray(raw)) return raw;
    return Object.entries(raw).map(([value, count]) => ({ value, count })).sort((a, b) => b.count - a.count);
  }
  function priceBuckets(raw) {
    if (Array.isArray(raw)) return raw;
    return Object.entries(raw || {}).map(([label, count]) => {
      let m;
      if ((m = label.match(/^(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$/))) return { min: Number(m[1]), max: Number(m[2]), count };
      if ((m = label.match(/^>=?(\d+(?:\.\d+)?)$/))) return { min: Number(m[1]), max: null, count };
      if ((m = label.match(/^<=?(\d+(?:\.\d+)?)$/))) return { min: 0, max: Number(m[1]), count };
      return null;
    }).filter(Boolean).sort((a, b) => a.min - b.min);
  }
  function facets(f, sp, applied) {
    const box = el(`<div></div>`);
    const has = (k) => (sp.multi[k] || []).length > 0;
    if (Object.keys(sp.multi).some((k) => k !== "drop")) {
      const p = new URLSearchParams({ q: sp.q }); (sp.multi.drop || []).forEach((d) => p.append("drop", d));
      box.appendChild(el(`<a class="clear" href="/search?${p}" data-link>${esc(t("clear_filters"))}</a>`));
    }
    const cats = facetList(f.category).slice(0, 10);
    if (cats.length) box.appendChild(el(`<div class="facet" id="facet-category"><h4>${esc(t("facet_category"))}</h4><ul>${cats.map((c) => facetLink(catName(c.value), c.count, searchUrl({ category: c.value }), (sp.multi.category || [])[0] === c.value)).join("")}</ul></div>`));
    const brands = facetList(f.brand).slice(0, 12);
    if (brands.length) box.appendChild(el(`<div class="facet" id="facet-brand"><h4>${esc(t("facet_brand"))}</h4><ul>${brands.map((b) => facetLink(b.value, b.count, (sp.multi.brand || []).includes(b.value) ? searchUrl({ brand: null }) : searchUrl({ ["+brand"]: b.value }), (sp.multi.brand || []).includes(b.value))).join("")}</ul></div>`));
    const prices = priceBuckets(f.price);
    if (prices.length) box.appendChild(el(`<div class="facet" id="facet-price"><h4>${esc(t("facet_price"))}</h4><ul>${prices.filter((p) => p.count).map((p) => facetLink(`${price(p.min)} – ${p.max === null || p.max === undefined ? "" : price(p.max)}`, p.count, searchUrl({ price_min: p.min, price_max: p.max ?? null }), has("price_min") && Number(sp.multi.price_min[0]) === p.min)).join("")}</ul></div>`));
    const attrs = Object.entries(f.attributes || {}).filter(([key]) => !["consumable", "model"].includes(key)).slice(0, 4);
    for (const [key, raw] of attrs) {
      const param = "attr." + key, values = facetList(raw);
      box.appendChild(el(`<div class="facet" data-attr="${esc(key)}"><h4>${esc(key)}</h4><ul>${values.slice(0, 6).map((v) => facetLink(String(v.value), v.count, (sp.multi[param] || []).includes(String(v.value)) ? searchUrl({ [param]: null }) : searchUrl({ ["+" + param]: v.value }), (sp.multi[param] || []).includes(String(v.value)))).join("")}</ul></div>`));
    }
    return box;
  }
  function pager(data, sp) {
    const pages = Math.max(1, Math.ceil((data.total || 0) / (data.k || PAGE_SIZE)));
    const box = el(`<nav class="pager" id="pager"></nav>`);
    if (pages <= 1) return box;
    const link = (n, label, cls) => `<a href="${esc(searchUrl({ page: n }))}" data-link class="${cls || ""}">${esc(label)}</a>`;
    const parts = [];
    if (sp.page > 1) parts.push(link(sp.page - 1, t("prev"), "prev"));
    const start = Math.max(1, sp.page - 2), end = Math.min(pages, start + 4);
    for (let n = start; n <= end; n++) parts.push(n === sp.page ? `<span class="current">${n}</span>` : link(n, String(n)));
    if (sp.page < pages) parts.push(link(sp.page + 1, t("next"), "next"));
    box.innerHTML = parts.join("");
    return box;
  }

  return { searchParams, searchUrl, chips, facets, pager };
};
