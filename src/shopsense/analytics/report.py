"""What does the dashboard show? One differentially private release of every behaviour
aggregate, with the budget it spent and the noise each number carries.

`behaviour_release(store, ...)` splits epsilon (and delta) across the aggregates by weight
(basic composition), adds Laplace or Gaussian noise calibrated to each capped histogram,
thresholds data-derived keys, post-processes (clamp at 0, round, rates) and records the
release in the privacy ledger. Asking again while the data and parameters are unchanged
returns the recorded release: re-publishing a noisy output is post-processing and spends
nothing.
"""

from __future__ import annotations

import csv
import hashlib
import io
import time
from collections.abc import Collection
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from shopsense.analytics.aggregates import (
    SEP,
    SPECS,
    STAGES,
    Histogram,
    Spec,
    Window,
    bounded_counts,
    window_for,
    zero_result_spec,
)
from shopsense.analytics.brands import brand_domain, brand_keys, brand_labels
from shopsense.analytics.impressions import SURFACE_CTR, ImpressionLog
from shopsense.analytics.readout import MIN_SAMPLE, quiet_stretches, release_rates
from shopsense.privacy.dp import (
    NoiseMechanism,
    PrivacyLedger,
    make_mechanism,
    open_key_threshold,
    sensitivities,
)
from shopsense.store.base import Store
from shopsense.store.stats import StoreStats

RELEASE = "behaviour"
TOP_QUERIES_SHOWN = 20
NOTES: list[dict[str, str]] = [
    {"en": "Search click-through (from events) counts a search as clicked when the same session "
           "views, clicks or carts an item within 30 minutes; click-through by surface uses the "
           "lists the storefront logged as shown (web_impressions).",
     "zh": "搜索点击率（基于事件）：同一会话在 30 分钟内浏览、点击或加购即算点击；各推荐位点击率"
           "基于店面记录的展示列表（web_impressions）。"},
    {"en": "Zero-result queries are the searches whose query the search engine logged as "
           "returning nothing (shown once it has logged some); no-click queries are searches "
           "not followed by a click.",
     "zh": "无结果搜索词：搜索引擎记录为无结果的查询（有记录后才显示）；无点击搜索词：搜索后没有点击的查询。"},
]


@dataclass(frozen=True)
class ReleaseParams:
    """What the operator chose for one release."""

    epsilon: float = 1.0
    mechanism: str = "laplace"
    delta: float = 1e-5
    per_user_cap: int = 10
    days: int = 90
    seed: int | None = None  # None: fresh OS randomness (the only safe choice in production)
    min_sample: int = MIN_SAMPLE  # rates from fewer trials are withheld (post-processing)

    def __post_init__(self) -> None:
        make_mechanism(self.mechanism, self.epsilon, self.delta)  # validates
        if self.per_user_cap < 1:
            raise ValueError("per_user_cap must be >= 1")
        if not 1 <= self.days <= 366:
            raise ValueError("days must be in 1..366")

    def key(self) -> str:
        return (f"{self.mechanism}:{self.epsilon:g}:{self.delta:g}:{self.per_user_cap}:"
                f"{self.days}")


def data_fingerprint(store: Store) -> str:
    """Changes whenever events or products change (row counts and newest rows)."""
    ev, pr = StoreStats(store).change_marks()
    im = ImpressionLog(store).change_mark()
    return hashlib.blake2b(repr((ev, pr, im)).encode(), digest_size=12).hexdigest()


def release_specs(zero_result_queries: Collection[str] = (),
                  impressions: bool = False, entities_file: Path | None = None
                  ) -> tuple[Spec, ...]:
    """Every aggregate of a release; zero-result queries when the search engine logged some,
    click-through by surface when the storefront logged impressions; brand entities with the
    operator's overrides (`entities_file`, <home>/entities.json) when given."""
    extra = (zero_result_spec(zero_result_queries),) if zero_result_queries else ()
    specs = SPECS if entities_file is None else tuple(
        replace(s, domain=brand_domain(entities_file), expand=brand_keys(entities_file),
                labels=brand_labels(entities_file)) if s.name == "brand_share" else s
        for s in SPECS)
    return (*specs, *extra, *((SURFACE_CTR,) if impressions else ()))


