"""`shopsense eval recs`, `shopsense train` and `shopsense recommend` through the real CLI."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from typer.testing import CliRunner

from shopsense.cli import app
from shopsense.domain import Event, Product

runner = CliRunner()


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n")
    return path


def _event_row(e: Event) -> dict:
    row = {k: v for k, v in asdict(e).items() if v is not None}
    row["timestamp"] = int(e.timestamp)
    return row


def test_eval_recs_json_on_a_sequence_file(tmp_path: Path, events: list[Event]) -> None:
    by_user: dict[str, list[str]] = {}
    for e in events:
        by_user.setdefault(e.user_id or "", []).append(e.item_id or "")
    seq = tmp_path / "shop.txt"
    seq.write_text("".join(f"{u} {' '.join(items)}\n" for u, items in by_user.items()))
    out = runner.invoke(app, ["eval", "recs", "--events", str(seq), "--json", "--max-minutes", "1"])
    assert out.exit_code == 0, out.output
    report = json.loads(out.stdout.strip().splitlines()[-1])
    ours, base = report["blend"], report["baseline_popularity"]
    for block in (ours, base):
        assert {"hr@10", "ndcg@10", "hr@20", "ndcg@20", "coverage@10", "train_seconds"} <= set(block)
        assert all(0 <= block[m] <= 1 for m in ("hr@10", "ndcg@10", "hr@20", "ndcg@20"))
    assert report["peak_rss_mb"] > 0
    assert report["data"]["evaluated_users"] == len(by_user)
    assert ours["ndcg@10"] > 2 * base["ndcg@10"]  # walks are learnable; popularity is not


def test_train_then_recommend(tmp_path: Path, events: list[Event], products: list[Product]) -> None:
    home = tmp_path / "home"
    catalog = _write(tmp_path / "products.jsonl",
                     [{"item_id": p.item_id, "title": p.title, "category": p.category,
                       "brand": p.brand, "price": p.price} for p in products])
    feed = _write(tmp_path / "events.jsonl", [_event_row(e) for e in events])
    for kind, path in (("catalog", catalog), ("events", feed)):
        result = runner.invoke(app, ["--home", str(home), "ingest", kind, str(path), "--json"])
        assert result.exit_code == 0, result.output
    trained = runner.invoke(app, ["--home", str(home), "train", "--recs-only", "--json",
                                  "--max-minutes", "1"])
    assert trained.exit_code == 0, trained.output
    summary = json.loads(trained.stdout.strip().splitlines()[-1])
    assert (home / "models" / "recs" / "current").read_text().strip() == summary["version"]
    got = runner.invoke(app, ["--home", str(home), "recommend", "--user", "u3", "--k", "5",
                              "--json"])
    assert got.exit_code == 0, got.output
    rows = json.loads(got.stdout.strip().splitlines()[-1])["results"]
    assert len(rows) == 5 and all(r["signals"] for r in rows)
    assert sum(r["item_id"].startswith("k3") for r in rows) >= 3  # u3 shops kind 3
    similar = runner.invoke(app, ["--home", str(home), "recommend", "--surface", "similar",
                                  "--item", "k2i0", "--json"])
    assert similar.exit_code == 0 and json.loads(similar.stdout)["results"]
    bad = runner.invoke(app, ["--home", str(home), "recommend", "--surface", "similar"])
    assert bad.exit_code != 0
