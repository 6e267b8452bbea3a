"""Adversarial rewrites of real template replies over the demo catalogue (hypothesis): the
checker must catch swapped prices, swapped brands, attributes transplanted between items,
invented services and invented superlatives in >= 95 % of generated cases of each kind, and
pass every untouched reply."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from shopsense.assistant.check import check_reply
from shopsense.assistant.compare import compare_reply
from shopsense.assistant.facts import format_price
from shopsense.assistant.lexicon import label
from shopsense.assistant.respond import detail_reply, results_reply
from shopsense.assistant.state import Constraints

KINDS = ("swapped_prices", "swapped_brands", "transplanted_attribute", "invented_service",
         "invented_superlative")
CASES = 60  # per kind and example
SERVICE_ZH = ("包邮", "免运费", "终身保修", "终身质保", "当天发货", "次日达", "七天无理由退货",
              "官方正品", "假一赔十", "免费送货")
SERVICE_EN = ("free shipping", "free delivery", "a lifetime warranty", "next-day delivery",
              "free returns", "same-day dispatch", "guaranteed authentic", "ships today")
SUPER_ZH = ("评分最高", "好评最多", "销量第一", "最畅销", "口碑最好", "性价比最高", "最强", "最佳")
SUPER_EN = ("best-rated", "top-rated", "best-selling", "most popular", "highest rated",
            "the best value", "number one", "unbeatable")


def _check(shop: Any, text: str, facts: list) -> bool:
    brands = {p.brand for p in shop.products.values() if p.brand}
    return check_reply(text, facts, shop.products, brands, {}, 3).ok


@pytest.fixture(scope="module")
def groups(demo_shop: Any) -> dict[str, list[Any]]:
    by: dict[str, list[Any]] = {}
    for p in demo_shop.products.values():
        if p.price is not None:
            by.setdefault(p.category, []).append(p)
    return {c: sorted(ps, key=lambda p: p.item_id) for c, ps in by.items() if len(ps) >= 2}


@st.composite
def item_pairs(draw: Any, groups: dict[str, list[Any]]) -> tuple[Any, Any, str]:
    category = draw(st.sampled_from(sorted(groups)))
    a, b = draw(st.lists(st.sampled_from(groups[category]), min_size=2, max_size=2,
                         unique_by=lambda p: p.item_id))
    return a, b, draw(st.sampled_from(("zh", "en")))


def swapped_prices(a: Any, b: Any, lang: str, draw: Any) -> tuple[str, list] | None:
    if a.price == b.price:
        return None
    text, facts = results_reply([a, b], Constraints(), lang)
    pa, pb = format_price(a.price, a.currency, lang), format_price(b.price, b.currency, lang)
    return text.replace(pa, "\0").replace(pb, pa).replace("\0", pb), facts


def swapped_brands(a: Any, b: Any, lang: str, draw: Any) -> tuple[str, list] | None:
    if not a.brand or not b.brand or a.brand == b.brand:
        return None
    if draw(st.booleans()):
        text, facts = compare_reply([a, b], (), (), lang)
        row = f"| {label('brand', lang)} | {a.brand} | {b.brand} |"
        return text.replace(row, f"| {label('brand', lang)} | {b.brand} | {a.brand} |"), facts
    ta, fa = detail_reply(a, lang)
    sep = "：" if lang == "zh" else ": "
    return ta.replace(f"{label('brand', lang)}{sep}{a.brand}",
                      f"{label('brand', lang)}{sep}{b.brand}"), fa


def transplanted_attribute(a: Any, b: Any, lang: str, draw: Any) -> tuple[str, list] | None:
    keys = [k for k, v in b.attributes.items() if k != "consumable" and
            ((isinstance(v, str) and len(v) >= 2 and v.lower() not in a.title.lower() and
             str(a.attributes.get(k, "")).lower() != v.lower()) or
             (v is True and a.attributes.get(k) is not True and k in ("waterproof",
                                                                     "noise_cancelling")))]
    if not keys:
        return None
    key = draw(st.sampled_from(sorted(keys)))
    value = b.attributes[key]
    shown = ("是" if lang == "zh" else "yes") if value is True else str(value)
    text, facts = detail_reply(a, lang)
    sep = "：" if lang == "zh" else ": "
    lines = text.split("\n")
    line = f"· {label(key, lang)}{sep}{shown}"
    old = [n for n, ln in enumerate(lines) if ln.startswith(f"· {label(key, lang)}{sep}")]
    if old:
        lines[old[0]] = line
    else:
        lines.insert(draw(st.integers(1, len(lines) - 1)), line)
    return "\n".join(lines), facts


def invented_service(a: Any, b: Any, lang: str, draw: Any) -> tuple[str, list] | None:
    text, facts = (detail_reply(a, lang) if draw(st.booleans()) else
                   results_reply([a, b], Constraints(), lang))
    service = draw(st.sampled_from(SERVICE_ZH if lang == "zh" else SERVICE_EN))
    frame = draw(st.sampled_from(("{t}支持{s}。", "本店{s}。", "{t}：{s}", "下单即享{s}。")
                                 if lang == "zh" else
                                 ("{t} comes with {s}.", "Every order gets {s}.",
                                  "{t}: {s}.", "You also get {s}.")))
    lines = text.split("\n")
    at = draw(st.integers(1, len(lines)))
    lines.insert(at, frame.format(t=a.title, s=service))
    return "\n".join(lines), facts


def invented_superlative(a: Any, b: Any, lang: str, draw: Any) -> tuple[str, list] | None:
    text, facts = results_reply([a, b], Constraints(), lang)
    word = draw(st.sampled_from(SUPER_ZH if lang == "zh" else SUPER_EN))
    frame = draw(st.sampled_from(("{t}是本店{w}的。", "其中{t}{w}。", "推荐{t}，{w}。")
                                 if lang == "zh" else
                                 ("{t} is our {w} pick.", "Of these, {t} is {w}.",
                                  "I suggest {t}: it is {w}.")))
    return text + "\n" + frame.format(t=draw(st.sampled_from((a.title, b.title))), w=word), facts


REWRITES = {"swapped_prices": swapped_prices, "swapped_brands": swapped_brands,
            "transplanted_attribute": transplanted_attribute,
            "invented_service": invented_service, "invented_superlative": invented_superlative}


@settings(max_examples=3, deadline=None, derandomize=True, phases=[Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(data=st.data())
def test_each_rewrite_kind_is_caught(demo_shop: Any, groups: dict, data: Any) -> None:
    caught, made = Counter(), Counter()
    for kind, rewrite in REWRITES.items():
        tries = 0
        while made[kind] < CASES and tries < 6 * CASES:
            tries += 1
            a, b, lang = data.draw(item_pairs(groups))
            case = rewrite(a, b, lang, data.draw)
            if case is None:
                continue
            made[kind] += 1
            caught[kind] += not _check(demo_shop, *case)
    rates = {k: caught[k] / made[k] for k in KINDS}
    print("adversarial catch rates:", {k: f"{caught[k]}/{made[k]}" for k in KINDS})
    assert all(made[k] >= CASES // 2 for k in KINDS), made
    assert all(rate >= 0.95 for rate in rates.values()), rates


@settings(max_examples=25, deadline=None, derandomize=True, phases=[Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_untouched_replies_pass(demo_shop: Any, groups: dict, data: Any) -> None:
    a, b, lang = data.draw(item_pairs(groups))
    for text, facts in (results_reply([a, b], Constraints(), lang), detail_reply(a, lang),
                        compare_reply([a, b], (), (), lang)):
        brands = {p.brand for p in demo_shop.products.values() if p.brand}
        report = check_reply(text, facts, demo_shop.products, brands, {}, 2)
        assert report.ok, (text, report.to_dict())
