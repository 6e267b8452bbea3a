"""A synthetic shop whose answer is known: shoppers on a "mission" view and cart a lot in one
category and then buy there within days; idle shoppers browse a little and rarely buy.
Snacks are consumables (bought again every ~10 days); appliances are durables."""

from __future__ import annotations

import numpy as np

from shopsense.domain import Event, Product

DAY = 86_400.0
T0 = 1_700_000_000.0
CATEGORIES = {
    "家电 > 空调": ("格力", "美的", 2999.0),
    "家电 > 冰箱": ("海尔", "西门子", 3999.0),
    "美妆 > 面霜": ("欧莱雅", "兰蔻", 299.0),
    "食品 > 零食": ("三只松鼠", "良品铺子", 29.0),
}


def synthetic_products(per_category: int = 8) -> dict[str, Product]:
    products = {}
    for c, (category, (brand_a, brand_b, price)) in enumerate(CATEGORIES.items()):
        for i in range(per_category):
            item_id = f"p{c}_{i}"
            products[item_id] = Product(
                item_id=item_id, title=f"{category.split(' > ')[1]} {i}", category=category,
                brand=brand_a if i % 2 == 0 else brand_b, price=price * (1 + 0.1 * i),
                attributes={"consumable": True} if category.startswith("食品") else {})
    return products


def synthetic_events(n_users: int = 400, days: int = 70, seed: int = 0) -> list[Event]:
    rng = np.random.default_rng(seed)
    products = synthetic_products()
    by_category: dict[str, list[str]] = {}
    for p in products.values():
        by_category.setdefault(p.category, []).append(p.item_id)
    categories = list(by_category)
    events: list[Event] = []

    def add(kind: str, user: str, day: float, item: str | None, session: str) -> None:
        ts = T0 + day * DAY + float(rng.uniform(0, 3600))
        events.append(Event(event_id=f"e{len(events)}", event_type=kind, timestamp=ts,
                            user_id=user, session_id=session, item_id=item,
                            platform=str(rng.choice(["web", "app", "mini_program"]))))

    for u in range(n_users):
        user = f"user{u}"
        favourite = categories[u % len(categories)]
        mission_until, mission_cat = -1, favourite
        for day in range(days):
            session = f"{user}-d{day}"
            if day > mission_until and rng.random() < 0.04:
                mission_until = day + int(rng.integers(2, 6))
                mission_cat = favourite if rng.random() < 0.7 else str(rng.choice(categories))
            if day <= mission_until:
                items = by_category[mission_cat]
                for item in rng.choice(items, size=int(rng.integers(2, 6))):
                    add("view", user, day, str(item), session)
                if rng.random() < 0.5:
                    target = str(rng.choice(items))
                    add("cart", user, day + 0.01, target, session)
                    if rng.random() < 0.45:
                        add("purchase", user, day + float(rng.uniform(0.5, 3.0)), target, session)
                        mission_until = day
            elif rng.random() < 0.15:
                add("view", user, day, str(rng.choice(by_category[favourite])), session)
                if rng.random() < 0.03:
                    add("purchase", user, day + 0.02, str(rng.choice(by_category[favourite])),
                        session)
            if favourite.startswith("食品") and day % 10 == u % 10:
                add("purchase", user, day + 0.5, by_category[favourite][0], session)
    events.sort(key=lambda e: e.timestamp)
    return events
