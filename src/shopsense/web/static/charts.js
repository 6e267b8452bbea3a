// Dashboard charts drawn in the browser with the vendored Apache ECharts (static/vendor), from
// a release's noisy counts: hover values, zoom on the daily charts, every label in the
// operator's language, stretches of days without visible data shaded and named, and rates
// only where the sample reaches the release's minimum (else the bar says why it is missing).
window.SSCharts = function () {
  const { t, tr, esc, el } = window.SS;
  const COLORS = ["#e4393c", "#2563eb", "#16a34a", "#f59e0b", "#7c3aed", "#0891b2"];
  const live = [];

  // `names`: the release's own {key: {zh, en}} (brand entities: 格力 / Gree are one key)
  const label = (kind, key, names) => {
    const named = names && names[key];
    if (named) return (SS.lang === "en" ? named.en : named.zh) || key;
    const k = `${kind}_${key}`, text = t(k);
    if (text !== k) return text;
    if (kind === "category") return tr.cat(key);
    if (kind === "brand") return tr.brand(key);
    return tr.text(key);
  };
  const title = (agg) => (SS.lang === "zh" ? agg.title_zh : agg.title_en) || "";
  const base = (agg) => ({
    color: COLORS, animation: false, textStyle: { fontFamily: "inherit" },
    title: { text: title(agg), left: 0, textStyle: { fontSize: 13, fontWeight: 600 } },
    tooltip: { trigger: "axis", confine: true }, grid: { left: 48, right: 16, top: 48, bottom: 40, containLabel: true },
  });
  function quietAreas(quiet, days) {
    const text = t("no_data");
    return (quiet || []).filter((q) => days.includes(q.first)).map((q) => [{ name: text, xAxis: q.first }, { xAxis: q.last }]);
  }
  function daily(agg, seconds, kind, quiet) {
    const days = [...new Set(agg.rows.map((r) => r.parts[0]))].sort();
    const by = {};
    agg.rows.forEach((r) => { by[r.parts[1] || "n"] = by[r.parts[1] || "n"] || {}; by[r.parts[1] || "n"][r.parts[0]] = r.count; });
    const series = (seconds || ["n"]).map((s, i) => ({
      name: seconds ? label(kind, s) : title(agg), type: "line", showSymbol: false, smooth: false,
      data: days.map((d) => (by[s] || {})[d] ?? 0),
      markArea: i === 0 ? { silent: true, itemStyle: { color: "rgba(148,163,184,.18)" }, label: { color: "#475569" }, data: quietAreas(quiet, days) } : undefined,
    }));
    return Object.assign(base(agg), {
      legend: { top: 30, left: 0, itemHeight: 8 }, xAxis: { type: "category", data: days }, yAxis: { type: "value" }, series,
      dataZoom: [{ type: "inside" }, { type: "slider", height: 16, bottom: 4 }], grid: { left: 48, right: 16, top: 70, bottom: 48, containLabel: true },
    });
  }
  function bars(agg, kind, top) {
    const rows = agg.rows.slice().sort((a, b) => b.count - a.count).slice(0, top || 15);
    const names = rows.map((r) => label(kind, r.key, agg.labels));
    return Object.assign(base(agg), {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, confine: true },
      xAxis: { type: "value" }, yAxis: { type: "category", data: names.slice().reverse(), axisLabel: { width: 140, overflow: "truncate" } },
      series: [{ type: "bar", data: rows.map((r) => r.count).reverse(), label: { show: true, position: "right", fontSize: 10 } }],
    });
  }
  function grouped(agg, stages) {
    const cats = [...new Set(agg.rows.map((r) => r.parts[0]))];
    const count = {}; agg.rows.forEach((r) => { count[r.key] = r.count; });
    return Object.assign(base(agg), {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, confine: true }, legend: { top: 30, left: 0, itemHeight: 8 },
      grid: { left: 48, right: 16, top: 70, bottom: 40, containLabel: true },
      xAxis: { type: "category", data: cats.map((c) => label("category", c)), axisLabel: { interval: 0, rotate: 30 } }, yAxis: { type: "value" },
      series: stages.map((s) => ({ name: label("stage", s), type: "bar", data: cats.map((c) => count[`${c}|${s}`] ?? 0) })),
    });
  }
  // Click-through per surface: a bar with its 95 % interval where the sample is big enough;
  // below the minimum the bar is absent and its axis label says why.
  function rates(agg, rateInfo) {
    const surfaces = Object.keys(rateInfo || {});
    const names = surfaces.map((s) => { const r = rateInfo[s]; return r.enough ? `${label("surface", s)}\nn=${r.n}` : `${label("surface", s)}\n${t("too_few", { n: r.n, m: r.min_sample })}`; });
    const pct = (v) => (v === null ? null : Math.round(1000 * v) / 10);
    return Object.assign(base(agg), {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, confine: true,
        formatter: (ps) => { const s = surfaces[ps[0].dataIndex], r = rateInfo[s]; return r.enough ? `${esc(label("surface", s))}: ${pct(r.value)}% (${pct(r.low)}–${pct(r.high)}%), n=${r.n}` : `${esc(label("surface", s))}: ${esc(t("too_few", { n: r.n, m: r.min_sample }))}`; } },
      xAxis: { type: "category", data: names, axisLabel: { interval: 0, fontSize: 10, width: 96, overflow: "break" } }, yAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
      series: [
        { type: "bar", data: surfaces.map((s) => pct(rateInfo[s].value)), label: { show: true, position: "top", formatter: (p) => (p.value === null ? "" : p.value + "%") } },
        { type: "custom", name: t("interval"), renderItem: (params, api) => {
          const r = rateInfo[surfaces[params.dataIndex]]; if (!r.enough) return null;
          const x = api.coord([params.dataIndex, 0])[0], lo = api.coord([params.dataIndex, pct(r.low)])[1], hi = api.coord([params.dataIndex, pct(r.high)])[1];
          return { type: "group", children: [{ type: "line", shape: { x1: x, y1: lo, x2: x, y2: hi }, style: { stroke: "#111827", lineWidth: 1.5 } },
            { type: "line", shape: { x1: x - 6, y1: lo, x2: x + 6, y2: lo }, style: { stroke: "#111827" } }, { type: "line", shape: { x1: x - 6, y1: hi, x2: x + 6, y2: hi }, style: { stroke: "#111827" } }] };
        }, data: surfaces.map((_, i) => i), z: 5 },
      ],
    });
  }
  function option(name, agg, release) {
    const quiet = (release.derived || {}).quiet;
    if (name === "funnel_daily") return daily(agg, ["view", "cart", "purchase"], "stage", quiet);
    if (name === "new_returning") return daily(agg, ["new", "returning"], "shopper", quiet);
    if (name === "active_daily") return daily(agg, null, "", quiet);
    if (name === "funnel_category") return grouped(agg, ["view", "cart", "purchase"]);
    if (name === "surface_ctr") return rates(agg, ((release.derived || {}).rates || {}).surface_ctr);
    const kind = { category_share: "category", brand_share: "brand", platform_split: "platform", search_ctr: "search" }[name] || "query";
    return bars(agg, kind);
  }
  function dispose() { live.splice(0).forEach((c) => c.dispose()); }
  function figure(name, agg, release, caption) {
    const fig = el(`<figure class="chart" id="chart-${esc(name)}"><div class="echart" role="img" aria-label="${esc(title(agg))}"></div><figcaption>${esc(caption)}</figcaption></figure>`);
    const box = fig.querySelector(".echart");
    const draw = () => {
      if (!window.echarts || !box.isConnected) return;
      if (!agg.rows.length) { box.classList.add("empty"); box.textContent = t("chart_empty", { t: Math.round(agg.threshold || 0) }); return; }
      const chart = window.echarts.init(box, null, { renderer: "svg" });
      chart.setOption(option(name, agg, release));
      live.push(chart);
    };
    // drawn when it scrolls into view: the page opens with only the first screen's charts
    if ("IntersectionObserver" in window) {
      const seen = new IntersectionObserver((entries) => { if (entries.some((e) => e.isIntersecting)) { seen.disconnect(); draw(); } }, { rootMargin: "200px" });
      requestAnimationFrame(() => seen.observe(box));
    } else requestAnimationFrame(draw);
    return fig;
  }
  window.addEventListener("resize", () => live.forEach((c) => c.resize()));
  return { figure, dispose, label };
};
