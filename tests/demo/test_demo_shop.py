"""The default demo shop (seed 7): counts, row validity, and the behaviour signal others rely on."""

from __future__ import annotations

import json
import unicodedata
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from shopsense.demo import END, USD_TO_CNY, DemoPaths, generate_demo
from shopsense.demo.brands import BRANDS
from shopsense.demo.taxonomy import LEAF_BY_PATH, LEAVES
from shopsense.domain import EVENT_TYPES, PLATFORMS


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoPaths:
    return generate_demo(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def products(demo: DemoPaths) -> dict[str, dict[str, Any]]:
    rows = [json.loads(line) for line in demo.products.open(encoding="utf-8")]
    return {row["item_id"]: row for row in rows}


@pytest.fixture(scope="module")
def events(demo: DemoPaths) -> list[dict[str, Any]]:
    return [json.loads(line) for line in demo.events.open(encoding="utf-8")]


def _time(value: str) -> datetime:
    assert value.endswith("Z"), value
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def test_counts(products: dict[str, dict[str, Any]], events: list[dict[str, Any]]) -> None:
    assert len(products) >= 3000
    assert len({p["category"] for p in products.values()}) >= 20
    assert len({e["user_id"] for e in events if e["user_id"]}) >= 1000
    assert 150_000 <= len(events) <= 260_000
    first, last = _time(events[0]["timestamp"]), _time(events[-1]["timestamp"])
    assert last <= END and last - first >= timedelta(days=59)


def test_products_are_valid_rows(products: dict[str, dict[str, Any]]) -> None:
    two_years_ago = END - timedelta(days=731)
    for item_id, p in products.items():
        leaf = LEAF_BY_PATH[p["category"]]
        assert p["item_id"] == item_id and p["title"].strip()
        assert leaf.price[0] <= p["price"] <= leaf.price[1], p
        assert p["currency"] == "CNY" and p["locale"] in ("zh-CN", "en-US")
        assert isinstance(p["available"], bool) and isinstance(p["attributes"], dict)
        assert p["attributes"]["consumable"] is leaf.consumable
        assert two_years_ago <= _time(p["created_at"]) <= END
        assert "://" not in p["image_url"]
        text = p["description"].replace("Dr. ", "Dr ")
        sentences = text.count("。") if p["locale"] == "zh-CN" else text.count(". ") + text.endswith(".")
        assert 1 <= sentences <= 3, text
    n = len(products)
    zh = sum(p["locale"] == "zh-CN" for p in products.values()) / n
    unavailable = sum(not p["available"] for p in products.values()) / n
    new = sum(_time(p["created_at"]) > END - timedelta(days=14) for p in products.values()) / n
    assert 0.55 <= zh <= 0.65 and 0.02 <= unavailable <= 0.08 and 0.02 <= new <= 0.1


def test_listings_speak_their_language(products: dict[str, dict[str, Any]]) -> None:
    """zh listings carry the Chinese brand (often with the English tag in brackets), en the English."""
    bracketed = 0
    by_name = {(b.zh, "zh-CN"): b for b in BRANDS.values()} | {(b.en, "en-US"): b for b in BRANDS.values()}
    for p in products.values():
        brand = by_name[(p["brand"], p["locale"])]
        if p["locale"] == "zh-CN":
            assert any("\u4e00" <= ch <= "\u9fff" for ch in p["title"]), p["title"]
            bracketed += f"{brand.zh}({brand.tag})" in p["title"] and brand.tag != brand.zh
        else:
            assert not any("\u4e00" <= ch <= "\u9fff" for ch in p["title"] + p["description"]), p
            assert p["title"].startswith(brand.en)
    assert bracketed > 500  # "格力(GREE)": both forms of a brand in one title


def _fold(name: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKD", name).casefold() if ch.isalnum())


def test_both_forms_of_every_brand_meet_in_some_title(products: dict[str, dict[str, Any]]) -> None:
    """格力 and Gree are one brand: some zh title brackets a form that folds to the English name."""
    zh_titles = [p["title"] for p in products.values() if p["locale"] == "zh-CN"]
    used = {p["brand"] for p in products.values()}
    for brand in BRANDS.values():
        if brand.zh == brand.en or brand.zh not in used:
            continue
        linked = any(f"{brand.zh}(" in t and _fold(t.split(f"{brand.zh}(", 1)[1].split(")")[0])
                     == _fold(brand.en) for t in zh_titles)
        assert linked, brand


def test_descriptions_answer_yes_no_questions(products: dict[str, dict[str, Any]]) -> None:
    checked = 0
    for p in products.values():
        if "waterproof" in p["attributes"]:
            zh = p["locale"] == "zh-CN"
            says_yes = ("防水设计" if zh else "Waterproof,") in p["description"]
            says_no = ("不防水" if zh else "Not waterproof") in p["description"]
            assert says_yes == p["attributes"]["waterproof"] and says_no != says_yes, p
            checked += 1
    assert checked > 300


def test_events_are_valid_rows(products: dict[str, dict[str, Any]], events: list[dict[str, Any]]) -> None:
    assert {e["event_type"] for e in events} == set(EVENT_TYPES)
    assert len({e["event_id"] for e in events}) == len(events)
    assert [e["timestamp"] for e in events] == sorted(e["timestamp"] for e in events)
    for e in events:
        assert e["platform"] in PLATFORMS and e["session_id"]
        if e["event_type"] == "search":
            assert e["query"] and e["item_id"] is None
            continue
        item = products[e["item_id"]]
        assert item["created_at"] <= e["timestamp"], (item, e)  # same ISO format: text order is time order
        if e["event_type"] in ("cart", "purchase"):
            assert e["value"] == item["price"] and item["available"]
        elif e["event_type"] == "rate":
            assert e["value"] in (1.0, 2.0, 3.0, 4.0, 5.0)


def test_rows_pass_the_real_ingest_validation(products: dict[str, dict[str, Any]],
                                              events: list[dict[str, Any]], tmp_path: Path) -> None:
    from shopsense.ids import Pseudonymizer
    from shopsense.ingest.validate import validate_event, validate_product

    for row in products.values():
        assert validate_product(row).item_id == row["item_id"]
    pseudonyms = Pseudonymizer(b"demo-test-secret-0123456789")
    for row in events[::50]:
        assert validate_event(row, pseudonyms).event_type == row["event_type"]


def test_funnel_rates(events: list[dict[str, Any]]) -> None:
    kinds = Counter(e["event_type"] for e in events)
    assert 0.06 <= kinds["cart"] / (kinds["view"] + kinds["click"]) <= 0.15
    assert 0.3 <= kinds["purchase"] / kinds["cart"] <= 0.55


def test_anonymous_sessions_and_mid_session_logins(events: list[dict[str, Any]]) -> None:
    sessions: dict[str, list[str | None]] = defaultdict(list)
    for e in events:
        sessions[e["session_id"]].append(e["user_id"])
    anonymous = sum(all(u is None for u in users) for users in sessions.values())
    stitched = 0
    for users in sessions.values():
        named = {u for u in users if u is not None}
        assert len(named) <= 1
        if named and users[0] is None:
            assert all(u is not None for u in users[users.index(next(iter(named))):])
            stitched += 1
    assert anonymous / len(sessions) > 0.05 and stitched > 200


def test_purchases_follow_latent_tastes(demo: DemoPaths, products: dict[str, dict[str, Any]],
                                        events: list[dict[str, Any]]) -> None:
    """Against shoppers_truth.jsonl: purchases sit in preferred leaves and favourite brands."""
    truth = {row["user_id"]: row for row in map(json.loads, demo.shoppers.open(encoding="utf-8"))}
    assert len(truth) == 1200
    in_leaf = favourite = total = 0
    for e in events:
        if e["event_type"] == "purchase" and e["user_id"]:
            item, shopper = products[e["item_id"]], truth[e["user_id"]]
            in_leaf += item["category"] in shopper["categories"]
            favourite += any(item["brand"] in aliases for aliases in shopper["favourite_brands"])
            total += 1
    chance = sum(len(s["categories"]) for s in truth.values()) / len(truth) / len(LEAVES)
    assert in_leaf / total > 0.6 > 5 * chance
    assert favourite / total > 0.3  # a shopper's 1-4 favourites among ~150 brands


def test_consumables_are_bought_again_durables_not(products: dict[str, dict[str, Any]],
                                                   events: list[dict[str, Any]]) -> None:
    bought = Counter((e["user_id"], e["item_id"]) for e in events
                     if e["event_type"] == "purchase" and e["user_id"])
    def repeat_share(consumable: bool) -> float:
        pairs = [n for (_, item), n in bought.items()
                 if products[item]["attributes"]["consumable"] is consumable]
        return sum(n > 1 for n in pairs) / len(pairs)
    assert repeat_share(True) > 0.25 and repeat_share(False) < 0.03


def test_complements_are_bought_together(products: dict[str, dict[str, Any]],
                                         events: list[dict[str, Any]]) -> None:
    """Phone buyers go on to buy cases / earphones far more often than other shoppers."""
    categories: dict[str, list[str]] = defaultdict(list)
    for e in events:
        if e["event_type"] == "purchase" and e["user_id"]:
            categories[e["user_id"]].append(products[e["item_id"]]["category"])
    accessory = {"手机数码 > 手机壳", "手机数码 > 耳机"}
    def accessory_after_phone(cats: list[str]) -> bool:
        return "手机数码 > 手机" in cats and bool(accessory & set(cats[cats.index("手机数码 > 手机"):]))
    phone_buyers = [c for c in categories.values() if "手机数码 > 手机" in c]
    others = [c for c in categories.values() if "手机数码 > 手机" not in c]
    with_phone = sum(map(accessory_after_phone, phone_buyers)) / len(phone_buyers)
    without = sum(bool(accessory & set(c)) for c in others) / len(others)
    assert with_phone > 2 * without


def test_personal_recommender_beats_popularity(products: dict[str, dict[str, Any]],
                                               events: list[dict[str, Any]]) -> None:
    """Held-out last new item per shopper: popular-in-your-categories hits far more than popular."""
    history: dict[str, list[str]] = defaultdict(list)
    for e in events:
        if e["user_id"] and e["item_id"] and e["event_type"] in ("view", "click", "cart", "purchase"):
            history[e["user_id"]].append(e["item_id"])
    held = {u: items[-1] for u, items in history.items() if items[-1] not in items[:-1]}
    counts = Counter(i for u, items in history.items() for i in (items[:-1] if u in held else items))
    popular = [i for i, _ in counts.most_common()]
    by_cat: dict[str, list[str]] = defaultdict(list)
    for item in popular:
        by_cat[products[item]["category"]].append(item)
    pop_hits = personal_hits = 0
    for user, target in held.items():
        seen = set(history[user][:-1])
        pop_hits += target in [i for i in popular if i not in seen][:10]
        top_cat = Counter(products[i]["category"] for i in history[user][:-1]).most_common(1)[0][0]
        personal_hits += target in [i for i in by_cat[top_cat] if i not in seen][:10]
    assert len(held) > 300 and personal_hits > 4 * max(pop_hits, 5), (len(held), personal_hits, pop_hits)


def test_demo_queries_are_answerable(demo: DemoPaths, products: dict[str, dict[str, Any]]) -> None:
    queries = [json.loads(line) for line in demo.queries.open(encoding="utf-8")]
    judgments = [json.loads(line) for line in demo.judgments.open(encoding="utf-8")]
    assert len(queries) >= 60 and {"zh", "en", "mixed"} <= {q["lang"] for q in queries}
    assert sum(q["cross_lingual"] for q in queries) >= 20
    best = defaultdict(list)
    for j in judgments:
        assert products[j["item_id"]]["category"].startswith(
            next(q["expected_category"] for q in queries if q["query_id"] == j["query_id"]))
        if j["relevance"] == 2:
            best[j["query_id"]].append(j["item_id"])
    for q in queries:
        assert q["expected_category"] in LEAF_BY_PATH
        assert best[q["query_id"]], f"no product satisfies {q['query']}"
        if q["usd_to_cny"]:
            assert q["usd_to_cny"] == USD_TO_CNY and "$" in q["query"]


def test_attention_moves_with_the_season(products: dict[str, dict[str, Any]],
                                         events: list[dict[str, Any]]) -> None:
    """Down jackets trend up into winter and air conditioners fade: 'trending' has signal."""
    first_day, last_day = _time(events[0]["timestamp"]), _time(events[-1]["timestamp"])
    early_end = (first_day + timedelta(days=14)).strftime("%Y-%m-%dT%H:%M:%SZ")
    late_start = (last_day - timedelta(days=14)).strftime("%Y-%m-%dT%H:%M:%SZ")
    def share(path: str, late: bool) -> float:
        window = [e for e in events if e["item_id"] and
                  (e["timestamp"] >= late_start if late else e["timestamp"] < early_end)]
        return sum(products[e["item_id"]]["category"] == path for e in window) / len(window)
    assert share("服饰 > 羽绒服", late=True) > 1.5 * share("服饰 > 羽绒服", late=False)
    assert share("家电 > 空调", late=True) < 0.8 * share("家电 > 空调", late=False)
