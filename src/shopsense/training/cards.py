"""Model version cards (beside the data path: written by training, read by the console).

A card (`<home>/models/cards/<version>.json`) is written by every training: the version, when
and how it was trained, the training's own held-out figures (search ranker nDCG@10 against the
blend and BM25F on held-out logged queries, the recommendation ranker against the untrained
fusion, SASRec's convergence), the search index directory it saved, and, once the evaluation
that follows every background training finishes (`evaluate_version`), the eval report's
headline figures with their 95 % intervals: search nDCG@10 vs BM25 on held-out logged queries,
recommendation NDCG@10 / HR@10 vs popularity, propensity AUC / Brier / ECE.

Promotion and roll back of a version with a card: training/promote.py.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

CARDS = "cards"


def cards_dir(home: Path) -> Path:
    return Path(home) / "models" / CARDS


def write_json(path: Path, body: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(body, ensure_ascii=False, default=str), encoding="utf-8")
    os.replace(tmp, path)


def write_card(home: Path, summary: dict[str, Any], data_seq: int | None = None
               ) -> dict[str, Any]:
    """The card of a finished training (`summary`: what `shopsense train` wrote to
    models/status.json; `data_seq`: the last event its training read, so a promotion can
    replay the events that came after)."""
    from shopsense.pipeline.search_index import CURRENT

    pointer = Path(home) / "models" / "search" / CURRENT
    recs = summary.get("recs") or {}
    card = {"version": str(summary.get("version") or ""), "trained_at": time.time(),
            "seconds": summary.get("seconds"), "training": recs.get("training", "full"),
            "search_index": pointer.read_text().strip() if pointer.exists() else None,
            "search": summary.get("search"), "recs": {
                "ranker": recs.get("ranker"), "events": recs.get("events"),
                "users": recs.get("users"), "items": recs.get("items"),
                "sasrec": _sasrec_brief(recs.get("sasrec"))},
            "data_seq": data_seq, "status": summary, "eval": None}
    if card["version"]:
        write_json(cards_dir(home) / f"{card['version']}.json", card)
    return card


def _sasrec_brief(info: Any) -> dict[str, Any] | None:
    if not isinstance(info, dict):
        return None
    conv = info.get("convergence") or {}
    return {k: v for k, v in {"epochs": info.get("epochs"), "loss": info.get("loss"),
                              "stopped_by": conv.get("stopped_by"),
                              "converged": conv.get("converged")}.items() if v is not None}


def read_card(home: Path, version: str) -> dict[str, Any] | None:
    if not version or "/" in version or version.startswith("."):
        return None
    path = cards_dir(home) / f"{version}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def list_cards(home: Path, limit: int = 20) -> list[dict[str, Any]]:
    """Cards, newest training first."""
    folder = cards_dir(home)
    if not folder.exists():
        return []
    cards = []
    for path in folder.glob("*.json"):
        try:
            cards.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue  # a card being written
    cards.sort(key=lambda c: c.get("trained_at") or 0, reverse=True)
    return cards[:limit]


def eval_figures(report: dict[str, Any]) -> dict[str, Any]:
    """The headline figures of an eval report (evaluation/report.py), each with its interval
    where the report has one."""
    def pick(node: Any, *names: str) -> dict[str, Any]:
        if not isinstance(node, dict):
            return {}
        out = {}
        for name in names:
            if name in node:
                out[name] = node[name]
                interval = node.get(f"{name}_ci") or node.get(f"{name}_ci95")
                if interval:
                    out[f"{name}_ci"] = interval
        return out

    search, recs, prop = (report.get(k) or {} for k in ("search", "recs", "propensity"))
    figures: dict[str, Any] = {}
    if search:
        figures["search"] = {"shopsense": pick(search, "ndcg@10", "mrr"),
                             "bm25": pick(search.get("baseline_bm25"), "ndcg@10", "mrr"),
                             "queries": search.get("queries")}
    if recs:
        figures["recs"] = {"shopsense": pick(recs.get("blend"), "ndcg@10", "hr@10"),
                           "popularity": pick(recs.get("baseline_popularity"), "ndcg@10",
                                              "hr@10"),
                           "users": (recs.get("data") or {}).get("evaluated_users")}
    models = prop.get("models") or {}
    serving = models.get("logistic") or next(iter(models.values()), None)  # what serves
    if serving:  # "will this shopper buy in the next days" (the general question)
        figures["propensity"] = pick(serving.get("general") or serving, "auc", "brier", "ece",
                                     "ece_noise_floor")
    return figures


def latest_figures(home: Path) -> dict[str, Any] | None:
    """The headline figures of the report the evaluation after training writes (None before
    the first), with when it was written."""
    path = Path(home) / "eval" / "report" / "report.json"
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return {"at": path.stat().st_mtime, **eval_figures(report)}


def attach_eval(home: Path, version: str, report_file: Path) -> dict[str, Any] | None:
    """Add an eval report's figures to the version's card; the card (None when none)."""
    card = read_card(home, version)
    if card is None or not report_file.exists():
        return card
    report = json.loads(report_file.read_text(encoding="utf-8"))
    card["eval"] = {"at": time.time(), "report": str(report_file), **eval_figures(report)}
    write_json(cards_dir(home) / f"{version}.json", card)
    return card


def evaluate_version(home: Path, version: str, child: Any, status: dict[str, Any],
                     sasrec_cpu_seconds: float | None = None) -> dict[str, Any] | None:
    """Run `shopsense eval report` for the home in `child` (training/children.py) into
    <home>/eval/report (what the dashboard's Evaluation tab shows) and add its figures to the
    version's card; progress and failures go to `status`. Returns the card."""
    from shopsense.config import Settings

    if sasrec_cpu_seconds is None:
        sasrec_cpu_seconds = Settings(home=Path(home)).recs.eval_sasrec_cpu_seconds
    out = Path(home) / "eval" / "report"
    cmd = [sys.executable, "-m", "shopsense.cli", "--home", str(home), "eval", "report",
           "--out", str(out), "--sasrec-cpu-seconds", str(sasrec_cpu_seconds), "--json"]
    status.update(eval_state="running", eval_started_at=time.time())
    try:
        done = child.run(cmd, {**os.environ, "OMP_NUM_THREADS": "1"})
        if done.returncode != 0:
            raise RuntimeError(done.stderr.strip()[-1000:] or f"exit {done.returncode}")
        card = attach_eval(Path(home), version, out / "report.json")
    except Exception as exc:  # the models serve; only the figures are missing
        status.update(eval_state="failed", eval_error=repr(exc)[:1000])
        return None
    status.update(eval_state="done", eval_finished_at=time.time(), eval_error=None)
    return card


__all__ = [
    "attach_eval",
    "cards_dir",
    "eval_figures",
    "evaluate_version",
    "latest_figures",
    "list_cards",
    "read_card",
    "write_card",
    "write_json",
]
