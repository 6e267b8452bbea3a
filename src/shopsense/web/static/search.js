// Search-page parts of the storefront: URL state, "understood as" chips (with drops that
// name the original reading's parts), breadcrumbs, multi-select facets with counts, "show
// more" and search within long facets, a price slider over the price distribution, pagination.
// Every part builds links from a query string (`sp.qs`), so the phone's filter sheet can
// stage selections on a copy of the URL before applying them.
window.SSSearchParts = function ({ go }) {
  const { t, tr, esc, price, el } = window.SS;
  const PAGE_SIZE = 12;
  const FACET_SHOWN = 6;
  const SINGLE = new Set(["q", "page", "sort"]);

  function searchParams(qs) {
    const p = new URLSearchParams(qs === undefined ? location.search : qs);
    const out = { qs: p.toString(), q: p.get("q") || "", page: Math.max(1, Number(p.get("page") || 1) || 1), sort: p.get("sort") || "relevance", multi: {} };
    for (const [k, v] of p.entries()) if (!SINGLE.has(k)) (out.multi[k] = out.multi[k] || []).push(v);
    return out;
  }
  // change: {key: value} sets, {key: null} deletes, {"+key": v or [v]} appends, {"-key": v or [v]} removes values.
  function searchUrl(change, sp) {
    const p = new URLSearchParams(sp ? sp.qs : location.search);
    for (const [k, v] of Object.entries(change)) {
      if (k.startsWith("+")) [].concat(v).forEach((x) => p.append(k.slice(1), x));
      else if (k.startsWith("-")) { const keep = p.getAll(k.slice(1)).filter((x) => ![].concat(v).map(String).includes(x)); p.delete(k.slice(1)); keep.forEach((x) => p.append(k.slice(1), x)); }
      else if (v === null || v === undefined) p.delete(k);
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
  const val = (s) => (s && s.value !== undefined ? s.value : s);
  const first = (v) => (Array.isArray(v) ? v[0] : v);
  function attrText(v) {
    if (!Array.isArray(v)) return tr.value(v);
    return `${tr.attr(v[0])}: ${tr.value(first(v[1]))}`;
  }
  function chipList(u, drops) {
    const out = [];
    if (u.category) out.push({ drop: "category", text: t("category_chip", { v: tr.cat(val(u.category)) }) });
    (u.brands || []).forEach((b, i) => out.push({ drop: `brand:${originalIndex("brand", i, drops)}`, text: t("brand_chip", { v: tr.brand(first(val(b))) }) }));
    if (u.price_min) out.push({ drop: "price_min", text: t("price_min", { v: Math.round(val(u.price_min)) }) });
    if (u.price_max) out.push({ drop: "price_max", text: t("price_max", { v: Math.round(val(u.price_max)) }) });
    if (u.value_preference) out.push({ drop: "value_preference", text: t("value_" + val(u.value_preference)) });
    (u.attributes || []).forEach((a, i) => out.push({ drop: `attribute:${originalIndex("attribute", i, drops)}`, text: attrText(val(a)) }));
    (u.exclusions || []).forEach((x, i) => {
      const v = val(x); let payload = Array.isArray(v) ? v[1] : v;
      if (Array.isArray(payload)) payload = Array.isArray(payload[1]) ? `${tr.attr(payload[0])}=${tr.value(first(payload[1]))}` : tr.value(first(payload));
      out.push({ drop: `exclusion:${originalIndex("exclusion", i, drops)}`, text: t("exclude", { v: tr.text(payload) }) });
    });
    return out;
  }
  // `relaxed[]` (filters the engine set aside to find anything): {kind, value, reason, ...}.
  // Each names chips: price -> price_min / price_max, category, brand:*, attribute:*.
  function relaxedParts(relaxed) {
    const out = new Set();
    for (const r of relaxed || []) {
      const kind = String(r.part || r.kind || r.filter || "");
      if (kind === "price" && Array.isArray(r.value)) { if (r.value[0] !== null) out.add("price_min"); if (r.value[1] !== null) out.add("price_max"); }
      else if (kind) out.add(kind.replace(/s$/, ""));
    }
    return out;
  }
  function relaxedText(r) {
    const own = SS.lang === "zh" ? (r.message_zh || r.text_zh) : (r.message_en || r.text_en);
    if (own) return SS.lang === "zh" ? own : tr.text(own);
    const v = r.value;
    let what = "";
    if (r.kind === "price" && Array.isArray(v)) what = [v[0] !== null ? t("price_min", { v: Math.round(v[0]) }) : "", v[1] !== null ? t("price_max", { v: Math.round(v[1]) }) : ""].filter(Boolean).join(" ");
    else if (r.kind === "category") what = tr.cat(String(v));
    else if (r.kind === "brand") what = [].concat(v).map((b) => tr.brand(String(b))).join(" / ");
    else if (Array.isArray(v)) what = `${tr.attr(v[0])}: ${[].concat(v[1]).map(tr.value).join(" / ")}`;
    else what = tr.value(v);
    return t("relaxed_note", { v: what });
  }
  function chips(understood, sp, relaxed) {
    const box = el(`<div class="understood" id="understood"><span class="label">${esc(t("understood"))}</span></div>`);
    const list = chipList(understood, sp.multi.drop || []);
    const loose = relaxedParts(relaxed);
    if (!list.length) box.appendChild(el(`<span class="muted">${esc(t("reading_none"))}</span>`));
    list.forEach((c) => {
      const isRelaxed = loose.has(c.drop) || loose.has(c.drop.split(":")[0]) || loose.has(c.drop.replace(/_(min|max)$/, ""));
      const chip = el(`<span class="chip ${isRelaxed ? "relaxed" : ""}" data-drop="${esc(c.drop)}">${esc(c.text)}${isRelaxed ? ` <small>(${esc(t("relaxed_chip"))})</small>` : ""} <button aria-label="${esc(t("remove_chip", { v: c.text }))}">×</button></span>`);
      chip.querySelector("button").addEventListener("click", () => go(searchUrl({ ["+drop"]: c.drop }, sp)));
      box.appendChild(chip);
    });
    return box;
  }

  // Category breadcrumbs: every level links to its own (wider) search.
  function crumbs(sp, category) {
    const nav = el(`<nav class="crumbs" id="crumbs" aria-label="${esc(t("breadcrumbs"))}"><a href="/" data-link>${esc(t("home"))}</a></nav>`);
    if (!category) return nav;
    const parts = category.split(" > ");
    parts.forEach((_, i) => {
      const path = parts.slice(0, i + 1).join(" > ");
      const label = tr.cat(path).split(" > ").pop();
      nav.appendChild(document.createTextNode(" › "));
      nav.appendChild(i === parts.length - 1 ? el(`<span aria-current="page">${esc(label)}</span>`)
        : el(`<a href="${esc(searchUrl({ category: path }, sp))}" data-link>${esc(label)}</a>`));
    });
    return nav;
  }

  // Facet items arrive as {value: count} maps, [{value, count}] or [{value, label, count, selected}].
  // Values that read the same in the shopper's language (白色 / white) become one entry.
  function facetItems(raw, name, selected) {
    const list = !raw ? [] : Array.isArray(raw) ? raw : Object.entries(raw).map(([value, count]) => ({ value, count }));
    const byLabel = new Map();
    for (const item of list) {
      const value = String(item.value);
      // categories: the whole path in the shopper's language (the server's label is its last node)
      // the server's label when it says more than the raw value, else the shop's glossary
      const own = name === "brand" ? tr.brand(value) : tr.value(value);
      const label = name === "category" ? tr.cat(value) : (item.label && item.label !== value ? item.label : own);
      const key = label.toLowerCase();
      const entry = byLabel.get(key) || { label, values: [], count: 0, selected: false };
      entry.values.push(value); entry.count += Number(item.count || 0);
      entry.selected = entry.selected || Boolean(item.selected) || selected.includes(value);
      byLabel.set(key, entry);
    }
    return [...byLabel.values()].sort((a, b) => b.selected - a.selected || b.count - a.count);
  }
  function facetBlock(id, title, param, items, sp, multi) {
    const chosen = sp.multi[param] || [];
    const box = el(`<div class="facet" id="${esc(id)}"><h4>${esc(title)}</h4><ul></ul></div>`);
    const ul = box.querySelector("ul");
    items.forEach((item, i) => {
      const url = item.selected ? searchUrl({ ["-" + param]: item.values }, sp)
        : multi ? searchUrl({ ["-" + param]: item.values, ["+" + param]: item.values }, sp)
          : searchUrl({ [param]: item.values[0] }, sp);
      const li = el(`<li class="${i >= FACET_SHOWN && !item.selected ? "extra" : ""}"><a href="${esc(url)}" data-link role="checkbox" aria-checked="${item.selected}" class="${item.selected ? "active" : ""}" data-values="${esc(item.values.join("|"))}">${multi ? `<span class="box" aria-hidden="true"></span>` : ""}${esc(item.label)}</a> <span class="count">${item.count}</span></li>`);
      ul.appendChild(li);
    });
    if (chosen.length && !items.some((x) => x.selected)) chosen.forEach((v) => ul.prepend(el(`<li><a href="${esc(searchUrl({ ["-" + param]: v }, sp))}" data-link class="active" role="checkbox" aria-checked="true">${esc(tr.value(v))}</a></li>`)));
    const extra = items.filter((x, i) => i >= FACET_SHOWN && !x.selected).length;
    if (extra) {
      box.classList.add("folded");
      const more = el(`<button type="button" class="linkish more">${esc(t("show_more", { n: extra }))}</button>`);
      more.addEventListener("click", () => { const folded = box.classList.toggle("folded"); more.textContent = folded ? t("show_more", { n: extra }) : t("show_less"); });
      box.appendChild(more);
    }
    if (items.length > 10) {
      const find = el(`<input type="search" class="facet-find" placeholder="${esc(t("facet_find", { f: title }))}" aria-label="${esc(t("facet_find", { f: title }))}">`);
      find.addEventListener("input", () => {
        const needle = find.value.trim().toLowerCase();
        box.classList.toggle("searching", Boolean(needle));
        ul.querySelectorAll("li").forEach((li) => { li.hidden = Boolean(needle) && !li.textContent.toLowerCase().includes(needle); });
      });
      box.querySelector("h4").after(find);
    }
    return box;
  }

  // Price: a two-handle slider over the result's price distribution (bars per band).
  function priceBands(raw) {
    if (Array.isArray(raw)) return raw.filter((b) => b && b.min !== undefined).map((b) => ({ min: Number(b.min), max: b.max === null || b.max === undefined ? null : Number(b.max), count: Number(b.count || 0) })).sort((a, b) => a.min - b.min);
    return Object.entries(raw || {}).map(([label, count]) => {
      let m;
      if ((m = label.match(/^(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$/))) return { min: Number(m[1]), max: Number(m[2]), count };
      if ((m = label.match(/^>=?(\d+(?:\.\d+)?)$/))) return { min: Number(m[1]), max: null, count };
      if ((m = label.match(/^<=?(\d+(?:\.\d+)?)$/))) return { min: 0, max: Number(m[1]), count };
      return null;
    }).filter(Boolean).sort((a, b) => a.min - b.min);
  }
  function priceSlider(raw, sp, maxSeen) {
    const bands = priceBands(raw).filter((b) => b.count > 0);
    if (!bands.length) return null;
    const lo = Math.floor(bands[0].min);
    const last = bands[bands.length - 1];
    const hi = Math.ceil(Math.max(last.max || 0, maxSeen || 0, last.min * 1.5, lo + 1));
    const step = Math.max(1, Math.round((hi - lo) / 100));
    const cur = [Number((sp.multi.price_min || [lo])[0]), Number((sp.multi.price_max || [hi])[0])];
    const top = Math.max(...bands.map((b) => b.count));
    const bars = bands.map((b) => {
      const left = (100 * (b.min - lo)) / (hi - lo), right = (100 * ((b.max ?? hi) - lo)) / (hi - lo);
      return `<span class="bar" title="${esc(price(b.min))} – ${esc(b.max === null ? "" : price(b.max))}: ${b.count}" style="left:${left.toFixed(1)}%;width:${Math.max(2, right - left).toFixed(1)}%;height:${(100 * b.count / top).toFixed(0)}%"></span>`;
    }).join("");
    const box = el(`<div class="facet" id="facet-price"><h4>${esc(t("facet_price"))}</h4>
      <div class="histogram" aria-hidden="true">${bars}</div>
      <div class="range"><input type="range" id="price-lo" min="${lo}" max="${hi}" step="${step}" value="${Math.max(lo, Math.min(hi, cur[0]))}" aria-label="${esc(t("price_from"))}">
      <input type="range" id="price-hi" min="${lo}" max="${hi}" step="${step}" value="${Math.max(lo, Math.min(hi, cur[1]))}" aria-label="${esc(t("price_to"))}"></div>
      <div class="range-values"><output id="price-lo-out"></output><output id="price-hi-out"></output></div></div>`);
    const [a, b] = [box.querySelector("#price-lo"), box.querySelector("#price-hi")];
    const show = () => { box.querySelector("#price-lo-out").textContent = price(Math.min(a.value, b.value)); box.querySelector("#price-hi-out").textContent = price(Math.max(a.value, b.value)) + (Number(Math.max(a.value, b.value)) >= hi ? "+" : ""); };
    const apply = () => {
      const low = Math.min(a.value, b.value), high = Math.max(a.value, b.value);
      go(searchUrl({ price_min: low > lo ? low : null, price_max: high < hi ? high : null }, sp));
    };
    [a, b].forEach((input) => { input.addEventListener("input", show); input.addEventListener("change", apply); });
    show();
    return box;
  }

  function facets(f, sp, results) {
    const box = el(`<div></div>`);
    if (Object.keys(sp.multi).some((k) => k !== "drop")) {
      const p = new URLSearchParams({ q: sp.q }); (sp.multi.drop || []).forEach((d) => p.append("drop", d));
      box.appendChild(el(`<a class="clear" href="/search?${p}" data-link>${esc(t("clear_filters"))}</a>`));
    }
    const cats = facetItems(f.category, "category", sp.multi.category || []);
    if (cats.length) box.appendChild(facetBlock("facet-category", t("facet_category"), "category", cats, sp, false));
    const brands = facetItems(f.brand, "brand", sp.multi.brand || []);
    if (brands.length) box.appendChild(facetBlock("facet-brand", t("facet_brand"), "brand", brands, sp, true));
    const maxSeen = Math.max(0, ...(results || []).map((r) => Number(r.price) || 0));
    const slider = priceSlider(f.price, sp, maxSeen);
    if (slider) box.appendChild(slider);
    const attrs = Object.entries(f.attributes || {}).filter(([key, raw]) => !["consumable", "model"].includes(key) && (Array.isArray(raw) ? raw.length : Object.keys(raw || {}).length) > 1);
    for (const [key, raw] of attrs.slice(0, 5)) {
      const param = "attr." + key;
      const heading = (f.attribute_labels || {})[key] || tr.attr(key);
      const block = facetBlock("facet-attr-" + key, heading.charAt(0).toUpperCase() + heading.slice(1), param, facetItems(raw, key, sp.multi[param] || []), sp, true);
      block.dataset.attr = key;
      box.appendChild(block);
    }
    return box;
  }

  function lastPage(data) { return Math.max(1, Math.ceil((data.total || 0) / (data.k || PAGE_SIZE))); }
  function pager(data, sp) {
    const pages = lastPage(data);
    const box = el(`<nav class="pager" id="pager" aria-label="${esc(t("pages"))}"></nav>`);
    if (pages <= 1) return box;
    const link = (n, label, cls) => `<a href="${esc(searchUrl({ page: n }, sp))}" data-link class="${cls || ""}">${esc(label)}</a>`;
    const parts = [];
    if (sp.page > 1) parts.push(link(sp.page - 1, t("prev"), "prev"));
    const start = Math.max(1, Math.min(sp.page - 2, pages - 4)), end = Math.min(pages, start + 4);
    if (start > 1) parts.push(link(1, "1"), start > 2 ? "<span class=\"gap\">…</span>" : "");
    for (let n = start; n <= end; n++) parts.push(n === sp.page ? `<span class="current" aria-current="page">${n}</span>` : link(n, String(n)));
    if (end < pages) parts.push(end < pages - 1 ? "<span class=\"gap\">…</span>" : "", link(pages, String(pages)));
    if (sp.page < pages) parts.push(link(sp.page + 1, t("next"), "next"));
    box.innerHTML = parts.join("");
    return box;
  }

  return { searchParams, searchUrl, chips, crumbs, facets, pager, lastPage, chipList, relaxedText, PAGE_SIZE };
};
