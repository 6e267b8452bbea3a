"""What did the latest `shopsense eval ...` runs measure? Reads the JSON reports under
<home>/eval/ and pulls out, whatever their exact layout, a table of [0, 1] metrics per model
and baseline, and every reliability (calibration) curve they contain.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HOW_TO = "shopsense eval report"
# Keys that hold sizes or counts, never quality metrics, even when they fall in [0, 1].
_NOT_METRICS = {"n", "positives", "train_rows", "train_cutoffs", "horizon_days", "seed",
                "test_start", "test_end", "n_events", "categories", "weight", "bin", "k"}
_MODEL_GROUPS = ("models", "baselines", "systems", "results", "methods")


@dataclass(frozen=True)
class EvalFile:
    name: str  # file name, e.g. "search.json"
    path: Path
    modified: float
    data: Any

    def summary(self) -> dict[str, Any]:
        return {"name": self.name, "modified": self.modified,
                "metrics": metric_table(self.data, Path(self.name).stem),
                "calibration": [label for label, _ in calibration_curves(self.data)]}


def eval_dir(home: Path) -> Path:
    return Path(home) / "eval"


def latest_reports(home: Path, limit: int = 20) -> list[EvalFile]:
    """The newest JSON reports in <home>/eval (recursively), newest first; unreadable skipped."""
    folder = eval_dir(home)
    if not folder.is_dir():
        return []
    files = sorted(folder.rglob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    out = []
    for path in files[:limit]:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        out.append(EvalFile(str(path.relative_to(folder)), path, path.stat().st_mtime, data))
    return out


def find_report(home: Path, name: str) -> EvalFile | None:
    return next((f for f in latest_reports(home, limit=200) if f.name == name), None)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _leaves(node: Any, prefix: str = "", depth: int = 3) -> dict[str, float]:
    """Numeric leaves of nested dicts (lists skipped), keyed by dotted path."""
    out: dict[str, float] = {}
    if not isinstance(node, dict) or depth < 0:
        return out
    for key, value in node.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if _is_number(value):
            if str(key) not in _NOT_METRICS:
                out[path] = float(value)
        elif isinstance(value, dict):
            out.update(_leaves(value, path, depth - 1))
    return out


def _rows_of(group: dict[str, Any], label_prefix: str = "",
             loose_label: str = "values") -> dict[str, dict[str, float]]:
    rows: dict[str, dict[str, float]] = {}
    loose: dict[str, float] = {}
    for name, value in group.items():
        if isinstance(value, dict):
            leaves = _leaves(value)
            if leaves:
                rows[f"{label_prefix}{name}"] = leaves
        elif _is_number(value) and name not in _NOT_METRICS:
            loose[name] = float(value)
    if loose:
        rows[label_prefix.rstrip(":") or loose_label] = loose
    return rows


def metric_table(data: Any, label: str = "values") -> dict[str, dict[str, float]]:
    """Row (model or baseline) -> metric -> value, keeping metrics in [0, 1] only.

    `label` names the row of top-level numbers (a report whose own figures sit at the top,
    beside nested baselines: `{"ndcg@10": .., "baseline_bm25": {"ndcg@10": ..}}`)."""
    if not isinstance(data, dict):
        return {}
    rows: dict[str, dict[str, float]] = {}
    for group in _MODEL_GROUPS:
        if isinstance(data.get(group), dict):
            prefix = "baseline:" if group == "baselines" else ""
            rows.update(_rows_of(data[group], prefix))
    if not rows:
        rows = _rows_of(data, loose_label=label)
    table: dict[str, dict[str, float]] = {}
    for label, metrics in rows.items():
        kept = {m: v for m, v in _short_names(metrics).items() if 0.0 <= v <= 1.0}
        if kept:
            table[label] = kept
    return table


def _short_names(metrics: dict[str, float]) -> dict[str, float]:
    """"general.auc" -> "auc" where no other metric of the row ends the same way, so rows
    nested differently (a model's "general.auc", a baseline's "auc") line up."""
    last = [name.rsplit(".", 1)[-1] for name in metrics]
    return {(short if last.count(short) == 1 else name): value
            for (name, value), short in zip(metrics.items(), last, strict=True)}


def calibration_curves(data: Any, path: str = "") -> list[tuple[str, list[dict[str, float]]]]:
    """Every list of {mean_predicted, observed_rate} points in the report, with its path."""
    found: list[tuple[str, list[dict[str, float]]]] = []
    if isinstance(data, dict):
        for key, value in data.items():
            found += calibration_curves(value, f"{path}.{key}" if path else str(key))
    elif isinstance(data, list) and data and all(
            isinstance(p, dict) and "mean_predicted" in p and "observed_rate" in p for p in data):
        label = path.removesuffix(".reliability").removeprefix("models.")
        found.append((label, [p for p in data if _is_number(p["mean_predicted"])
                              and _is_number(p["observed_rate"])]))
    return found


def common_metrics(table: dict[str, dict[str, float]], limit: int = 8) -> dict[str, dict[str, float]]:
    """The table restricted to the metrics most rows share (for one readable chart)."""
    counts: dict[str, int] = {}
    for metrics in table.values():
        for m in metrics:
            counts[m] = counts.get(m, 0) + 1
    chosen = sorted(counts, key=lambda m: (-counts[m], m))[:limit]
    return {label: {m: v for m, v in metrics.items() if m in chosen}
            for label, metrics in table.items() if any(m in chosen for m in metrics)}
