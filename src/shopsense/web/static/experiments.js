// Dashboard tab "Experiments": running and stopped online experiments (A/B and interleaving)
// from /v1/admin/experiments, each with its report (per-arm outcomes with 95 % intervals,
// sample-ratio check, always-valid p-value) and two ECharts plots: the running p-value against
// the 0.05 line, and each arm's running mean (A/B) or the running preference (interleaving).
// A stop button per running experiment; a form starts a new one. Strings in zh and en below.
window.SSExperiments = function (opts) {
  const { t, esc, el } = window.SS;
  const { call, when } = opts;
  const live = [];
  Object.assign(window.I18N.zh, {
    tab_experiments: "在线实验", x_running: "进行中", x_stopped: "已结束", x_none: "还没有实验。在下方创建一个 A/B 测试或交错实验。",
    x_kind_ab: "A/B 测试", x_kind_interleaving: "交错实验", x_surface_for_you: "为你推荐", x_surface_search: "搜索",
    x_visitors: "访客", x_lists: "展示列表", x_ctr: "点击率", x_clicks: "人均点击", x_add_to_cart: "加购率", x_conversion: "转化率",
    x_revenue: "人均收入", x_arm: "分组", x_share: "流量", x_stop: "结束实验", x_stopped_ok: "实验已结束",
    x_srm_ok: "分流比例正常（p = {p}）", x_srm_bad: "分流比例异常（p = {p}）：请检查分流，结果不可信",
    x_p: "始终有效 p 值", x_sig: "显著（p = {p} < 0.05）", x_not_sig: "尚不显著（p = {p}）", x_diff: "与 {a} 的差（{m}）",
    x_wins: "胜出次数", x_ties: "平局", x_pref: "偏好 {b}", x_winner: "胜出：{w}", x_mean_plot: "各组累计均值（{m}）",
    x_p_plot: "始终有效 p 值（可随时查看，不会增加误报）", x_pref_plot: "累计偏好（正值：{b} 更受欢迎）", x_units: "访客数",
    x_comparisons: "有点击的列表数", x_new: "新建实验", x_name: "名称", x_kind: "类型", x_surface: "位置", x_metric: "主要指标",
    x_traffic: "参与比例", x_arm_b: "B 组排序", x_start: "开始实验", x_started: "实验 {id} 已开始",
    x_rank_learned: "学习排序（当前）", x_rank_fusion: "倒数排名融合", x_rank_blend: "混合打分", x_rank_bm25f: "BM25F 关键词",
    x_report_error: "报告暂不可用：{m}", x_balance: "先选顺序均衡（p = {p}）",
  });
  Object.assign(window.I18N.en, {
    tab_experiments: "Experiments", x_running: "running", x_stopped: "stopped", x_none: "No experiments yet. Start an A/B test or an interleaving below.",
    x_kind_ab: "A/B test", x_kind_interleaving: "Interleaving", x_surface_for_you: "For you", x_surface_search: "Search",
    x_visitors: "Visitors", x_lists: "Lists shown", x_ctr: "CTR", x_clicks: "Clicks / visitor", x_add_to_cart: "Add-to-cart", x_conversion: "Conversion",
    x_revenue: "Revenue / visitor", x_arm: "Arm", x_share: "Share", x_stop: "Stop", x_stopped_ok: "Experiment stopped",
    x_srm_ok: "Sample ratio as planned (p = {p})", x_srm_bad: "Sample ratio mismatch (p = {p}): check the assignment; results are not trustworthy",
    x_p: "Always-valid p", x_sig: "Significant (p = {p} < 0.05)", x_not_sig: "Not significant yet (p = {p})", x_diff: "Difference to {a} ({m})",
    x_wins: "Wins", x_ties: "Ties", x_pref: "Preference for {b}", x_winner: "Winner: {w}", x_mean_plot: "Running mean per arm ({m})",
    x_p_plot: "Always-valid p-value (safe to peek at any time)", x_pref_plot: "Running preference (above 0: {b} preferred)", x_units: "Visitors",
    x_comparisons: "Lists with a click", x_new: "New experiment", x_name: "Name", x_kind: "Kind", x_surface: "Surface", x_metric: "Primary metric",
    x_traffic: "Traffic", x_arm_b: "Arm B ranker", x_start: "Start", x_started: "Experiment {id} started",
    x_rank_learned: "learned ranker (current)", x_rank_fusion: "reciprocal-rank fusion", x_rank_blend: "blend", x_rank_bm25f: "BM25F keywords",
    x_report_error: "Report unavailable: {m}", x_balance: "First-pick balance (p = {p})",
  });
  const num = (v, d) => (v === null || v === undefined ? "—" : Number(v).toLocaleString(undefined, { maximumFractionDigits: d ?? 3 }));
  const ci = (lo_hi, d) => (lo_hi ? `[${num(lo_hi[0], d)}, ${num(lo_hi[1], d)}]` : "");
  const METRICS = ["ctr", "clicks", "add_to_cart", "conversion", "revenue"];

  function plot(box, option) {
    const draw = () => {
      if (!window.echarts || !box.isConnected) return;
      const chart = window.echarts.init(box, null, { renderer: "svg" });
      chart.setOption(Object.assign({ animation: false, textStyle: { fontFamily: "inherit" }, tooltip: { trigger: "axis", confine: true },
        grid: { left: 48, right: 16, top: 40, bottom: 36, containLabel: true }, legend: { top: 4, left: 0, itemHeight: 8 } }, option));
      live.push(chart);
    };
    requestAnimationFrame(draw);
  }
  function pPlot(xs, series, xName) {
    return { xAxis: { type: "category", data: xs, name: xName, nameLocation: "middle", nameGap: 24 }, yAxis: { type: "log", min: 0.0001, max: 1 },
      series: Object.entries(series).map(([name, ys]) => ({ name, type: "line", showSymbol: false, data: ys.map((y) => Math.max(y, 0.0001)),
        markLine: { silent: true, symbol: "none", data: [{ yAxis: 0.05, label: { formatter: "α = 0.05" } }] } })) };
  }
  function lines(xs, series, xName) {
    return { xAxis: { type: "category", data: xs, name: xName, nameLocation: "middle", nameGap: 24 }, yAxis: { type: "value", scale: true },
      series: Object.entries(series).map(([name, ys]) => ({ name, type: "line", showSymbol: false, data: ys })) };
  }
  function chartBox(id, caption) {
    return el(`<figure class="chart" id="${id}"><div class="echart"></div><figcaption>${esc(caption)}</figcaption></figure>`);
  }

  function abBody(x, r) {
    const arms = x.arms.map((a) => a.name);
    const srm = r.sample_ratio;
    const rows = arms.map((a) => { const s = r.arms[a]; return `<tr><td><b>${esc(a)}</b></td><td>${num(s.share, 2)}</td><td>${num(s.visitors, 0)}</td><td>${num(s.lists, 0)}</td>
      ${METRICS.map((m) => `<td>${num(s[m])}<br><small>${ci(s[m + "_ci"])}</small></td>`).join("")}</tr>`; }).join("");
    const tests = Object.entries(r.comparisons).map(([arm, c]) => `<li>${esc(arm)} — ${esc(t("x_diff", { a: arms[0], m: t("x_" + r.metric) }))}: ${num(c.difference)} ${ci(c.difference_ci)};
      <b class="${c.significant ? "x-sig" : ""}">${esc(c.significant ? t("x_sig", { p: num(c.p_value, 4) }) : t("x_not_sig", { p: num(c.p_value, 4) }))}</b></li>`).join("");
    const box = el(`<div><p class="${srm.mismatch ? "error" : "muted"}">${esc(t(srm.mismatch ? "x_srm_bad" : "x_srm_ok", { p: num(srm.p_value, 4) }))}</p>
      <table class="data x-arms"><tr><th>${esc(t("x_arm"))}</th><th>${esc(t("x_share"))}</th><th>${esc(t("x_visitors"))}</th><th>${esc(t("x_lists"))}</th>${METRICS.map((m) => `<th>${esc(t("x_" + m))}</th>`).join("")}</tr>${rows}</table>
      <ul class="x-tests">${tests}</ul><div class="charts"></div></div>`);
    const grid = box.querySelector(".charts");
    const pFig = chartBox(`x-p-${x.id}`, t("x_p_plot")), mFig = chartBox(`x-mean-${x.id}`, t("x_mean_plot", { m: t("x_" + r.metric) }));
    grid.append(pFig, mFig);
    plot(pFig.querySelector(".echart"), pPlot(r.series.visitors, r.series.p_value, t("x_units")));
    plot(mFig.querySelector(".echart"), lines(r.series.visitors, r.series.mean, t("x_units")));
    return box;
  }
  function interleavingBody(x, r) {
    const [a, b] = x.arms.map((arm) => arm.name);
    const verdict = r.significant ? t("x_sig", { p: num(r.p_value, 4) }) : t("x_not_sig", { p: num(r.p_value, 4) });
    const box = el(`<div><p class="${r.balance.mismatch ? "error" : "muted"}">${esc(t("x_balance", { p: num(r.balance.p_value, 4) }))}</p>
      <table class="data x-arms"><tr><th>${esc(t("x_lists"))}</th><th>${esc(t("x_comparisons"))}</th><th>${esc(t("x_wins"))}: ${esc(a)}</th><th>${esc(t("x_wins"))}: ${esc(b)}</th><th>${esc(t("x_ties"))}</th><th>${esc(t("x_pref", { b }))}</th></tr>
      <tr><td>${num(r.lists, 0)}</td><td>${num(r.lists_with_clicks, 0)}</td><td>${num(r.wins[a], 0)}</td><td>${num(r.wins[b], 0)}</td><td>${num(r.ties, 0)}</td><td>${num(r.preference)} ${ci(r.preference_ci)}</td></tr></table>
      <p><b class="${r.significant ? "x-sig" : ""}">${esc(verdict)}</b>${r.winner ? " · " + esc(t("x_winner", { w: r.winner })) : ""}</p><div class="charts"></div></div>`);
    const grid = box.querySelector(".charts");
    const pFig = chartBox(`x-p-${x.id}`, t("x_p_plot")), fFig = chartBox(`x-pref-${x.id}`, t("x_pref_plot", { b }));
    grid.append(pFig, fFig);
    plot(pFig.querySelector(".echart"), pPlot(r.series.comparisons, { [t("x_p")]: r.series.p_value }, t("x_comparisons")));
    plot(fFig.querySelector(".echart"), lines(r.series.comparisons, { [t("x_pref", { b })]: r.series.preference }, t("x_comparisons")));
    return box;
  }

  async function card(x, rerender) {
    const box = el(`<section class="panel x-card" id="x-${esc(x.id)}" data-status="${esc(x.status)}">
      <h3>${esc(x.name)} <small><code lang="en">${esc(x.id)}</code> · ${esc(t("x_kind_" + x.kind))} · ${esc(t("x_surface_" + x.surface))} · ${esc(t("x_" + x.status))}</small></h3>
      <p class="muted">${esc(when(x.created_at))}${x.stopped_at ? " – " + esc(when(x.stopped_at)) : ""} · ${esc(t("x_visitors"))}: ${num(x.visitors, 0)} · ${esc(t("x_traffic"))}: ${num(100 * x.traffic, 0)}%</p>
      ${x.status === "running" ? `<button class="btn-ghost x-stop" type="button">${esc(t("x_stop"))}</button>` : ""}<div class="x-report"><div class="loading">${esc(t("loading"))}</div></div></section>`);
    const stopBtn = box.querySelector(".x-stop");
    if (stopBtn) stopBtn.addEventListener("click", async () => {
      try { await call(`/v1/admin/experiments/${x.id}/stop`, { method: "POST" }); SS.toast(esc(t("x_stopped_ok"))); rerender(); }
      catch (e) { SS.toast(esc(t("error", { m: e.message })), 6000); }
    });
    const out = box.querySelector(".x-report");
    call(`/v1/admin/experiments/${x.id}/report`).then((r) => {
      out.innerHTML = ""; out.appendChild(x.kind === "interleaving" ? interleavingBody(x, r) : abBody(x, r));
    }).catch((e) => { out.innerHTML = ""; out.appendChild(el(`<p class="error">${esc(t("x_report_error", { m: e.message }))}</p>`)); });
    return box;
  }

  function form(rerender) {
    const box = el(`<form class="panel controls" id="x-new"><h3>${esc(t("x_new"))}</h3>
      <label>${esc(t("x_name"))}<input name="name" maxlength="120" required></label>
      <label>${esc(t("x_kind"))}<select name="kind"><option value="ab">${esc(t("x_kind_ab"))}</option><option value="interleaving">${esc(t("x_kind_interleaving"))}</option></select></label>
      <label>${esc(t("x_surface"))}<select name="surface"><option value="for_you">${esc(t("x_surface_for_you"))}</option><option value="search">${esc(t("x_surface_search"))}</option></select></label>
      <label>${esc(t("x_arm_b"))}<select name="ranker"></select></label>
      <label>${esc(t("x_metric"))}<select name="metric">${["clicks", "add_to_cart", "conversion", "revenue"].map((m) => `<option value="${m}">${esc(t("x_" + m))}</option>`).join("")}</select></label>
      <label>${esc(t("x_traffic"))}<input name="traffic" type="number" min="1" max="100" value="100" step="1">%</label>
      <button class="btn" type="submit" id="x-start">${esc(t("x_start"))}</button></form>`);
    const rankers = box.querySelector("[name=ranker]");
    const fill = () => {
      const opts = box.querySelector("[name=surface]").value === "search" ? ["blend", "bm25f"] : ["fusion"];
      rankers.innerHTML = opts.map((o) => `<option value="${o}">${esc(t("x_rank_" + o))}</option>`).join("");
    };
    box.querySelector("[name=surface]").addEventListener("change", fill); fill();
    box.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const f = new FormData(box);
      const body = { name: f.get("name").trim(), kind: f.get("kind"), surface: f.get("surface"), metric: f.get("metric"),
        traffic: Number(f.get("traffic")) / 100, arms: [{ name: "learned", overlay: {} }, { name: f.get("ranker"), overlay: { ranker: f.get("ranker") } }] };
      try { const x = await call("/v1/admin/experiments", { method: "POST", body }); SS.toast(esc(t("x_started", { id: x.id }))); rerender(); }
      catch (e) { SS.toast(esc(t("error", { m: e.message })), 6000); }
    });
    return box;
  }

  async function render(root) {
    live.splice(0).forEach((c) => c.dispose());
    root.innerHTML = `<div class="loading">${esc(t("loading"))}</div>`;
    const rerender = () => render(root);
    const { experiments } = await call("/v1/admin/experiments");
    root.innerHTML = "";
    if (!experiments.length) root.appendChild(el(`<p class="muted" id="x-none">${esc(t("x_none"))}</p>`));
    for (const x of experiments) root.appendChild(await card(x, rerender));
    root.appendChild(form(rerender));
  }
  window.addEventListener("resize", () => live.forEach((c) => c.resize()));
  return { render, dispose: () => live.splice(0).forEach((c) => c.dispose()) };
};
