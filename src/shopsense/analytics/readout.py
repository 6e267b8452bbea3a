"""How a release is read without being misread: every rate with its sample size and a 95 %
interval that includes the DP noise, withheld below a minimum sample; and the stretches of
days whose counts are indistinguishable from noise ("no data"), so a chart never shows the end
of a history as a collapse.

Post-processing of the noisy counts only: nothing here spends privacy budget.
"""

from __future__ import annotations

import math
from typing import Any

MIN_SAMPLE = 30  # a rate needs at least this many (noisy) trials to be shown
Z95 = 1.959964
QUIET_SIGMAS = 2.0  # a day whose active count is under 2 noise sd has no visible data
MIN_GAP_DAYS = 3


def rate(num: float, other: float | None = None, *, den: float | None = None,
         noise_var_num: float = 0.0, noise_var_other: float = 0.0,
         min_sample: int = MIN_SAMPLE) -> dict[str, Any]:
    """num / den with a normal-approximation 95 % interval: the binomial sampling variance
    p(1-p)/n plus the DP noise carried by numerator and denominator (delta method).

    Give `other` when den = num + other (click-through: clicked / (clicked + not clicked):
    the noise of num is in den too), else `den` (an independent count, as cart / view)."""
    if den is None:
        den = num + (other or 0.0)
        # p = c / (c + o): dp/dc = o / n^2, dp/do = -c / n^2
        noise = ((other or 0.0) ** 2 * noise_var_num + num ** 2 * noise_var_other) / den ** 4 \
            if den > 0 else 0.0
    else:
        p0 = num / den if den > 0 else 0.0
        noise = (noise_var_num + p0 ** 2 * noise_var_other) / den ** 2 if den > 0 else 0.0
    n = max(0.0, float(den))
    out: dict[str, Any] = {"n": round(n), "min_sample": min_sample,
                           "enough": n >= min_sample and n > 0}
    if not out["enough"]:
        return {**out, "value": None, "low": None, "high": None}
    p = min(1.0, max(0.0, num / n))
    half = Z95 * math.sqrt(p * (1 - p) / n + noise)
    return {**out, "value": round(p, 4), "low": round(max(0.0, p - half), 4),
            "high": round(min(1.0, p + half), 4)}


def _var(agg: dict[str, Any] | None, keys: int = 1) -> float:
    return 0.0 if not agg else float(agg.get("stddev", 0.0)) ** 2 * keys


def release_rates(aggregates: dict[str, Any], stages: dict[str, int], n_days: int,
                  min_sample: int = MIN_SAMPLE) -> dict[str, Any]:
    """Every rate the dashboard shows, as `rate()` dicts."""
    funnel = aggregates.get("funnel_daily")
    day_var = _var(funnel, max(1, n_days))  # a stage total sums one noisy count per day
    out = {
        "view_to_cart": rate(stages.get("cart", 0), den=stages.get("view", 0),
                             noise_var_num=day_var, noise_var_other=day_var, min_sample=min_sample),
        "cart_to_purchase": rate(stages.get("purchase", 0), den=stages.get("cart", 0),
                                 noise_var_num=day_var, noise_var_other=day_var,
                                 min_sample=min_sample),
    }
    ctr = {r["key"]: r["count"] for r in aggregates.get("search_ctr", {}).get("rows", [])}
    v = _var(aggregates.get("search_ctr"))
    out["search_ctr"] = rate(ctr.get("clicked", 0), ctr.get("abandoned", 0), noise_var_num=v,
                             noise_var_other=v, min_sample=min_sample)
    nr = aggregates.get("new_returning", {})
    new = sum(r["count"] for r in nr.get("rows", []) if r["parts"][1] == "new")
    back = sum(r["count"] for r in nr.get("rows", []) if r["parts"][1] == "returning")
    v = _var(nr, max(1, n_days))
    out["new_share"] = rate(new, back, noise_var_num=v, noise_var_other=v, min_sample=min_sample)
    surfaces: dict[str, dict[str, int]] = {}
    for row in aggregates.get("surface_ctr", {}).get("rows", []):
        surfaces.setdefault(row["parts"][0], {})[row["parts"][1]] = row["count"]
    v = _var(aggregates.get("surface_ctr"))
    out["surface_ctr"] = {s: rate(c.get("clicked", 0), c.get("not_clicked", 0), noise_var_num=v,
                                  noise_var_other=v, min_sample=min_sample)
                          for s, c in surfaces.items()}
    return out


def quiet_stretches(aggregates: dict[str, Any]) -> list[dict[str, Any]]:
    """Runs of >= MIN_GAP_DAYS days whose active-shopper count is under QUIET_SIGMAS noise sd
    (one day above it between two runs does not split them): [{first, last, days, to_end}]."""
    active = aggregates.get("active_daily") or {}
    rows = active.get("rows", [])
    if not rows:
        return []
    floor = QUIET_SIGMAS * float(active.get("stddev", 0.0))
    quiet = [r["count"] <= floor for r in rows]
    for i in range(1, len(quiet) - 1):  # a lone noisy blip inside a quiet stretch
        if not quiet[i] and quiet[i - 1] and quiet[i + 1]:
            quiet[i] = True
    out, start = [], None
    for i, q in enumerate([*quiet, False]):
        if q and start is None:
            start = i
        elif not q and start is not None:
            if i - start >= MIN_GAP_DAYS:
                out.append({"first": rows[start]["parts"][0], "last": rows[i - 1]["parts"][0],
                            "days": i - start, "to_end": i == len(rows)})
            start = None
    return out


__all__ = ["MIN_SAMPLE", "quiet_stretches", "rate", "release_rates"]
