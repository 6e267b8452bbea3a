"""Brand share counts brand entities: 格力 and Gree are one brand, counted once per shopper and
named in the operator's language (learned aliases plus the operator's override file)."""

from __future__ import annotations

import json
from pathlib import Path

from shopsense.analytics.aggregates import DAY, SPEC_BY_NAME, bounded_counts, window_for
from shopsense.analytics.report import ReleaseParams, behaviour_release, release_specs
from shopsense.domain import Event, Product
from shopsense.privacy.dp import PrivacyLedger
from shopsense.store import open_store

T0 = 1_790_000_000.0 - (1_790_000_000.0 % DAY)
PRODUCTS = [
    Product("g1", "格力(GREE) 空调 挂机 1.5匹", category="家电 > 空调", brand="格力", price=2999.0),
    Product("g2", "格力(GREE) 空调 柜机 3匹", category="家电 > 空调", brand="格力", price=6999.0),
    Product("g3", "Gree Wall-Mounted Air Conditioner 1.5 HP", category="家电 > 空调",
            brand="Gree", price=3099.0),
    Product("m1", "美的 空调 挂机 1匹", category="家电 > 空调", brand="美的", price=1999.0),
    Product("m2", "Midea refrigerator 300L", category="家电 > 冰箱", brand="MIDEA-CN",
            price=2099.0),  # another category: nothing the learner can link 美的 by
    Product("n1", "Nike running shoes", category="鞋靴 > 运动鞋", brand="Nike", price=599.0),
]


def _store(views: list[tuple[str, str]]):  # type: ignore[no-untyped-def]
    store = open_store("memory://")
    store.upsert_products(PRODUCTS)
    store.add_events([Event(f"e{i}", "view", T0 + 3600 + i, user, f"s-{user}", item, None,
                            None, "web") for i, (user, item) in enumerate(views)])
    return store


def _brand_counts(store, override: Path | None = None) -> dict[str, int]:  # type: ignore[no-untyped-def]
    spec = next(s for s in release_specs(entities_file=override) if s.name == "brand_share")
    return bounded_counts(store, spec, window_for(store, 7), 10).counts


def test_one_brand_written_two_ways_counts_once_per_shopper() -> None:
    store = _store([("u1", "g1"), ("u1", "g3"), ("u2", "g2"), ("u3", "g3"), ("u3", "n1")])
    counts = _brand_counts(store)
    assert counts["Gree"] == 3  # u1 (both spellings) once, u2 via 格力, u3 via Gree
    assert "格力" not in counts
    assert counts["Nike"] == 1
    spec = SPEC_BY_NAME["brand_share"]
    domain = spec.domain(store, window_for(store, 7))
    assert "Gree" in domain and "格力" not in domain and len(domain) == len(set(domain))
    assert spec.labels(store)["Gree"] == {"zh": "格力", "en": "Gree"}
    assert spec.labels(store)["Nike"] == {"zh": "Nike", "en": "Nike"}


def test_the_operator_file_merges_what_was_not_learned(tmp_path: Path) -> None:
    store = _store([("u1", "m1"), ("u1", "m2"), ("u2", "m2")])
    learned = _brand_counts(store)
    assert learned.get("美的") == 1 and learned.get("MIDEA-CN") == 2  # nothing links them
    override = tmp_path / "entities.json"
    override.write_text(json.dumps({"brands": [{"zh": "美的", "en": "Midea",
                                                "aliases": ["MIDEA-CN"]}]}), encoding="utf-8")
    merged = _brand_counts(store, override)
    assert merged["Midea"] == 2 and "美的" not in merged and "MIDEA-CN" not in merged


def test_the_release_names_each_brand_in_both_languages(tmp_path: Path) -> None:
    store = _store([(f"u{i}", item) for i in range(40) for item in ("g1", "g3")])
    override = tmp_path / "entities.json"
    override.write_text(json.dumps({"brands": [{"zh": "美的", "en": "Midea",
                                                "aliases": ["MIDEA-CN"]}]}), encoding="utf-8")
    ledger = PrivacyLedger(store, budget=1e9)
    body = behaviour_release(store, ReleaseParams(epsilon=1e6), ledger=ledger,
                             entities_file=override)
    brands = body["aggregates"]["brand_share"]
    rows = {r["key"]: r["count"] for r in brands["rows"]}
    assert rows["Gree"] == 40 and "格力" not in rows and "Midea" in rows
    assert brands["labels"]["Gree"] == {"zh": "格力", "en": "Gree"}
    assert brands["labels"]["Midea"] == {"zh": "美的", "en": "Midea"}
    # a changed override file is a new release (not the cached one)
    override.write_text(json.dumps({"brands": []}), encoding="utf-8")
    again = behaviour_release(store, ReleaseParams(epsilon=1e6), ledger=ledger,
                              entities_file=override)
    assert not again["cached"]
    assert "Midea" not in {r["key"] for r in again["aggregates"]["brand_share"]["rows"]}


def test_the_png_chart_names_each_brand_in_its_language(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from matplotlib.axes import Axes

    from shopsense.analytics import charts

    shown: list[list[str]] = []
    barh = Axes.barh
    monkeypatch.setattr(Axes, "barh", lambda self, y, width, **kw: (
        shown.append(list(y)), barh(self, y, width, **kw))[1])
    agg = {"title_en": "Brand share", "title_zh": "品牌占比", "stddev": 1.0,
           "rows": [{"key": "Gree", "parts": ["Gree"], "count": 40},
                    {"key": "Nike", "parts": ["Nike"], "count": 5}],
           "labels": {"Gree": {"zh": "格力", "en": "Gree"}}}
    for lang in ("zh", "en"):
        assert charts.bars(agg, lang).startswith(b"\x89PNG")
    assert shown == [["Nike", "格力"], ["Nike", "Gree"]]