def behaviour_release(store: Store, params: ReleaseParams, *, ledger: PrivacyLedger,
                      refresh: bool = False,
                      zero_result_queries: Collection[str] = (),
                      entities_file: Path | None = None) -> dict[str, Any]:
    """The latest DP release for these parameters (computed and charged only when needed);
    `entities_file`: the operator's brand entity overrides (<home>/entities.json)."""
    impressions = ImpressionLog(store).has_rows()
    specs = release_specs(zero_result_queries, impressions, entities_file)
    entities_stamp = entities_file.read_text(encoding="utf-8") if entities_file is not None \
        and entities_file.exists() else ""
    zero_key = hashlib.blake2b((repr(sorted(zero_result_queries)) + entities_stamp).encode(),
                               digest_size=8).hexdigest()
    fingerprint = f"{data_fingerprint(store)}:{params.key()}:{zero_key}"
    if not refresh:
        cached = ledger.cached(RELEASE, fingerprint)
        if cached is not None:
            return with_budget(cached, ledger, cached=True, min_sample=params.min_sample)
    window = window_for(store, params.days)
    shoppers = shoppers_in(store, window)
    if shoppers == 0:  # noise over nothing: refused before anything is spent
        raise EmptyWindow(f"no shopper acted in the window {window.to_dict()}: nothing to "
                          "release, no budget spent")
    body = _release(store, params, window, specs)
    seq = ledger.charge(RELEASE, mechanism=params.mechanism, epsilon=body["privacy"]["epsilon"],
                        delta=body["privacy"]["delta"], fingerprint=fingerprint, body=body,
                        detail={"window": body["window"], "per_user_cap": params.per_user_cap,
                                "aggregates": len(specs)})
    return with_budget((seq, body), ledger, cached=False, min_sample=params.min_sample)


class EmptyWindow(ValueError):
    """A release over a window without events (it would spend budget on pure noise)."""


def shoppers_in(store: Store, window: Window) -> int:
    """Distinct actors with an event in the window (0 refuses a release)."""
    return StoreStats(store).actors_between(window.start, window.end)


def release_epsilon(epsilon_per_aggregate: float, specs: tuple[Spec, ...] = SPECS) -> float:
    """What one full release costs: each aggregate spends epsilon x its weight."""
    return round(epsilon_per_aggregate * sum(s.weight for s in specs), 9)


def latest_release(ledger: PrivacyLedger, min_sample: int = MIN_SAMPLE) -> dict[str, Any] | None:
    """The newest behaviour release, with today's budget figures (spends nothing)."""
    found = ledger.latest(RELEASE)
    return None if found is None else with_budget(found, ledger, cached=True,
                                                   min_sample=min_sample)


def with_budget(found: tuple[int, dict[str, Any]], ledger: PrivacyLedger, *,
                cached: bool, min_sample: int = MIN_SAMPLE) -> dict[str, Any]:
    """A recorded release body with its ledger seq and the shop's total spend added; the
    derived rates are re-read from its noisy counts (post-processing) at `min_sample`."""
    seq, body = found
    body = {**body, "derived": derived_metrics(body["aggregates"], min_sample)}
    eps, delta = ledger.spent()
    body["privacy"] = {**body["privacy"], "seq": seq, "spent_epsilon_total": round(eps, 6),
                       "spent_delta_total": delta, "budget": ledger.budget,
                       "remaining": ledger.remaining(), "delta_budget": ledger.delta_budget,
                       "remaining_delta": ledger.remaining_delta(),
                       "budget_window_days": ledger.window_days}
    return {**body, "cached": cached}


def _release(store: Store, params: ReleaseParams, window: Window,
             specs: tuple[Spec, ...]) -> dict[str, Any]:
    rng = np.random.default_rng(params.seed)
    n_open = sum(1 for s in specs if s.domain is None)
    n_delta = len(specs) + n_open if params.mechanism == "gaussian" else n_open
    delta_each = params.delta / max(1, n_delta)
    aggregates: dict[str, Any] = {}
    for spec in specs:
        mechanism = make_mechanism(params.mechanism, params.epsilon * spec.weight, delta_each)
        cap = spec.cap(params.per_user_cap)
        hist = bounded_counts(store, spec, window, cap)
        aggregates[spec.name] = _noisy(store, hist, window, mechanism, cap, delta_each, rng)
    spent_delta = delta_each * n_delta
    return {
        "release": RELEASE, "generated_at": time.time(), "window": window.to_dict(),
        "privacy": {"mechanism": params.mechanism, "epsilon_per_aggregate": params.epsilon,
                    "epsilon": release_epsilon(params.epsilon, specs), "delta": spent_delta,
                    "per_user_cap": params.per_user_cap,
                    "unit": "shopper (user id, else anonymous session id)",
                    "composition": "basic sequential: the release's epsilon is the sum over "
                                   "its aggregates"},
        "aggregates": aggregates,
        "derived": derived_metrics(aggregates),
        "notes": NOTES,
    }


