// The operator dashboard: DP behaviour analytics, evaluation reports, model status, ledger.
// The admin key lives in sessionStorage and travels as X-API-Key; charts are fetched with it
// and shown as blob URLs (an <img src> cannot send the header).
(function () {
  const { t, tr, esc, el, CFG } = window.SS;
  const charts = window.SSCharts();
  const merchConsole = window.SSMerch({ call: (path, opts) => call(path, opts), when: (ts) => when(ts) });
  const experimentsTab = window.SSExperiments({ call: (path, opts) => call(path, opts), when: (ts) => when(ts) });
  const root = document.getElementById("admin");
  let key = sessionStorage.getItem("ss.adminKey") || "";
  let tab = sessionStorage.getItem("ss.adminTab") || "analytics";
  const blobs = [];

  const call = (path, opts) => SS.api(path, Object.assign({ key }, opts || {}));
  const fmt = (v, digits) => (v === null || v === undefined ? "—" : Number(v).toLocaleString(undefined, { maximumFractionDigits: digits ?? 2 }));
  const pct = (v) => (v === null || v === undefined ? "—" : (100 * v).toFixed(1) + "%");
  const when = (ts) => (ts ? new Date(ts * 1000).toLocaleString() : t("never"));
  const ago = (s) => (s === null || s === undefined ? "—" : s < 120 ? `${Math.round(s)} s` : s < 7200 ? `${Math.round(s / 60)} min` : s < 172800 ? `${(s / 3600).toFixed(1)} h` : `${(s / 86400).toFixed(1)} d`);

  async function image(path, params) {
    const res = await call(path, { params, raw: true });
    const url = URL.createObjectURL(await res.blob());
    blobs.push(url);
    return url;
  }
  function chartFigure(path, params, caption, id) {
    const fig = el(`<figure class="chart" ${id ? `id="${id}"` : ""}><div class="loading">${esc(t("loading"))}</div><figcaption>${esc(caption || "")}</figcaption></figure>`);
    image(path, params).then((url) => {
      const img = el(`<img alt="${esc(caption || path)}">`);
      img.src = url; fig.querySelector(".loading").replaceWith(img);
    }).catch((e) => { fig.querySelector(".loading").textContent = t("error", { m: e.message }); });
    return fig;
  }

  function loginForm(message) {
    root.innerHTML = "";
    const box = el(`<form class="login-box" id="admin-login"><h2>${esc(t("admin_login"))}</h2>
      <input id="admin-key" type="password" placeholder="${esc(t("admin_key"))}" autocomplete="off">
      ${message ? `<p class="error">${esc(message)}</p>` : ""}
      <button class="btn" type="submit">${esc(t("sign_in"))}</button></form>`);
    box.addEventListener("submit", (ev) => {
      ev.preventDefault(); key = box.querySelector("#admin-key").value.trim();
      sessionStorage.setItem("ss.adminKey", key); start();
    });
    root.appendChild(box);
  }

  let glossary = null;
  async function start() {
    if (!glossary) glossary = SS.api("/web/glossary.json", { key: "" }).then(SS.setGlossary).catch(() => {});
    await glossary;
    SS.applyI18n();
    const switcher = document.getElementById("lang");
    switcher.textContent = SS.lang === "zh" ? "EN" : "中文"; switcher.lang = SS.lang === "zh" ? "en" : "zh";
    try { await call("/v1/admin/models"); }
    catch (e) {
      if (e.status === 401 || e.status === 403) { sessionStorage.removeItem("ss.adminKey"); return loginForm(key ? t("unauthorised") : ""); }
      root.innerHTML = ""; root.appendChild(el(`<p class="error">${esc(t("error", { m: e.message }))}</p>`)); return;
    }
    document.getElementById("sign-out").hidden = !CFG.requireKeys;
    render();
  }

  function render() {
    blobs.splice(0).forEach((u) => URL.revokeObjectURL(u));
    charts.dispose();
    experimentsTab.dispose();
    root.innerHTML = "";
    const tabs = el(`<nav class="admin-tabs">${["analytics", "eval", "models", "merch", "experiments", "privacy"].map((name) => `<button data-tab="${name}" id="tab-${name}" class="${name === tab ? "active" : ""}">${esc(t("tab_" + name))}</button>`).join("")}</nav>`);
    tabs.addEventListener("click", (ev) => {
      const b = ev.target.closest("button"); if (!b) return;
      tab = b.dataset.tab; sessionStorage.setItem("ss.adminTab", tab); render();
    });
    root.appendChild(tabs);
    const body = el(`<div id="panel-${tab}"></div>`);
    root.appendChild(body);
    const merch = (box) => merchConsole.render(box).catch((e) => box.appendChild(el(`<p class="error">${esc(t("error", { m: e.message }))}</p>`)));
    const experiments = (box) => experimentsTab.render(box).catch((e) => box.appendChild(el(`<p class="error">${esc(t("error", { m: e.message }))}</p>`)));
    ({ analytics, eval: evaluation, models, merch, experiments, privacy })[tab](body);
  }

  // ---- behaviour analytics -----------------------------------------------------------------------
  async function analytics(body) {
    const form = el(`<form class="panel controls" id="release-form">
      <label>${esc(t("epsilon"))}<input name="epsilon" type="number" step="any" min="0.01" value="${esc(sessionStorage.getItem("ss.eps") || "0.1")}"></label>
      <label>${esc(t("mechanism"))}<select name="mechanism"><option value="laplace">Laplace</option><option value="gaussian">Gaussian</option></select></label>
      <label>${esc(t("days"))}<input name="days" type="number" min="1" max="366" value="90"></label>
      <label>${esc(t("cap"))}<input name="per_user_cap" type="number" min="1" max="1000" value="10"></label>
      <label>${esc(t("min_sample"))}<input name="min_sample" type="number" min="1" max="100000" value="${esc(sessionStorage.getItem("ss.minSample") || "30")}"></label>
      <button class="btn" type="submit" id="new-release">${esc(t("new_release"))}</button>
      <button class="btn-ghost" type="button" id="export">${esc(t("export_csv"))}</button></form>`);
    body.appendChild(form);
    const out = el(`<div id="release"></div>`);
    body.appendChild(out);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const f = new FormData(form);
      sessionStorage.setItem("ss.eps", f.get("epsilon")); sessionStorage.setItem("ss.minSample", f.get("min_sample"));
      const shown = out.querySelector("#privacy-box") ? out.innerHTML : "";
      out.innerHTML = `<div class="loading" role="status">${esc(t("release_running"))}</div>`;
      try {
        const release = await call("/v1/admin/analytics", { method: "POST", body: { epsilon: Number(f.get("epsilon")), mechanism: f.get("mechanism"), days: Number(f.get("days")), per_user_cap: Number(f.get("per_user_cap")), min_sample: Number(f.get("min_sample")) } });
        showRelease(out, release);
      } catch (e) {
        out.innerHTML = "";
        out.appendChild(await refusal(e, Number(f.get("days"))));
        if (shown) out.insertAdjacentHTML("beforeend", shown);  // the earlier release stays readable
      }
    });
    form.querySelector("#export").addEventListener("click", async () => {
      const res = await call("/v1/admin/analytics/export.csv", { raw: true });
      const a = el(`<a download="analytics.csv"></a>`); a.href = URL.createObjectURL(await res.blob()); a.click();
    });
    try { showRelease(out, await call("/v1/admin/analytics", { params: { min_sample: sessionStorage.getItem("ss.minSample") || 30 } })); }
    catch (e) {
      if (e.status === 404) { out.innerHTML = `<p class="empty">${esc(t("no_release"))}</p>`; form.requestSubmit(); }
      else out.appendChild(el(`<p class="error">${esc(t("error", { m: e.message }))}</p>`));
    }
  }

  // Why a release was refused (409), in the operator's language: the budget of the rolling
  // window is spent (with the ledger's figures), or the window holds no shopper at all.
  async function refusal(e, days) {
    const code = e.body && e.body.error && e.body.error.code;
    let text = t("error", { m: e.message });
    if (code === "empty_window") text = t("refused_empty", { d: days });
    if (code === "budget_exceeded") {
      const l = await call("/v1/admin/privacy/ledger", { params: { limit: 1 } }).catch(() => null);
      text = t("refused_budget", { s: l ? fmt(l.spent_epsilon, 3) : "?", b: l && l.budget ? fmt(l.budget, 1) : "?", w: l ? fmt(l.window_days, 0) : "30" });
    }
    return el(`<p class="${code ? "notice" : "error"}" id="release-refused" data-code="${esc(code || "error")}" role="alert">${esc(text)}</p>`);
  }

  function showRelease(out, r) {
    const p = r.privacy, d = r.derived, w = r.window;
    const used = p.budget ? Math.min(100, (100 * p.spent_epsilon_total) / p.budget) : 0;
    out.innerHTML = "";
    out.appendChild(el(`<div class="panel" id="privacy-box">
      <p>${esc(t("release_info", { mech: p.mechanism, eps: p.epsilon_per_aggregate, total: fmt(p.epsilon, 3), delta: p.delta.toExponential(1), first: w.first_day, last: w.last_day }))}</p>
      <p class="muted">${esc(t("generated_at", { at: when(r.generated_at), seq: p.seq }))}</p>
      <p>${esc(t("budget_used"))}: <b id="budget-used">ε ${fmt(p.spent_epsilon_total, 3)}</b> ${p.budget ? esc(t("budget_of", { b: fmt(p.budget, 1) })) : ""}</p>
      ${p.budget ? `<div class="budget"><div style="width:${used.toFixed(1)}%"></div></div>` : ""}
      ${r.cached ? `<p class="muted">${esc(t("cached_note"))}</p>` : ""}
      <p class="muted">${(r.notes || []).map((n) => esc(typeof n === "string" ? n : n[SS.lang] || n.en)).join("<br>")}${r.aggregates.surface_ctr ? "" : "<br>" + esc(t("rec_ctr_note"))}</p></div>`));
    (d.quiet || []).forEach((q) => out.appendChild(el(`<p class="notice quiet-note">${esc(q.to_end ? t("no_data_since", { d: q.first, n: q.days }) : t("no_data_between", { a: q.first, b: q.last, n: q.days }))}</p>`)));
    const rates = d.rates || {};
    const kpis = ["view_to_cart", "cart_to_purchase", "search_ctr"].map((k) => [k, rates[k]]);
    const surfaces = rates.surface_ctr || {};
    const rec = surfaces.for_you || surfaces.trending;
    if (rec) kpis.push(["rec_ctr", rec]);
    kpis.push(["new_share", rates.new_share]);
    const kpiHtml = ([k, r]) => {
      if (!r) return `<div class="kpi" id="kpi-${k}"><span class="muted">${esc(t(k))}</span><b>—</b></div>`;
      if (!r.enough) return `<div class="kpi thin" id="kpi-${k}"><span class="muted">${esc(t(k))}</span><b>—</b><span class="muted">${esc(t("too_few", { n: r.n, m: r.min_sample }))}</span></div>`;
      return `<div class="kpi" id="kpi-${k}"><span class="muted">${esc(t(k))}</span><b>${esc(pct(r.value))}</b><span class="muted">${esc(t("interval_n", { lo: pct(r.low), hi: pct(r.high), n: fmt(r.n, 0) }))}</span></div>`;
    };
    out.appendChild(el(`<div class="kpis">${kpis.map(kpiHtml).join("")}<div class="kpi" id="kpi-active_days"><span class="muted">${esc(t("active_days"))}</span><b>${esc(fmt(d.active_shopper_days, 0))}</b></div></div>`));
    const grid = el(`<div class="charts" id="charts"></div>`);
    Object.entries(r.aggregates).forEach(([name, agg]) => {
      const caption = `${t("noise_sd", { sd: agg.stddev })} · ε=${agg.epsilon} · ${t("cap_n", { c: agg.cap })}${agg.threshold ? " · " + t("threshold", { t: agg.threshold }) : ""}`;
      grid.appendChild(charts.figure(name, agg, r, caption));
    });
    out.appendChild(grid);
  }

  // ---- evaluation ---------------------------------------------------------------------------------
  async function evaluation(body) {
    let data;
    try { data = await call("/v1/admin/eval"); } catch (e) { body.appendChild(el(`<p class="error">${esc(e.message)}</p>`)); return; }
    if (!data.reports.length) {
      body.appendChild(el(`<div class="panel empty" id="eval-empty"><p>${esc(t("eval_none", { cmd: data.how_to }))}</p><p class="muted">${esc(t("eval_folder", { f: data.folder }))}</p></div>`));
      return;
    }
    for (const report of data.reports) {
      const panel = el(`<section class="panel eval-report"><h3>${esc(report.name)} <span class="muted">${esc(when(report.modified))}</span></h3></section>`);
      const rows = Object.entries(report.metrics);
      if (rows.length) {
        const metrics = [...new Set(rows.flatMap(([, m]) => Object.keys(m)))].slice(0, 12);
        panel.appendChild(el(`<div style="overflow:auto"><table class="data"><tr><th>${esc(t("model"))}</th>${metrics.map((m) => `<th>${esc(m)}</th>`).join("")}</tr>${rows.map(([name, m]) => `<tr><td>${esc(name)}</td>${metrics.map((k) => `<td class="num">${m[k] === undefined ? "" : fmt(m[k], 4)}</td>`).join("")}</tr>`).join("")}</table></div>`));
      }
      const figs = el(`<div class="charts"></div>`);
      if (rows.length) figs.appendChild(chartFigure("/v1/admin/eval/charts/metrics.png", { file: report.name }, report.name));
      if (report.calibration.length) figs.appendChild(chartFigure("/v1/admin/eval/charts/calibration.png", { file: report.name }, report.calibration.join(", ")));
      panel.appendChild(figs);
      body.appendChild(panel);
    }
  }

  // ---- models -----------------------------------------------------------------------------------
  async function models(body) {
    let s;
    try { s = await call("/v1/admin/models"); } catch (e) { body.appendChild(el(`<p class="error">${esc(e.message)}</p>`)); return; }
    const st = s.store;
    body.appendChild(el(`<div class="kpis">
      <div class="kpi" id="model-version"><span class="muted">${esc(t("version"))}</span><b>${esc(s.version)}</b></div>
      <div class="kpi"><span class="muted">${esc(t("trained_at"))}</span><b style="font-size:16px">${esc(when(s.trained_at))}</b><span class="muted">${esc(ago(s.age_s))}</span></div>
      <div class="kpi"><span class="muted">${esc(t("events_after"))}</span><b>${fmt(s.freshness.events_after_training, 0)}</b></div>
      <div class="kpi"><span class="muted">${esc(t("last_event_age"))}</span><b>${esc(ago(s.freshness.last_event_age_s))}</b></div></div>`));
    if (s.progress) body.appendChild(trainingRun(s.progress));
    if (s.training) {
      const tr = s.training;
      body.appendChild(el(`<div class="panel" id="training"><h3>${esc(t("training"))}</h3>
        <p>${esc(t("training_state", { s: charts.label("state", tr.state), n: tr.runs ?? 0 }))}${tr.finished_at ? " · " + esc(when(tr.finished_at)) : ""}</p>
        ${tr.last_error ? `<p class="error">${esc(t("last_error"))}: ${esc(tr.last_error)}</p>` : ""}</div>`));
    }
    body.appendChild(searchRanker(s));
    body.appendChild(el(`<div class="panel"><h3>${esc(t("components"))}</h3><table class="data">${Object.entries(s.components).map(([k, v]) => `<tr><td>${esc(charts.label("component", k))}</td><td>${v ? `<code lang="en">${esc(v)}</code>` : "—"}</td></tr>`).join("")}</table></div>`));
    body.appendChild(el(`<div class="panel"><h3>${esc(t("store_sizes"))}</h3><table class="data">
      ${[["products", st.products], ["available_products", st.available_products], ["events", st.events], ["users", st.users], ["sessions", st.sessions]].map(([k, v]) => `<tr><td>${esc(t("size_" + k))}</td><td class="num">${fmt(v, 0)}</td></tr>`).join("")}
      ${Object.entries(st.events_by_type).map(([k, v]) => `<tr><td>${esc(t("events_of", { e: charts.label("event", k) }))}</td><td class="num">${fmt(v, 0)}</td></tr>`).join("")}
      <tr><td>${esc(t("first_last_event"))}</td><td class="num">${esc(when(st.first_event_at))} / ${esc(when(st.last_event_at))}</td></tr></table></div>`));
    body.appendChild(el(`<div class="panel"><details><summary>${esc(t("model_details"))}</summary><pre class="json">${esc(JSON.stringify(s.info, null, 2))}</pre></details>
      ${s.model_files.length ? `<table class="data">${s.model_files.map((f) => `<tr><td><code lang="en">${esc(f.path)}</code></td><td class="num">${fmt(f.bytes / 1e6, 2)} MB</td><td>${esc(when(f.modified))}</td></tr>`).join("")}</table>` : ""}</div>`));
  }

  // What orders search results, and the held-out figures of the trained ranker vs the blend
  // (`shopsense train`'s search report, models/status.json).
  function searchRanker(s) {
    const r = (s.info || {}).search || {};
    const serving = s.search_ranker || r.serving || "blend";
    const fig = r.held_out_ndcg10 || null;
    const rows = fig ? [["ranker_trained_row", fig.model], ["ranker_blend_row", fig.blend], ["ranker_bm25f_row", fig.bm25f]]
      .filter(([, v]) => v !== undefined && v !== null) : [];
    return el(`<div class="panel" id="search-ranker" data-serving="${esc(serving)}"><h3>${esc(t("search_ranker"))}</h3>
      <p>${esc(t("ranker_serving", { r: t("ranker_" + serving) }))}</p>
      ${fig ? `<table class="data"><caption>${esc(t("ranker_heldout"))}</caption>${rows.map(([k, v]) => `<tr class="${k}"><td>${esc(t(k))}</td><td class="num">${fmt(v, 4)}</td></tr>`).join("")}</table>
        <p class="muted">${esc(t("ranker_queries", { l: r.logged_queries ?? 0, j: r.judged_queries ?? 0, u: r.queries_used ?? 0 }))}</p>
        ${r.serving && r.serving !== "lambdamart" ? `<p class="muted">${esc(t("ranker_kept_no"))}</p>` : ""}`
      : `<p class="muted">${esc(r.reason || t("ranker_untrained"))}</p>`}</div>`);
  }

  // The latest training run: each stage done / running / pending with its time against the last
  // run's, the elapsed time and an ETA; refreshed every 3 s while it runs.
  let pollTimer = null;
  function stageName(name) {
    if (name.startsWith("recs.")) return t("train_recs", { s: charts.label("source", name.slice(5)) });
    return charts.label("train", name);
  }
  function trainingRun(p) {
    const done = p.stages.filter((x) => x.state === "done").length;
    const share = p.expected_total_s ? Math.min(99, (100 * p.elapsed_s) / p.expected_total_s) : (100 * done) / Math.max(1, p.stages.length);
    const head = p.state === "running"
      ? t("run_running", { e: ago(p.elapsed_s), eta: p.eta_s === null ? t("eta_unknown") : ago(p.eta_s) })
      : p.state === "failed" ? t("run_failed", { e: ago(p.elapsed_s) }) : t("run_done", { e: ago(p.elapsed_s), at: when(p.finished_at) });
    const box = el(`<div class="panel" id="training-run" data-state="${esc(p.state)}"><h3>${esc(t("training_run"))}</h3>
      <p>${esc(head)}</p>${p.state === "running" ? `<div class="budget run-bar" role="progressbar" aria-label="${esc(t("training_run"))}" aria-valuenow="${share.toFixed(0)}" aria-valuemin="0" aria-valuemax="100"><div style="width:${share.toFixed(1)}%"></div></div>` : ""}
      ${p.error ? `<p class="error">${esc(p.error)}</p>` : ""}
      <table class="data"><tr><th>${esc(t("stage"))}</th><th>${esc(t("stage_state"))}</th><th>${esc(t("seconds"))}</th><th>${esc(t("last_run"))}</th></tr>
      ${p.stages.map((x) => `<tr class="stage-${esc(x.state)}"><td>${esc(stageName(x.name))}${x.epoch ? ` · ${esc(t("epoch_n", { n: x.epoch }))}` : ""}</td><td>${esc(charts.label("state", x.state))}</td><td class="num">${x.seconds === null ? "—" : esc(ago(x.seconds))}</td><td class="num">${x.expected ? esc(ago(x.expected)) : "—"}</td></tr>`).join("")}</table></div>`);
    clearTimeout(pollTimer);
    if (p.state === "running") pollTimer = setTimeout(() => { if (tab === "models" && document.getElementById("training-run")) render(); }, 3000);
    return box;
  }

  // ---- privacy ledger ---------------------------------------------------------------------------
  function ledgerNote(detail) {
    const w = detail.window || {};
    const parts = [];
    if (w.first_day) parts.push(t("ledger_window", { a: w.first_day, b: w.last_day, n: w.days }));
    if (detail.per_user_cap) parts.push(t("cap_n", { c: detail.per_user_cap }));
    if (detail.aggregates) parts.push(t("ledger_aggregates", { n: detail.aggregates }));
    return parts.join(" · ");
  }
  async function privacy(body) {
    let l;
    try { l = await call("/v1/admin/privacy/ledger"); } catch (e) { body.appendChild(el(`<p class="error">${esc(e.message)}</p>`)); return; }
    body.appendChild(el(`<div class="panel" id="ledger"><h3>${esc(t("ledger_title"))}</h3>
      <p>${esc(t("budget_used"))}: <b>ε ${fmt(l.spent_epsilon, 3)}</b>, δ ${l.spent_delta.toExponential(1)} ${l.budget ? esc(t("budget_of", { b: fmt(l.budget, 1) })) : ""}</p>
      <table class="data"><tr><th>#</th><th>${esc(t("at"))}</th><th>${esc(t("release"))}</th><th>${esc(t("mechanism"))}</th><th>ε</th><th>δ</th><th>${esc(t("notes"))}</th></tr>
      ${l.entries.map((e) => `<tr><td>${e.seq}</td><td>${esc(when(e.at))}</td><td>${esc(e.release)}</td><td>${esc(e.mechanism)}</td><td class="num">${fmt(e.epsilon, 3)}</td><td class="num">${e.delta.toExponential(1)}</td><td class="muted">${esc(ledgerNote(e.detail || {}))}</td></tr>`).join("")}</table></div>`));
  }

  document.getElementById("lang").addEventListener("click", () => { SS.setLang(SS.lang === "zh" ? "en" : "zh"); start(); });
  document.getElementById("sign-out").addEventListener("click", () => { sessionStorage.removeItem("ss.adminKey"); key = ""; loginForm(""); });
  if (CFG.requireKeys && !key) { SS.applyI18n(); loginForm(""); } else start();
})();
