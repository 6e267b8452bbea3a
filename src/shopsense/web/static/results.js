// The search results page: heading, breadcrumbs, "understood as" chips, notices (corrected
// query, relaxed readings, no exact match), results, pager and facets (a side column on a
// desktop, a filter sheet with "show N results" on a phone). No dead ends: a page past the
// last one is replaced by the last; zero results offer the corrected query, relaxed
// alternatives (each with its result count) and popular items of the nearest category.
window.SSResults = function (ctx) {
  const { t, tr, api, esc, el } = window.SS;
  const { grid, failure, go, who, logSearch, logImpression } = ctx;
  const parts = window.SSSearchParts({ go });
  const { searchParams, searchUrl, chips, crumbs, facets, pager, lastPage, chipList, relaxedText, PAGE_SIZE } = parts;
  const app = document.getElementById("app");
  const narrow = () => window.matchMedia("(max-width: 760px)").matches;

  async function query(sp, extra) {
    const data = await api("/v1/search", { params: Object.assign({ q: sp.q, k: PAGE_SIZE, page: sp.page, sort: sp.sort, lang: SS.lang }, who(), sp.multi, extra || {}) });
    await disjunctive(data, sp);
    return data;
  }
  // Multi-select facets count each value as if its own group's selection were not made (the
  // other groups' selections apply), so a shopper sees what adding a brand would bring. When
  // the server marks items `selected` it has counted them so already.
  async function disjunctive(data, sp) {
    const f = data.facets || {};
    const first = (f.brand || [])[0];
    if (first && first.selected !== undefined) return;
    const groups = Object.keys(sp.multi).filter((k) => k === "brand" || k.startsWith("attr."));
    await Promise.all(groups.map(async (param) => {
      const others = Object.assign({}, sp.multi); delete others[param];
      try {
        const wider = (await api("/v1/search", { params: Object.assign({ q: sp.q, k: 1, lang: SS.lang }, who(), others) })).facets || {};
        if (param === "brand") f.brand = wider.brand;
        else (f.attributes = f.attributes || {})[param.slice(5)] = (wider.attributes || {})[param.slice(5)];
      } catch (e) { /* keep the narrower counts */ }
    }));
  }

  function notices(col, data, sp) {
    if (data.did_you_mean) col.appendChild(el(`<p class="notice" id="did-you-mean">${esc(t("did_you_mean"))} <a href="${esc(searchUrl({ q: data.did_you_mean, drop: null }, sp))}" data-link>${esc(data.did_you_mean)}</a>?</p>`));
    (data.relaxed || []).forEach((r) => col.appendChild(el(`<p class="notice relaxed-note">${esc(relaxedText(r))}</p>`)));
    const nem = data.no_exact_match;
    if (nem) {
      const own = SS.lang === "zh" ? nem.message_zh : nem.message_en && tr.text(nem.message_en);
      const text = own || t("no_exact_match", { q: typeof nem === "string" ? nem : (nem.requested || nem.query || sp.q) });
      col.appendChild(el(`<p class="notice" id="no-exact">${esc(text)}</p>`));
    }
  }

  async function render() {
    const sp = searchParams();
    document.getElementById("q").value = sp.q;
    app.innerHTML = `<div class="loading">${esc(t("loading"))}</div>`;
    let data;
    try { data = await query(sp); } catch (e) { app.innerHTML = ""; app.appendChild(failure(e)); return; }
    if (data.redirect && data.redirect !== location.pathname + location.search) { location.replace(data.redirect); return; } // the shop's redirect for this query
    const results = data.results || [];
    if (!results.length && data.total > 0 && sp.page > lastPage(data)) { // past the end: the last page
      history.replaceState({}, "", searchUrl({ page: lastPage(data) }, sp)); return render();
    }
    logSearch(sp.q);
    app.innerHTML = "";
    const layout = el(`<div class="search-layout"><aside class="facets" aria-label="${esc(t("filters"))}"><div id="facets"></div></aside><div class="results-col"></div></div>`);
    const col = layout.querySelector(".results-col");
    const category = (sp.multi.category || [])[0] || (data.understood && data.understood.category && (data.understood.category.value || data.understood.category)) || "";
    col.appendChild(crumbs(sp, typeof category === "string" ? category : ""));
    col.appendChild(el(`<div class="results-head"><h1>${esc(t("results_for", { q: data.query || sp.q }))}</h1>
      <span class="muted" id="total">${esc(t("total", { n: data.total ?? results.length }))}</span>
      <button type="button" class="btn-ghost filters-open" id="filters-open">${esc(t("filters"))}</button>
      <label class="sort">${esc(t("sort"))} <select id="sort">${["relevance", "price_asc", "price_desc", "popularity", "newest"].map((s) => `<option value="${s}" ${s === sp.sort ? "selected" : ""}>${esc(t("sort_" + s))}</option>`).join("")}</select></label></div>`));
    col.appendChild(chips(data.understood || {}, sp, data.relaxed));
    notices(col, data, sp);
    logImpression("search", results, { query: sp.q, total: data.total ?? results.length }, data);
    if (!results.length) col.appendChild(await rescue(data, sp));
    else col.appendChild(Object.assign(grid(results, { dismiss: true, query: sp.q, onDismiss: render, context: "search:" + sp.q }), { id: "results" }));
    col.appendChild(pager(data, sp));
    layout.querySelector("#facets").appendChild(facets(data.facets || {}, sp, results));
    app.appendChild(layout);
    layout.querySelector("#sort").addEventListener("change", (ev) => go(searchUrl({ sort: ev.target.value }, sp)));
    layout.querySelector("#filters-open").addEventListener("click", () => openSheet(sp, data));
  }

  // ---- zero results ------------------------------------------------------------------------
  async function rescue(data, sp) {
    const box = el(`<div class="empty rescue" id="rescue"><h2>${esc(t("no_results_for", { q: sp.q }))}</h2></div>`);
    if (data.did_you_mean) box.appendChild(el(`<p>${esc(t("did_you_mean"))} <a class="pill" href="${esc(searchUrl({ q: data.did_you_mean, drop: null }, sp))}" data-link>${esc(data.did_you_mean)}</a></p>`));
    const [alternatives, popular] = await Promise.all([relaxations(data, sp), popularNear(data, sp)]);
    if (alternatives.length) {
      const ul = el(`<ul class="alternatives" id="alternatives"></ul>`);
      alternatives.forEach((a) => ul.appendChild(el(`<li><a href="${esc(a.url)}" data-link>${esc(a.text)}</a> <span class="count">${esc(t("n_results", { n: a.total }))}</span></li>`)));
      box.appendChild(el(`<h3>${esc(t("try_instead"))}</h3>`)); box.appendChild(ul);
    }
    if (!data.did_you_mean && !alternatives.length) box.appendChild(el(`<p>${esc(t("no_results"))}</p>`));
    if (popular.items.length) {
      box.appendChild(el(`<h3>${esc(popular.category ? t("popular_in", { c: tr.cat(popular.category) }) : t("trending"))}</h3>`));
      box.appendChild(Object.assign(grid(popular.items, { context: "trending" }), { id: "popular-near" }));
      logImpression("trending", popular.items, null, popular.answer);
    }
    return box;
  }
  // Each thing the shopper could let go of — a chip, a filter, a word — with its result count.
  async function relaxations(data, sp) {
    const options = chipList(data.understood || {}, sp.multi.drop || []).map((c) => ({ text: t("without", { v: c.text }), url: searchUrl({ ["+drop"]: c.drop }, sp) }));
    for (const [key, values] of Object.entries(sp.multi)) {
      if (key === "drop") continue;
      values.forEach((v) => options.push({ text: t("without", { v: key === "category" ? tr.cat(v) : key.startsWith("price") ? t(key, { v }) : tr.value(v) }), url: searchUrl({ ["-" + key]: v }, sp) }));
    }
    const filters = Object.keys(sp.multi).filter((k) => k !== "drop");
    if (filters.length > 1) options.push({ text: t("without_filters"), url: "/search?" + new URLSearchParams({ q: sp.q }) });
    const words = sp.q.split(/\s+/).filter(Boolean);
    if (words.length > 1) words.forEach((w) => options.push({ text: t("without", { v: w }), url: searchUrl({ q: words.filter((x) => x !== w).join(" "), drop: null }, sp) }));
    const counted = await Promise.all(options.slice(0, 8).map(async (o) => {
      const next = searchParams(o.url.split("?")[1]);
      try { const d = await api("/v1/search", { params: Object.assign({ q: next.q, k: 1 }, who(), next.multi) }); return Object.assign(o, { total: d.total || 0 }); }
      catch (e) { return Object.assign(o, { total: 0 }); }
    }));
    return counted.filter((o) => o.total > 0).sort((a, b) => b.total - a.total).slice(0, 4);
  }
  // The nearest category: the one asked for, else the suggestion's, walking up until it has items.
  async function popularNear(data, sp) {
    let category = (sp.multi.category || [])[0] || (data.understood && data.understood.category && (data.understood.category.value || data.understood.category)) || "";
    if (!category && sp.q) {
      try {
        const wide = await api("/v1/search", { params: Object.assign({ q: sp.q, k: 1, understand: false }, who()) });
        const cats = (wide.facets && wide.facets.category) || [];
        category = (Array.isArray(cats) && cats[0] && cats[0].value) || (wide.results && wide.results[0] && wide.results[0].category) || "";
      } catch (e) { category = ""; }
    }
    for (let path = typeof category === "string" ? category : ""; ; path = path.split(" > ").slice(0, -1).join(" > ")) {
      try {
        const d = await api("/v1/trending", { params: Object.assign({ k: 6 }, path ? { category: path } : {}) });
        if ((d.results || []).length || !path) return { category: path, items: d.results || [], answer: d };
      } catch (e) { if (!path) return { category: "", items: [] }; }
    }
  }

  // ---- phone filter sheet ---------------------------------------------------------------------
  // Selections are staged on a copy of the URL; the counts and "show N results" follow them;
  // the button applies them in one navigation.
  function openSheet(sp, data) {
    let dialog = document.getElementById("filter-sheet");
    if (!dialog) {
      dialog = el(`<dialog id="filter-sheet" class="sheet" aria-labelledby="sheet-title"><div class="sheet-head"><h2 id="sheet-title">${esc(t("filters"))}</h2><button type="button" class="linkish" id="sheet-close">${esc(t("close"))}</button></div><div class="sheet-body"></div><div class="sheet-foot"><button type="button" class="btn" id="sheet-apply"></button></div></dialog>`);
      document.body.appendChild(dialog);
      dialog.querySelector("#sheet-close").addEventListener("click", () => dialog.close());
    }
    let staged = sp;
    const body = dialog.querySelector(".sheet-body"), apply = dialog.querySelector("#sheet-apply");
    const stagedGo = async (url) => {
      staged = searchParams(url.split("?")[1] || "");
      apply.disabled = true;
      try { fill(await query(staged, { page: 1 })); } catch (e) { body.replaceChildren(failure(e)); }
    };
    const fill = (d) => {
      const sheetParts = window.SSSearchParts({ go: stagedGo });
      body.replaceChildren(sheetParts.facets(d.facets || {}, staged, d.results || []));
      apply.textContent = t("show_n", { n: d.total ?? 0 }); apply.disabled = false;
    };
    body.onclick = (ev) => { const a = ev.target.closest("a[data-link]"); if (!a) return; ev.preventDefault(); ev.stopPropagation(); stagedGo(a.getAttribute("href")); };
    apply.onclick = () => { dialog.close(); go("/search?" + staged.qs); };
    fill(data);
    dialog.showModal();
  }

  return { render, narrow };
};
