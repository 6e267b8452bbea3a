// Search as you type: debounced, cancellable (AbortController) requests to /v1/search and
// /v1/suggest while the shopper types; a panel of products (thumbnail, highlighted title,
// price, category, brand) and suggestions (corrected query, categories, brands, popular
// searches, each with its kind in words); arrow keys, Enter and Escape; the page's URL only
// changes when the shopper picks something (so back returns to where they were).
window.SSInstant = function ({ go, image, who, submit }) {
  const { t, tr, api, esc, price } = window.SS;
  const DEBOUNCE_MS = 150;
  const KINDS = { query: "kind_query", catalog: "kind_catalog", category: "kind_category", brand: "kind_brand", product: "kind_product", correction: "kind_correction", word: "kind_word", title: "kind_product", history: "kind_query" };

  // Match spans: the engine's `highlights.title` ([[start, end], ...]) when present, else the
  // query's words found in the text (a Chinese run that is not found whole is tried by pairs).
  function spansFor(text, query) {
    const lower = text.toLowerCase(), out = [];
    const words = String(query || "").toLowerCase().split(/[\s,，、]+/).filter(Boolean);
    for (const word of words) {
      const pieces = lower.includes(word) || !SS.CJK.test(word) ? [word] : Array.from({ length: Math.max(1, word.length - 1) }, (_, i) => word.slice(i, i + 2));
      for (const piece of pieces) {
        if (!piece.trim()) continue;
        for (let i = lower.indexOf(piece); i >= 0; i = lower.indexOf(piece, i + piece.length)) out.push([i, i + piece.length]);
      }
    }
    return out;
  }
  function highlight(text, query, spans) {
    const s = String(text || "");
    const list = (Array.isArray(spans) && spans.length ? spans : spansFor(s, query))
      .map(([a, b]) => [Math.max(0, a), Math.min(s.length, b)]).filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
    let html = "", at = 0;
    for (const [a, b] of list) {
      if (b <= at) continue;
      const from = Math.max(a, at);
      html += esc(s.slice(at, from)) + "<mark>" + esc(s.slice(from, b)) + "</mark>";
      at = b;
    }
    return html + esc(s.slice(at));
  }
  function kindLabel(kind) { return t(KINDS[kind] || "kind_other"); }

  function setup() {
    const input = document.getElementById("q"), list = document.getElementById("suggest");
    let timer = null, controller = null, rows = [], active = -1;
    input.setAttribute("role", "combobox"); input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", "suggest"); input.setAttribute("aria-autocomplete", "list");
    const close = () => { list.hidden = true; active = -1; input.setAttribute("aria-expanded", "false"); input.removeAttribute("aria-activedescendant"); };
    const mark = () => {
      list.querySelectorAll("[role=option]").forEach((li, i) => li.classList.toggle("active", i === active));
      if (active >= 0) input.setAttribute("aria-activedescendant", "sg-" + active); else input.removeAttribute("aria-activedescendant");
    };
    function pick(row) {
      close();
      if (row.item) { go("/item/" + encodeURIComponent(row.item.item_id)); return; }
      if (row.url) { go(row.url); return; }
      input.value = row.text; submit();
    }
    function render(q, data, sugg) {
      rows = [];
      const parts = [];
      const option = (row, html) => { const i = rows.push(row) - 1; return `<li role="option" id="sg-${i}" data-i="${i}" class="${row.item ? "product" : "term"}" aria-selected="false">${html}</li>`; };
      if (data && data.did_you_mean) parts.push(option({ text: data.did_you_mean }, `<span>${esc(t("did_you_mean"))} <b>${esc(data.did_you_mean)}</b></span><small>${esc(kindLabel("correction"))}</small>`));
      const products = (data && data.results) || [];
      if (products.length) {
        parts.push(`<li class="group" role="presentation">${esc(t("instant_products"))}</li>`);
        products.forEach((item) => parts.push(option({ item }, `<img src="${esc(image(item))}" alt="" width="40" height="40"><span class="sg-main"><span class="sg-title" lang="${SS.langOf(item.title)}">${highlight(item.title, q, item.highlights && item.highlights.title)}</span><small>${esc(tr.cat(item.category))}${item.brand ? " · " + esc(tr.brand(item.brand)) : ""}</small></span><span class="price">${esc(price(item.price))}</span>`)));
      }
      const seen = new Set(), terms = [];
      const cats = ((data && data.facets && data.facets.category) || []).slice(0, 2);
      (Array.isArray(cats) ? cats : []).forEach((c) => terms.push({ text: tr.cat(c.value), kind: "category", url: "/search?" + new URLSearchParams({ q, category: c.value }) }));
      (sugg || []).forEach((s) => terms.push({ text: s.text, kind: s.kind || s.source || "query" }));
      const shownTerms = terms.filter((s) => !seen.has(s.text) && seen.add(s.text)).slice(0, 7);
      if (shownTerms.length) parts.push(`<li class="group" role="presentation">${esc(t("instant_suggestions"))}</li>`);
      shownTerms.forEach((s) => parts.push(option(s, `<span lang="${SS.langOf(s.text)}">${highlight(s.text, q)}</span><small>${esc(kindLabel(s.kind))}</small>`)));
      if (data && data.total) parts.push(option({ text: q }, `<span class="sg-all">${esc(t("instant_all", { n: data.total, q }))}</span>`));
      list.innerHTML = parts.join("");
      active = -1;
      list.hidden = !rows.length;
      input.setAttribute("aria-expanded", String(!list.hidden));
    }
    input.addEventListener("input", () => {
      clearTimeout(timer);
      if (controller) controller.abort();
      const q = input.value.trim();
      if (!q) { close(); return; }
      timer = setTimeout(async () => {
        controller = new AbortController();
        const signal = controller.signal;
        try {
          const [data, sugg] = await Promise.all([
            api("/v1/search", { params: Object.assign({ q, k: 4, lang: SS.lang }, who()), signal }).catch((e) => { if (e.name === "AbortError") throw e; return null; }),
            api("/v1/suggest", { params: { q, k: 8, lang: SS.lang }, signal }).then((d) => d.suggestions || []).catch((e) => { if (e.name === "AbortError") throw e; return []; }),
          ]);
          if (signal.aborted || document.activeElement !== input) return;
          render(q, data, sugg);
        } catch (e) { /* aborted: a newer keystroke owns the panel */ }
      }, DEBOUNCE_MS);
    });
    input.addEventListener("keydown", (ev) => {
      if (list.hidden) return;
      if (ev.key === "ArrowDown") { active = Math.min(rows.length - 1, active + 1); mark(); ev.preventDefault(); }
      else if (ev.key === "ArrowUp") { active = Math.max(-1, active - 1); mark(); ev.preventDefault(); }
      else if (ev.key === "Escape") close();
      else if (ev.key === "Enter" && active >= 0) { ev.preventDefault(); pick(rows[active]); }
    });
    list.addEventListener("mousedown", (ev) => {
      const li = ev.target.closest("li[data-i]"); if (!li) return;
      ev.preventDefault(); pick(rows[Number(li.dataset.i)]);
    });
    input.addEventListener("blur", () => setTimeout(close, 150));
    input.form.addEventListener("submit", () => { clearTimeout(timer); if (controller) controller.abort(); close(); });
  }
  return { setup, highlight };
};
