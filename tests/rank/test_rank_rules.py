"""Business rules: exclusions always win, pins land where asked, boosts and buries move items
and are recorded as `rule` signals."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from shopsense.domain import Candidate, Product
from shopsense.rank.rules import Adjust, Pin, Rules, apply_rules

BRANDS = ("格力", "美的", "Haier")
CATEGORIES = ("家电 > 空调", "家电 > 冰箱", "美妆 > 面霜")
PRODUCTS = {
    f"i{n}": Product(item_id=f"i{n}", title=f"item {n}", brand=BRANDS[n % 3],
                     category=CATEGORIES[(n // 3) % 3], available=n % 7 != 6)
    for n in range(30)
}


def cands(scores: list[float]) -> list[Candidate]:
    return [Candidate(f"i{n}", s) for n, s in enumerate(scores)]


def test_boost_lifts_and_is_recorded() -> None:
    rules = Rules(boost=[Adjust(field="brand", value="haier", multiply=10.0)])
    out = apply_rules(cands([5.0, 4.0, 3.0]), rules, PRODUCTS)
    assert [c.item_id for c in out] == ["i2", "i0", "i1"]
    assert out[0].signals["rule"] == pytest.approx(27.0)
    assert out[0].evidence["rules"][0]["rule"] == "boost"
    assert "rule" not in out[1].signals


def test_bury_lowers_negative_scores_too() -> None:
    rules = Rules(bury=[Adjust(field="item", value="i0", multiply=0.5)])
    out = apply_rules(cands([-1.0, -1.5]), rules, PRODUCTS)
    assert [c.item_id for c in out] == ["i1", "i0"]
    assert out[1].score == pytest.approx(-2.0)


def test_category_filter_and_brand_exclusion() -> None:
    rules = Rules(categories=["家电"], exclude_brands=["美的"])
    out = apply_rules(cands([1.0] * 12), rules, PRODUCTS)
    assert out and all(PRODUCTS[c.item_id].category.startswith("家电") for c in out)
    assert all(PRODUCTS[c.item_id].brand != "美的" for c in out)


def test_pin_inserts_missing_item_but_never_an_excluded_one() -> None:
    rules = Rules(pins=[Pin(item_id="i21", position=0), Pin(item_id="i1", position=1),
                        Pin(item_id="i20", position=2)], exclude=["i1"])  # i20 is sold out
    out = apply_rules(cands([3.0, 2.0, 1.0]), rules, PRODUCTS)
    assert out[0].item_id == "i21" and out[0].evidence["pinned_position"] == 0
    assert out[0].score == 3.0  # takes the score of the slot it displaced
    assert [c.item_id for c in out[1:]] == ["i0", "i2"]


def test_invalid_rules_are_rejected() -> None:
    with pytest.raises(ValidationError):
        Rules(boost=[Adjust(field="brand", value="x", multiply=0.5)])
    with pytest.raises(ValidationError):
        Rules(pins=[Pin(item_id="a", position=0), Pin(item_id="b", position=0)])


def test_request_rules_layer_over_shop_rules() -> None:
    shop = Rules(exclude=["i1"], pins=[Pin(item_id="i2", position=0)], available_only=True)
    request = Rules(exclude=["i3"], pins=[Pin(item_id="i4", position=0)], available_only=False)
    merged = shop.merged(request)
    assert set(merged.exclude) == {"i1", "i3"}
    assert [p.item_id for p in merged.pins] == ["i4"]
    assert merged.available_only is False
    assert shop.merged(Rules(exclude=["i3"])).available_only is True


ids = st.sampled_from(sorted(PRODUCTS))


@settings(max_examples=150, deadline=None)
@given(
    scores=st.lists(st.floats(-100, 100), min_size=0, max_size=30),
    exclude=st.lists(ids, max_size=8),
    pins=st.dictionaries(ids, st.integers(0, 12), max_size=4),
    boost_brand=st.sampled_from(BRANDS),
)
def test_properties_exclusions_and_pins(scores: list[float], exclude: list[str],
                                        pins: dict[str, int], boost_brand: str) -> None:
    positions: dict[int, str] = {}
    for item, pos in pins.items():
        positions.setdefault(pos, item)
    rules = Rules(exclude=exclude, pins=[Pin(item_id=i, position=p) for p, i in positions.items()],
                  boost=[Adjust(field="brand", value=boost_brand, multiply=2.0, add=1.0)])
    out = apply_rules(cands(scores), rules, PRODUCTS)
    shown = [c.item_id for c in out]
    assert not set(shown) & set(exclude)
    assert all(PRODUCTS[i].available for i in shown)
    assert len(shown) == len(set(shown))
    placeable = sorted((p, i) for p, i in positions.items()
                       if i not in exclude and PRODUCTS[i].available)
    n_unpinned = len(shown) - len(placeable)
    for j, (pos, item) in enumerate(placeable):
        # exact when enough items lie ahead; otherwise as far down as the list goes
        assert shown[min(pos, n_unpinned + j)] == item
    unpinned = [c.score for c in out if "pinned_position" not in c.evidence]
    assert unpinned == sorted(unpinned, reverse=True)


def test_shop_rules_file_round_trip(tmp_path) -> None:
    from shopsense.rank.rules import load_shop_rules, save_shop_rules

    assert load_shop_rules(tmp_path) == Rules()
    rules = Rules(exclude=["i1"], boost=[Adjust(field="category", value="家电", add=0.5)])
    save_shop_rules(tmp_path, rules)
    assert load_shop_rules(tmp_path) == rules
    (tmp_path / "rules.json").write_text('{"bury": [{"field": "brand", "value": "x", "add": 1}]}')
    with pytest.raises(ValidationError):
        load_shop_rules(tmp_path)


def test_price_bounds_and_attribute_boosts() -> None:
    products = {
        "cheap": Product("cheap", "a", price=10.0, attributes={"promotion": True}),
        "mid": Product("mid", "b", price=100.0),
        "dear": Product("dear", "c", price=1000.0, attributes={"promotion": "TRUE"}),
        "unpriced": Product("unpriced", "d"),
    }
    cands = [Candidate(i, s) for i, s in (("mid", 3.0), ("dear", 2.0), ("cheap", 1.0),
                                          ("unpriced", 0.5))]
    rules = Rules(price_min=50, price_max=2000,
                  boost=[Adjust(field="attribute", key="promotion", value="true", add=5.0)])
    out = apply_rules(cands, rules, products)
    assert [c.item_id for c in out] == ["dear", "mid", "unpriced"]
    assert out[0].evidence["rules"][0]["field"] == "attribute"
    with pytest.raises(ValidationError):
        Adjust(field="attribute", value="true")
    with pytest.raises(ValidationError):
        Rules(price_min=10, price_max=5)
    shop = Rules(price_max=500)
    assert shop.merged(Rules(exclude=["x"])).price_max == 500
    assert shop.merged(Rules(price_max=900)).price_max == 900


def test_inputs_are_never_modified_by_boosts_buries_or_pins() -> None:
    rules = Rules(boost=[Adjust(field="brand", value="haier", multiply=10.0)],
                  bury=[Adjust(field="item", value="i1", add=-1.0)],
                  pins=[Pin(item_id="i0", position=2)])
    given = cands([5.0, 4.0, 3.0, 2.0])
    before = [(c.item_id, c.score, dict(c.signals), dict(c.evidence)) for c in given]
    out = apply_rules(given, rules, PRODUCTS)
    assert [(c.item_id, c.score, c.signals, c.evidence) for c in given] == before
    by_id = {c.item_id: c for c in out}
    assert by_id["i0"].evidence["pinned_position"] == 2 and by_id["i0"] is not given[0]
    assert by_id["i2"].signals["rule"] > 0 and by_id["i1"].signals["rule"] == -1.0
    assert by_id["i3"] is given[3]  # no rule changed it: passed on as it is
