"""Determinism, the category tree, the small helpers and the CLI of the demo generator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from shopsense.demo import (
    demo_events,
    demo_products,
    demo_search_judgments,
    generate_demo,
    iter_demo_events,
    iter_demo_products,
)
from shopsense.demo.catalog import allocate, iso, round_price
from shopsense.demo.taxonomy import LEAVES
from shopsense.domain import Event, Product

SMALL = {"n_products": 400, "n_users": 120, "days": 21}
FILES = ("products.jsonl", "events.jsonl", "categories.json", "queries.jsonl", "judgments.jsonl",
         "shoppers_truth.jsonl", "manifest.json")


def _bytes(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in FILES}


def test_same_seed_gives_identical_bytes_and_another_seed_differs(tmp_path: Path) -> None:
    a = _bytes(generate_demo(tmp_path / "a", seed=3, **SMALL).products.parent)
    b = _bytes(generate_demo(tmp_path / "b", seed=3, **SMALL).products.parent)
    c = _bytes(generate_demo(tmp_path / "c", seed=4, **SMALL).products.parent)
    assert a == b
    assert a["products.jsonl"] != c["products.jsonl"] and a["events.jsonl"] != c["events.jsonl"]


def test_files_do_not_depend_on_the_process_hash_seed(tmp_path: Path) -> None:
    """Set iteration order changes with PYTHONHASHSEED; the files must not."""
    here = _bytes(generate_demo(tmp_path / "here", seed=3, **SMALL).products.parent)
    code = ("import sys; from pathlib import Path; from shopsense.demo import generate_demo; "
            f"generate_demo(Path(sys.argv[1]), seed=3, **{SMALL!r})")
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "there")], check=True, env=env)
    assert _bytes(tmp_path / "there") == here


def test_iterators_match_the_files(tmp_path: Path) -> None:
    paths = generate_demo(tmp_path, seed=5, **SMALL)
    rows = [json.loads(line) for line in paths.products.open(encoding="utf-8")]
    assert list(iter_demo_products(seed=5, n_products=SMALL["n_products"])) == rows
    events = [json.loads(line) for line in paths.events.open(encoding="utf-8")]
    assert list(iter_demo_events(seed=5, **SMALL)) == events


def test_product_rows_map_onto_the_domain_type() -> None:
    fields = set(Product.__dataclass_fields__)
    for row in iter_demo_products(seed=1, n_products=200):
        assert set(row) == fields


def test_domain_objects_match_the_rows() -> None:
    products = demo_products(seed=1, n_products=200)
    rows = list(iter_demo_products(seed=1, n_products=200))
    assert [p.item_id for p in products] == [r["item_id"] for r in rows]
    assert products[0].title == rows[0]["title"] and isinstance(products[0].created_at, float)
    events = demo_events(seed=1, n_products=200, n_users=30, days=5)
    assert events and all(isinstance(e, Event) for e in events)
    assert [e.timestamp for e in events] == sorted(e.timestamp for e in events)
    ids = {p.item_id for p in products}
    assert all(e.item_id in ids for e in events if e.event_type != "search")
    judgments = demo_search_judgments(seed=1, n_products=200)
    assert {j.relevance for j in judgments} <= {1.0, 2.0} and judgments[0].item_id in ids


def test_category_tree_names_every_node_in_both_languages(tmp_path: Path) -> None:
    paths = generate_demo(tmp_path, seed=2, n_products=300, n_users=50, days=7)
    tree = json.loads(paths.categories.read_text(encoding="utf-8"))
    nodes = tree["nodes"]
    leaves = {p for p, n in nodes.items() if n["leaf"]}
    assert leaves == {leaf.path for leaf in LEAVES} and len(leaves) >= 20
    assert nodes["家电 > 空调"]["path_en"] == "Appliances > Air Conditioners"
    for path, node in nodes.items():
        assert node["zh"] == path.split(" > ")[-1] and node["en"] and node["en"].isascii()
        assert node["path_en"].count(" > ") == path.count(" > ")
        assert node["parent"] is None or path in nodes[node["parent"]]["children"]
    assert sum(nodes[p]["n_products"] for p in leaves) == 300
    rows = list(iter_demo_products(seed=2, n_products=300))
    assert {p["category"] for p in rows} <= leaves
    for row in rows:  # every image_url names a placeholder the generator wrote
        assert row["image_url"].startswith("/static/demo/")
        assert (paths.products.parent / "images" / row["image_url"].rsplit("/", 1)[1]).is_file()


def test_bad_sizes_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="n_products"):
        generate_demo(tmp_path, n_products=0)
    with pytest.raises(ValueError, match="n_users"):
        generate_demo(tmp_path, n_products=50, n_users=0)
    with pytest.raises(ValueError, match="days"):
        generate_demo(tmp_path, n_products=50, n_users=5, days=0)


@given(st.floats(min_value=0.5, max_value=50_000), st.floats(min_value=1, max_value=100),
       st.floats(min_value=1.01, max_value=1000))
def test_round_price_stays_in_bounds(price: float, lo: float, ratio: float) -> None:
    hi = lo * ratio
    assert lo <= round_price(price, lo, hi) <= hi


@given(st.integers(min_value=-2_000_000_000, max_value=4_000_000_000))
def test_iso_matches_strftime(ts: int) -> None:
    assert iso(ts) == datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@given(st.integers(min_value=0, max_value=10_000),
       st.lists(st.floats(min_value=0.1, max_value=5), min_size=1, max_size=40))
def test_allocate_splits_exactly(total: int, shares: list[float]) -> None:
    counts = allocate(total, shares)
    assert sum(counts) == total and len(counts) == len(shares)
    if total >= len(shares):
        assert min(counts) >= 1


def test_cli_generates_and_reports_counts(tmp_path: Path) -> None:
    from shopsense.cli import app

    result = CliRunner().invoke(app, ["demo", "generate", "--out", str(tmp_path), "--seed", "9",
                                      "--products", "300", "--users", "60", "--days", "10", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["counts"]["products"] == 300 and summary["counts"]["categories"] == len(LEAVES)
    assert summary["counts"]["events"] == sum(1 for _ in (tmp_path / "events.jsonl").open("rb")) > 0
    bad = CliRunner().invoke(app, ["demo", "generate", "--out", str(tmp_path), "--products", "0"])
    assert bad.exit_code == 2


def test_demo_run_loads_the_store_once(tmp_path: Path) -> None:
    """`demo run --no-serve`: generate into <home>/demo, ingest through the real pipeline, idempotent."""
    from shopsense.cli import app

    args = ["--home", str(tmp_path), "demo", "run", "--no-serve", "--json",
            "--products", "250", "--users", "40", "--days", "7"]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    report = json.loads(first.stdout.strip().splitlines()[-1])
    n_events = sum(1 for _ in (tmp_path / "demo" / "events.jsonl").open("rb"))
    assert report["generated"] and report["loaded"] == {"products": 250, "events": n_events}
    again = json.loads(CliRunner().invoke(app, args).stdout.strip().splitlines()[-1])
    assert not again["generated"] and again["loaded"] == {"products": 0, "events": 0}


def test_ensure_demo_reuses_a_matching_folder_and_replaces_a_stale_one(tmp_path: Path) -> None:
    from shopsense.demo import ensure_demo

    target = tmp_path / "cache"
    paths, fresh = ensure_demo(target, seed=2, n_products=150, n_users=20, days=5)
    first = _bytes(target)
    again, fresh_again = ensure_demo(target, seed=2, n_products=150, n_users=20, days=5)
    assert fresh and not fresh_again and again == paths and _bytes(target) == first
    _, fresh_other = ensure_demo(target, seed=3, n_products=150, n_users=20, days=5)
    assert fresh_other and _bytes(target) != first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache"]  # no staging left behind
    assert json.loads((target / "manifest.json").read_text())["seed"] == 3
