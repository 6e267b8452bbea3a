"""`eval report` on a shop's own logs: logged judgments, baselines, CIs, HTML + JSON."""

from __future__ import annotations

import json
from pathlib import Path

from shopsense.evaluation.report import build_report, logged_judgments, write_report


def test_logged_judgments_follow_the_session() -> None:
    from shopsense.domain import Event

    events = [Event("1", "search", 1.0, "u", "s", None, "空调"),
              Event("2", "view", 2.0, "u", "s", "A"),
              Event("3", "cart", 3.0, "u", "s", "B"),
              Event("4", "search", 4.0, "u", "s", None, "鞋"),
              Event("5", "purchase", 5.0, "u", "s", "C"),
              Event("6", "view", 6.0, "v", "t", "D")]  # no search before it: no judgment
    judged = {q.query: q.gains for q in logged_judgments(events)}
    assert judged == {"空调": {"A": 1.0, "B": 2.0}, "鞋": {"C": 3.0}}


def test_report_on_the_demo_shop(demo_shop, tmp_path: Path) -> None:
    report = build_report(demo_shop, sections=("search", "understand", "beyond",
                                               "counterfactual"))
    search = report["search"]
    assert search["queries"] > 20 and 0 <= search["ndcg@10"] <= 1
    low, high = search["ndcg@10_ci95"]
    assert low <= search["ndcg@10"] <= high
    assert "baseline_bm25" in search
    assert report["understand"]["queries"] > 10
    assert 0 <= report["understand"]["category_accuracy"] <= 1
    beyond = report["beyond_accuracy"]
    assert 0 < beyond["coverage@10"] <= 1 and beyond["novelty_bits"] > 0
    paths = write_report(report, tmp_path / "out")
    assert json.loads(Path(paths["json"]).read_text())["search"]["queries"] == search["queries"]
    assert "<img src=\"data:image/png;base64," in Path(paths["html"]).read_text()
