"""Plain-text tables of a simulation report (CLI and benchmarks/federated.py)."""

from __future__ import annotations

from typing import Any

VARIANTS = ("centralised", "federated", "personalised", "local_only", "title_neighbour")


def _ci(row: dict[str, Any], key: str) -> str:
    low, high = row.get(f"{key}_ci") or (0.0, 0.0)
    return f"{row.get(key, 0.0):.4f} [{low:.4f}, {high:.4f}]"


def recs_table(report: dict[str, Any], title: str = "") -> str:
    lines = [title or f"split {report.get('split')}",
             f"{'variant':<16}{'NDCG@10 [95% CI]':<28}{'HR@10 [95% CI]':<28}"
             f"{'rounds':>7}{'bytes/client/rnd':>18}{'wall s':>8}"]
    recs = report.get("recs", {})
    for name in VARIANTS:
        row = recs.get(name)
        if not row:
            continue
        lines.append(f"{name:<16}{_ci(row, 'ndcg@10'):<28}{_ci(row, 'hr@10'):<28}"
                     f"{row.get('rounds', '-')!s:>7}"
                     f"{row.get('bytes_per_client_per_round', '-')!s:>18}"
                     f"{row.get('wall_s', 0.0):>8.1f}")
    for fed in ("federated", "personalised"):
        if f"{fed}_beats_local" in recs:
            lines.append(f"{fed} > local-only per client: {recs[f'{fed}_beats_local']}")
    for pair, gap in (recs.get("paired") or {}).items():
        low, high = gap["relative_ci"]
        lines.append(f"{pair.replace('_vs_', ' vs ')}: NDCG@10 {gap['relative']:+.1%} "
                     f"[{low:+.1%}, {high:+.1%}] (paired over the same test cases)")
    for pair, by_client in (recs.get("paired_per_client") or {}).items():
        lines.append(f"{pair.replace('_vs_', ' vs ')} per client, NDCG@10 difference: " + "; ".join(
            f"{name} {gap['ndcg@10_diff']:+.4f} [{gap['ndcg@10_diff_ci'][0]:+.4f}, "
            f"{gap['ndcg@10_diff_ci'][1]:+.4f}]" for name, gap in by_client.items()))
    prop = report.get("propensity")
    if prop and "centralised" in prop:
        lines.append(f"{'propensity':<14}{'AUC [95% CI]':<28}{'ECE':>8}")
        for name in VARIANTS:
            row = prop.get(name) or {}
            if row.get("auc") is not None:
                low, high = row["auc_ci"]
                lines.append(f"{name:<14}{row['auc']:.4f} [{low:.4f}, {high:.4f}]"
                             f"{'':<5}{row['ece']:>8.4f}")
    return "\n".join(lines)
