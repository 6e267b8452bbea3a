"""Merchandising rules as the operator edits them: what applies to a surface, a query and a
moment becomes `Rules`; redirects; validation; the cache follows the stored version."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shopsense.domain import Candidate, Product
from shopsense.rank.merch import Merchandising, MerchCache, MerchRule, Redirect
from shopsense.rank.rules import apply_rules

PRODUCTS = {
    "a": Product("a", "格力空调", category="家电 > 空调", brand="格力", price=3000,
                 attributes={"colour": "白色"}),
    "b": Product("b", "美的空调", category="家电 > 空调", brand="美的", price=2500,
                 attributes={"colour": "金色"}),
    "c": Product("c", "海尔冰箱", category="家电 > 冰箱", brand="海尔", price=4000),
    "d": Product("d", "小米手机", category="手机数码 > 手机", brand="小米", price=1999),
}


def ranked(rules) -> list[str]:
    cands = [Candidate(i, s) for i, s in (("a", 4.0), ("b", 3.0), ("c", 2.0), ("d", 1.0))]
    return [c.item_id for c in apply_rules(cands, rules, PRODUCTS)]


def test_each_action_by_each_field() -> None:
    merch = Merchandising(rules=[
        MerchRule(action="pin", field="item", value="d", position=0, query="空调"),
        MerchRule(action="boost", field="brand", value="美的", factor=3.0, query="空调"),
        MerchRule(action="exclude", field="attribute", key="colour", value="白色", query="空调"),
        MerchRule(action="bury", field="category", value="家电 > 冰箱", factor=0.1),
    ])
    rules = merch.active("search", "格力 空调 1.5匹")  # "contains" match
    assert ranked(rules) == ["d", "b", "c"]  # d pinned first, a (白色) gone, b boosted
    assert merch.active("search", "冰箱").bury and not merch.active("search", "冰箱").pins
    recs = merch.active("recommend", None)  # rules with a query never reach recommendations
    assert recs is not None and not recs.pins and not recs.boost and len(recs.bury) == 1
    assert Merchandising().active("search", "x") is None


def test_exclude_by_item_brand_category_and_surfaces() -> None:
    merch = Merchandising(rules=[
        MerchRule(action="exclude", field="item", value="a"),
        MerchRule(action="exclude", field="brand", value="海尔", surfaces=["recommend"]),
        MerchRule(action="exclude", field="category", value="手机数码"),
    ])
    assert ranked(merch.active("search", "")) == ["b", "c"]
    assert ranked(merch.active("recommend", None)) == ["b"]


def test_schedule_and_exact_queries() -> None:
    rule = MerchRule(action="pin", field="item", value="c", start=100.0, end=200.0,
                     query="冰箱", match="exact")
    merch = Merchandising(rules=[rule])
    assert merch.active("search", "冰箱", now=99.0) is None
    assert merch.active("search", " 冰箱 ", now=150.0).pins[0].item_id == "c"
    assert merch.active("search", "冰箱 双门", now=150.0) is None  # exact: not contained
    assert merch.active("search", "冰箱", now=200.0) is None  # end is exclusive


def test_redirects() -> None:
    merch = Merchandising(redirects=[Redirect(query="售后", url="/help/after-sales"),
                                     Redirect(query="双十一", match="contains", url="/search?q=sale",
                                              end=50.0)])
    assert merch.redirect_for("售后") == "/help/after-sales"
    assert merch.redirect_for("售后 电话") is None  # exact by default
    assert merch.redirect_for("双十一 空调", now=10.0) == "/search?q=sale"
    assert merch.redirect_for("双十一 空调", now=60.0) is None


@pytest.mark.parametrize("bad", [
    {"action": "pin", "field": "brand", "value": "格力"},
    {"action": "boost", "field": "attribute", "value": "白色"},
    {"action": "boost", "field": "brand", "value": "格力", "factor": 0.5},
    {"action": "bury", "field": "brand", "value": "格力", "factor": 2.0},
    {"action": "pin", "field": "item", "value": "a", "start": 10, "end": 5},
    {"action": "hide", "field": "item", "value": "a"},
])
def test_invalid_rules_are_refused(bad) -> None:
    with pytest.raises(ValidationError):
        MerchRule(**bad)
    with pytest.raises(ValidationError):
        Redirect(query="x", url="https://elsewhere.example")  # only pages of this shop


def test_cache_follows_the_version_not_the_clock() -> None:
    state = {"version": 0, "body": None, "loads": 0, "t": 0.0}

    def load():
        state["loads"] += 1
        return state["body"]

    cache = MerchCache(lambda: state["version"], load, check_s=1.0, clock=lambda: state["t"])
    assert cache.current()[0] == 0 and state["loads"] == 0
    state.update(version=1, body={"rules": [{"action": "exclude", "field": "item", "value": "a"}]})
    assert cache.current()[0] == 0  # checked less than a second ago
    state["t"] = 1.5
    version, merch = cache.current()
    assert version == 1 and merch.rules[0].value == "a" and state["loads"] == 1
    state["t"] = 3.0
    cache.current()
    assert state["loads"] == 1  # same version: not re-read
