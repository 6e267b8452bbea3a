// The model console (Models tab): every trained version with its figures next to the serving
// one's (search nDCG@10 on held-out logged queries, recommendation NDCG@10 / HR@10 with 95 %
// intervals, propensity AUC / Brier / ECE, from the version's card), who put it into service and
// when, and one-click promote / roll back (audited; admin key only). Either pins the version:
// later trainings wait here until the operator unpins.
window.SSModels = function ({ call, when, fmt, rerender }) {
  const { t, esc, el } = window.SS;
  const num = (v) => (v === null || v === undefined || Number.isNaN(Number(v)) ? "—" : fmt(v, 3));
  const ci = (m, k) => (m && m[k + "_ci"] ? ` [${fmt(m[k + "_ci"][0], 3)}–${fmt(m[k + "_ci"][1], 3)}]` : "");
  const fig = (m, k) => (m && m[k] !== undefined ? `${num(m[k])}<small>${esc(ci(m, k))}</small>` : "—");

  function searchCell(c) {
    const e = c.eval && c.eval.search, h = c.search && c.search.held_out_ndcg10;
    const parts = [];
    if (e) parts.push(`${fig(e.shopsense, "ndcg@10")} <small class="muted">${esc(t("v_vs_bm25", { v: num(e.bm25 && e.bm25["ndcg@10"]) }))}</small>`);
    if (h) parts.push(`<small class="muted">${esc(t("v_train_search", { m: num(h.model), b: num(h.blend) }))}</small>`);
    return parts.join("<br>") || "—";
  }
  function recsCell(c) {
    const e = c.eval && c.eval.recs, r = c.recs && c.recs.ranker;
    const parts = [];
    if (e) parts.push(`NDCG ${fig(e.shopsense, "ndcg@10")}<br>HR ${fig(e.shopsense, "hr@10")} <small class="muted">${esc(t("v_vs_pop", { v: num(e.popularity && e.popularity["ndcg@10"]) }))}</small>`);
    if (r && r["fusion_ndcg@10"] !== undefined) {
      const serving = r.serving && r.serving !== "fusion" ? r.serving : null;  // else the fusion serves
      parts.push(`<small class="muted">${esc(serving ? t("v_train_recs", { s: serving, m: num(r[serving + "_ndcg@10"]), f: num(r["fusion_ndcg@10"]) }) : t("v_train_fusion", { f: num(r["fusion_ndcg@10"]) }))}</small>`);
    }
    return parts.join("<br>") || "—";
  }
  function propensityCell(c) {
    const p = c.eval && c.eval.propensity;
    return p && Object.keys(p).length ? `AUC ${fig(p, "auc")}<br><small>Brier ${num(p.brier)} · ECE ${num(p.ece)}</small>` : "—";
  }
  function promotedCell(c, serving) {
    const p = c.promotion;
    if (p) return `${esc(t(p.action === "rollback" ? "v_rolled_back" : "v_promoted"))} <code lang="en">${esc(p.actor)}</code><br><small>${esc(when(p.at))}</small>`;
    return c.version === serving ? esc(t("v_auto")) : "—";
  }

  async function act(path, body, ok) {
    try {
      const done = await call(path, { method: "POST", body });
      SS.toast(esc(t(ok, { v: done.serving })));
    } catch (e) { SS.toast(esc(t("error", { m: e.message })), 6000); }
    rerender();
  }

  async function panel(body) {
    let v;
    try { v = await call("/v1/admin/models/versions"); } catch (e) { body.appendChild(el(`<p class="error">${esc(e.message)}</p>`)); return; }
    const box = el(`<section class="panel" id="model-versions"><h3>${esc(t("v_title"))}</h3>
      <p class="muted">${esc(t("v_help"))}</p>
      ${v.pinned ? `<p class="notice" id="models-pinned">${esc(t("v_pinned", { v: v.pinned.version, who: v.pinned.actor, when: when(v.pinned.at) }))} <button class="btn-ghost" type="button" id="unpin-models">${esc(t("v_unpin"))}</button></p>` : ""}
      ${v.rollback_to ? `<p><button class="btn-ghost" type="button" id="rollback-models">${esc(t("v_rollback", { v: v.rollback_to }))}</button></p>` : ""}
      ${v.versions.length ? `<table class="data"><tr><th>${esc(t("version"))}</th><th>${esc(t("trained_at"))}</th><th>${esc(t("v_search"))}</th><th>${esc(t("v_recs"))}</th><th>${esc(t("v_propensity"))}</th><th>${esc(t("v_in_service"))}</th><th></th></tr>
      ${v.versions.map((c) => `<tr data-version="${esc(c.version)}" class="${c.version === v.serving ? "v-serving" : ""}"><td data-label="${esc(t("version"))}"><code lang="en">${esc(c.version)}</code><br><small>${esc(t("v_kind_" + (c.training === "incremental" ? "incremental" : "full")))}</small></td>
        <td data-label="${esc(t("trained_at"))}">${esc(when(c.trained_at))}</td><td data-label="${esc(t("v_search"))}">${searchCell(c)}</td><td data-label="${esc(t("v_recs"))}">${recsCell(c)}</td><td data-label="${esc(t("v_propensity"))}">${propensityCell(c)}</td><td data-label="${esc(t("v_in_service"))}">${promotedCell(c, v.serving)}</td>
        <td>${c.version === v.serving ? `<b>${esc(t("v_serving"))}</b>` : `<button class="linkish v-promote" type="button" data-version="${esc(c.version)}">${esc(t("v_promote"))}</button>`}</td></tr>`).join("")}</table>` : `<p class="muted" id="no-versions">${esc(t("v_none"))}</p>`}
      ${v.versions.some((c) => !c.eval) ? `<p class="muted">${esc(t("v_eval_pending"))}</p>` : ""}</section>`);
    box.querySelectorAll(".v-promote").forEach((b) => b.addEventListener("click", () => act("/v1/admin/models/promote", { version: b.dataset.version }, "v_now_serving")));
    const back = box.querySelector("#rollback-models");
    if (back) back.addEventListener("click", () => act("/v1/admin/models/rollback", {}, "v_now_serving"));
    const unpin = box.querySelector("#unpin-models");
    if (unpin) unpin.addEventListener("click", () => act("/v1/admin/models/unpin", {}, "v_unpinned"));
    body.appendChild(box);
  }
  return { panel };
};