def _noisy(store: Store, hist: Histogram, window: Window, mechanism: NoiseMechanism, cap: int,
           delta_each: float, rng: np.random.Generator) -> dict[str, Any]:
    spec: Spec = hist.spec
    l1, l2 = sensitivities(cap, spec.per_key)
    keys = spec.domain(store, window) if spec.domain is not None else sorted(hist.counts)
    exact = np.array([hist.counts.get(k, 0) for k in keys], dtype=np.float64)
    noisy = mechanism.release(exact, l1=l1, l2=l2, rng=rng) if keys else exact
    out: dict[str, Any] = {"title_en": spec.title_en, "title_zh": spec.title_zh,
                           "epsilon": round(mechanism.epsilon, 6), "cap": cap, "l1": l1, "l2": round(l2, 4),
                           "stddev": round(mechanism.stddev(l1, l2), 3)}
    rows = [(k, max(0, round(float(v)))) for k, v in zip(keys, noisy, strict=True)]
    if spec.domain is None:
        threshold = open_key_threshold(mechanism, cap, delta_each)
        out["threshold"] = round(threshold, 2)
        rows = sorted(((k, n) for k, n in rows if n >= threshold), key=lambda kv: -kv[1])
        rows = rows[:TOP_QUERIES_SHOWN]
    out["rows"] = [{"key": k, "parts": k.split(SEP), "count": n} for k, n in rows]
    if spec.labels is not None:  # names in both languages (brand entities)
        names = spec.labels(store)
        out["labels"] = {k: names[k] for k, _ in rows if k in names}
    return out


def derived_metrics(aggregates: dict[str, Any], min_sample: int = MIN_SAMPLE) -> dict[str, Any]:
    """Rates computed from the noisy counts only (post-processing; no extra budget); `rates`
    has each with its sample, interval and whether it reaches `min_sample`; `quiet` lists the
    stretches of days with no visible data (analytics/readout.py)."""
    stages = {s: 0 for s in STAGES}
    for row in aggregates["funnel_daily"]["rows"]:
        stages[row["parts"][1]] += row["count"]
    ctr = {r["key"]: r["count"] for r in aggregates["search_ctr"]["rows"]}
    searches = ctr.get("clicked", 0) + ctr.get("abandoned", 0)
    new = sum(r["count"] for r in aggregates["new_returning"]["rows"] if r["parts"][1] == "new")
    back = sum(r["count"] for r in aggregates["new_returning"]["rows"]
               if r["parts"][1] == "returning")
    surfaces: dict[str, dict[str, int]] = {}
    for row in aggregates.get("surface_ctr", {}).get("rows", []):
        surfaces.setdefault(row["parts"][0], {})[row["parts"][1]] = row["count"]
    return {
        "surface_ctr": {s: _rate(c.get("clicked", 0), c.get("clicked", 0) + c.get("not_clicked", 0))
                        for s, c in surfaces.items()},
        "funnel_totals": stages,
        "view_to_cart": _rate(stages["cart"], stages["view"]),
        "cart_to_purchase": _rate(stages["purchase"], stages["cart"]),
        "search_ctr": _rate(ctr.get("clicked", 0), searches),
        "searches": searches,
        "new_share": _rate(new, new + back),
        "active_shopper_days": sum(r["count"] for r in aggregates["active_daily"]["rows"]),
        "rates": release_rates(aggregates, stages, len({r["parts"][0] for r in
                                                        aggregates["funnel_daily"]["rows"]}),
                               min_sample),
        "quiet": quiet_stretches(aggregates),
    }


def _rate(num: float, den: float) -> float | None:
    return None if den <= 0 else round(min(1.0, num / den), 4)


def open_ledger(store: Store, privacy: Any) -> PrivacyLedger:
    """The shop's ledger with the budget of its settings (`privacy.dp_budget_*`: by default
    epsilon 10 and delta 1e-4 over any rolling 30 days)."""
    return PrivacyLedger(store, budget=privacy.dp_budget_epsilon,
                         delta_budget=privacy.dp_budget_delta, window_days=privacy.dp_budget_days)


def release_csv(release: dict[str, Any]) -> str:
    """The noisy counts of a release, one row per key (what the dashboard exports)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["aggregate", "key", "count", "noise_stddev", "epsilon", "mechanism"])
    for name, agg in release["aggregates"].items():
        for row in agg["rows"]:
            writer.writerow([name, row["key"], row["count"], agg["stddev"], agg["epsilon"],
                             release["privacy"]["mechanism"]])
    return out.getvalue()
