// The merchandising console (dashboard tab): rules (pin / boost / bury / exclude by item,
// brand, category or attribute; for a query or everywhere; on search, recommendations or both;
// scheduled start / end), query synonyms (one-way / two-way) and query redirects, edited as a draft, previewed before / after on a
// query's page and a shopper's recommendations, saved as a new audited version, rolled back.
window.SSMerch = function ({ call, when }) {
  const { t, tr, esc, el } = window.SS;
  let draft = null, base = 0, dirty = false;

  const stamp = (v) => (v ? new Date(v * 1000).toISOString().slice(0, 16) : "");
  const unstamp = (s) => (s ? new Date(s + "Z").getTime() / 1000 : null);
  const schedule = (r) => (r.start || r.end ? `${r.start ? when(r.start) : "…"} → ${r.end ? when(r.end) : "…"}` : t("m_always"));
  function target(r) {
    const value = r.field === "category" ? tr.cat(r.value) : r.field === "brand" ? tr.brand(r.value) : r.value;
    return `${t("m_field_" + r.field)}: ${r.field === "attribute" ? `${tr.attr(r.key)} = ${tr.value(value)}` : value}`;
  }
  function effect(r) {
    if (r.action === "pin") return t("m_pin_at", { n: r.position + 1 });
    if (r.action === "boost" || r.action === "bury") return `${t("m_action_" + r.action)} ×${r.factor}`;
    return t("m_action_exclude");
  }

  function rulesPanel() {
    const box = el(`<section class="panel" id="merch-rules"><h3>${esc(t("m_rules"))}</h3>
      <table class="data"><tr><th>${esc(t("m_effect"))}</th><th>${esc(t("m_target"))}</th><th>${esc(t("m_query"))}</th><th>${esc(t("m_surfaces"))}</th><th>${esc(t("m_schedule"))}</th><th>${esc(t("notes"))}</th><th></th></tr>
      ${draft.rules.map((r, i) => `<tr data-i="${i}"><td>${esc(effect(r))}</td><td>${esc(target(r))}</td><td>${esc(r.query ? `${r.query} (${t("m_match_" + r.match)})` : t("m_any_query"))}</td><td>${esc(r.surfaces.map((s) => t("m_surface_" + s)).join(" + "))}</td><td>${esc(schedule(r))}</td><td>${esc(r.note || "")}</td><td><button type="button" class="linkish m-del">${esc(t("remove"))}</button></td></tr>`).join("")}</table>
      <form class="controls m-form" id="rule-form">
        <label>${esc(t("m_effect"))}<select name="action">${["pin", "boost", "bury", "exclude"].map((a) => `<option value="${a}">${esc(t("m_action_" + a))}</option>`).join("")}</select></label>
        <label>${esc(t("m_field"))}<select name="field">${["item", "brand", "category", "attribute"].map((f) => `<option value="${f}">${esc(t("m_field_" + f))}</option>`).join("")}</select></label>
        <label>${esc(t("m_value"))}<input name="value" required maxlength="500"></label>
        <label>${esc(t("m_key"))}<input name="key" maxlength="100"></label>
        <label>${esc(t("m_position"))}<input name="position" type="number" min="1" max="100" value="1"></label>
        <label>${esc(t("m_factor"))}<input name="factor" type="number" step="any" min="0.01" max="100" value="2"></label>
        <label>${esc(t("m_query"))}<input name="query" maxlength="200" placeholder="${esc(t("m_any_query"))}"></label>
        <label>${esc(t("m_match"))}<select name="match"><option value="contains">${esc(t("m_match_contains"))}</option><option value="exact">${esc(t("m_match_exact"))}</option></select></label>
        <label>${esc(t("m_surfaces"))}<select name="surfaces"><option value="both">${esc(t("m_surface_both"))}</option><option value="search">${esc(t("m_surface_search"))}</option><option value="recommend">${esc(t("m_surface_recommend"))}</option></select></label>
        <label>${esc(t("m_start"))}<input name="start" type="datetime-local"></label>
        <label>${esc(t("m_end"))}<input name="end" type="datetime-local"></label>
        <label>${esc(t("notes"))}<input name="note" maxlength="500"></label>
        <button class="btn" type="submit" id="add-rule">${esc(t("m_add_rule"))}</button></form></section>`);
    box.querySelectorAll(".m-del").forEach((b) => b.addEventListener("click", () => { draft.rules.splice(Number(b.closest("tr").dataset.i), 1); changed(); }));
    box.querySelector("#rule-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const f = new FormData(ev.target), action = f.get("action");
      const rule = { action, field: f.get("field"), value: f.get("value").trim(), key: f.get("key").trim(), query: f.get("query").trim(), match: f.get("match"),
        surfaces: f.get("surfaces") === "both" ? ["search", "recommend"] : [f.get("surfaces")], start: unstamp(f.get("start")), end: unstamp(f.get("end")), note: f.get("note").trim() };
      if (action === "pin") rule.position = Math.max(0, Number(f.get("position")) - 1);
      if (action === "boost" || action === "bury") rule.factor = Number(f.get("factor"));
      draft.rules.push(rule); changed();
    });
    return box;
  }
  function redirectsPanel() {
    const box = el(`<section class="panel" id="merch-redirects"><h3>${esc(t("m_redirects"))}</h3>
      <table class="data"><tr><th>${esc(t("m_query"))}</th><th>${esc(t("m_url"))}</th><th>${esc(t("m_schedule"))}</th><th></th></tr>
      ${draft.redirects.map((r, i) => `<tr data-i="${i}"><td>${esc(`${r.query} (${t("m_match_" + r.match)})`)}</td><td><code lang="en">${esc(r.url)}</code></td><td>${esc(schedule(r))}</td><td><button type="button" class="linkish m-del">${esc(t("remove"))}</button></td></tr>`).join("")}</table>
      <form class="controls m-form" id="redirect-form"><label>${esc(t("m_query"))}<input name="query" required maxlength="200"></label>
        <label>${esc(t("m_match"))}<select name="match"><option value="exact">${esc(t("m_match_exact"))}</option><option value="contains">${esc(t("m_match_contains"))}</option></select></label>
        <label>${esc(t("m_url"))}<input name="url" required pattern="/\\S*" placeholder="/search?q=…" lang="en"></label>
        <label>${esc(t("m_start"))}<input name="start" type="datetime-local"></label><label>${esc(t("m_end"))}<input name="end" type="datetime-local"></label>
        <button class="btn" type="submit" id="add-redirect">${esc(t("m_add_redirect"))}</button></form></section>`);
    box.querySelectorAll(".m-del").forEach((b) => b.addEventListener("click", () => { draft.redirects.splice(Number(b.closest("tr").dataset.i), 1); changed(); }));
    box.querySelector("#redirect-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const f = new FormData(ev.target);
      draft.redirects.push({ query: f.get("query").trim(), match: f.get("match"), url: f.get("url").trim(), start: unstamp(f.get("start")), end: unstamp(f.get("end")) });
      changed();
    });
    return box;
  }
  const phrases = (v) => String(v || "").split(/[,，、;；\n]/).map((x) => x.trim()).filter(Boolean);
  function synonymsPanel() {
    const shown = (x) => `<span lang="${SS.langOf(x)}">${esc(x)}</span>`;
    const box = el(`<section class="panel" id="merch-synonyms"><h3>${esc(t("m_synonyms"))}</h3><p class="muted">${esc(t("m_synonyms_help"))}</p>
      <table class="data"><tr><th>${esc(t("m_kind"))}</th><th>${esc(t("m_syn_terms"))}</th><th>${esc(t("m_syn_finds"))}</th><th>${esc(t("notes"))}</th><th></th></tr>
      ${(draft.synonyms || []).map((x, i) => `<tr data-i="${i}"><td>${esc(t("m_kind_" + x.kind))}</td><td>${x.terms.map(shown).join(x.kind === "two_way" ? " ⇄ " : "、")}</td><td>${x.kind === "two_way" ? esc(t("m_each_other")) : x.synonyms.map(shown).join("、")}</td><td>${esc(x.note || "")}</td><td><button type="button" class="linkish m-del">${esc(t("remove"))}</button></td></tr>`).join("")}</table>
      <form class="controls m-form" id="synonym-form">
        <label>${esc(t("m_kind"))}<select name="kind"><option value="two_way">${esc(t("m_kind_two_way"))}</option><option value="one_way">${esc(t("m_kind_one_way"))}</option></select></label>
        <label>${esc(t("m_syn_terms"))}<input name="terms" required maxlength="1000" placeholder="${esc(t("m_syn_terms_ph"))}"></label>
        <label>${esc(t("m_syn_finds"))}<input name="synonyms" maxlength="1000" placeholder="${esc(t("m_syn_finds_ph"))}"></label>
        <label>${esc(t("notes"))}<input name="note" maxlength="500"></label>
        <button class="btn" type="submit" id="add-synonym">${esc(t("m_add_synonym"))}</button><p class="error" id="synonym-error" role="alert" hidden></p></form></section>`);
    box.querySelectorAll(".m-del").forEach((b) => b.addEventListener("click", () => { draft.synonyms.splice(Number(b.closest("tr").dataset.i), 1); changed(); }));
    box.querySelector("#synonym-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const f = new FormData(ev.target), kind = f.get("kind"), terms = phrases(f.get("terms")), found = phrases(f.get("synonyms"));
      const problem = kind === "two_way" ? (terms.length < 2 ? "m_need_two" : "") : (!found.length ? "m_need_finds" : "");
      const err = box.querySelector("#synonym-error");
      if (problem) { err.textContent = t(problem); err.hidden = false; return; }
      draft.synonyms.push({ kind, terms, synonyms: kind === "two_way" ? [] : found, note: f.get("note").trim() }); changed();
    });
    return box;
  }
  function column(title, items, other) {
    const before = new Set((other || []).map((x) => x.item_id));
    return `<div><h4>${esc(title)}</h4><ol class="m-list">${(items || []).map((x) => `<li class="${other && !before.has(x.item_id) ? "m-new" : ""}" data-item="${esc(x.item_id)}"><span lang="${SS.langOf(x.title)}">${esc(x.title || x.item_id)}</span> <small>${esc(tr.brand(x.brand || ""))}</small></li>`).join("")}</ol></div>`;
  }
  function previewPanel() {
    const box = el(`<section class="panel" id="merch-preview"><h3>${esc(t("m_preview"))}</h3>
      <form class="controls" id="preview-form"><label>${esc(t("m_query"))}<input name="query" maxlength="200"></label>
      <label>${esc(t("m_shopper"))}<input name="user" maxlength="100" placeholder="u00001"></label>
      <button class="btn-ghost" type="submit" id="run-preview">${esc(t("m_run_preview"))}</button></form><div id="preview-out"></div></section>`);
    box.querySelector("#preview-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const f = new FormData(ev.target), out = box.querySelector("#preview-out");
      out.innerHTML = `<div class="loading">${esc(t("loading"))}</div>`;
      try {
        const p = await call("/v1/admin/merch/preview", { method: "POST", body: { draft, query: f.get("query").trim(), user: f.get("user").trim() || null } });
        const parts = [];
        if (p.search) {
          const redirect = p.search.redirect_after ? `<p class="notice">${esc(t("m_redirects_to", { u: p.search.redirect_after }))}</p>` : "";
          parts.push(`<h4>${esc(t("m_search_page"))}</h4>${redirect}<div class="m-cols" id="preview-search">${column(t("m_before"), p.search.before)}${column(t("m_after"), p.search.after, p.search.before)}</div>`);
        }
        parts.push(`<h4>${esc(t("for_you"))}</h4><div class="m-cols" id="preview-recommend">${column(t("m_before"), p.recommend.before)}${column(t("m_after"), p.recommend.after, p.recommend.before)}</div>`);
        out.innerHTML = parts.join("");
      } catch (e) { out.innerHTML = ""; out.appendChild(el(`<p class="error">${esc(t("error", { m: e.message }))}</p>`)); }
    });
    return box;
  }
  async function historyPanel(root) {
    const h = await call("/v1/admin/merch/history", { params: { limit: 20 } });
    const box = el(`<section class="panel" id="merch-history"><h3>${esc(t("m_history"))}</h3><table class="data"><tr><th>${esc(t("version"))}</th><th>${esc(t("at"))}</th><th>${esc(t("m_who"))}</th><th>${esc(t("notes"))}</th><th></th></tr>
      ${h.versions.map((v) => `<tr><td>${v.version}</td><td>${esc(when(v.at))}</td><td><code lang="en">${esc(v.actor)}</code></td><td>${esc(v.note)}</td><td>${v.version === base ? esc(t("m_in_force")) : `<button type="button" class="linkish m-rollback" data-v="${v.version}">${esc(t("m_rollback"))}</button>`}</td></tr>`).join("")}</table></section>`);
    box.querySelectorAll(".m-rollback").forEach((b) => b.addEventListener("click", async () => {
      await call("/v1/admin/merch/rollback", { method: "POST", body: { version: Number(b.dataset.v) } });
      draft = null; render(root);
    }));
    return box;
  }

  let rootEl = null;
  function changed() { dirty = true; draw(rootEl); }
  function draw(root) {
    root.innerHTML = "";
    const bar = el(`<form class="panel controls" id="merch-save"><span>${esc(t("m_version", { v: base }))}${dirty ? " · " + esc(t("m_unsaved")) : ""}</span>
      <label>${esc(t("notes"))}<input name="note" maxlength="500" id="save-note"></label>
      <button class="btn" type="submit" id="save-merch" ${dirty ? "" : "disabled"}>${esc(t("m_save"))}</button>
      <button class="btn-ghost" type="button" id="discard" ${dirty ? "" : "disabled"}>${esc(t("m_discard"))}</button></form>`);
    bar.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      try {
        const saved = await call("/v1/admin/merch", { method: "PUT", body: { body: draft, note: bar.querySelector("#save-note").value, base_version: base } });
        SS.toast(esc(t("m_saved", { v: saved.version }))); draft = null; render(root);
      } catch (e) { SS.toast(esc(t("error", { m: e.message })), 6000); }
    });
    bar.querySelector("#discard").addEventListener("click", () => { draft = null; render(root); });
    root.append(bar, rulesPanel(), synonymsPanel(), redirectsPanel(), previewPanel());
    historyPanel(root).then((h) => root.appendChild(h)).catch(() => {});
  }
  async function render(root) {
    rootEl = root;
    if (!draft) {
      const now = await call("/v1/admin/merch");
      draft = { rules: now.body.rules || [], redirects: now.body.redirects || [], synonyms: now.body.synonyms || [] }; base = now.version; dirty = false;
    }
    draw(root);
  }
  return { render };
};
