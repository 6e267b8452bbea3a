"""What does each behaviour feature mean, in words a merchant reads (en + zh), and what is its
value before the log1p transform?"""

from __future__ import annotations

import math

FEATURE_TEXT: dict[str, tuple[str, str]] = {
    "recency_days": ("days since the last visit", "距上次访问的天数"),
    "tenure_days": ("days since the first visit", "距首次访问的天数"),
    "days_since_purchase": ("days since the last purchase", "距上次购买的天数"),
    "has_purchased": ("has bought before", "曾经购买过"),
    "views_1d": ("items viewed in the last day", "近1天浏览商品数"),
    "views_7d": ("items viewed in the last 7 days", "近7天浏览商品数"),
    "views_30d": ("items viewed in the last 30 days", "近30天浏览商品数"),
    "carts_1d": ("add-to-carts in the last day", "近1天加购次数"),
    "carts_7d": ("add-to-carts in the last 7 days", "近7天加购次数"),
    "carts_30d": ("add-to-carts in the last 30 days", "近30天加购次数"),
    "purchases_7d": ("purchases in the last 7 days", "近7天购买次数"),
    "purchases_30d": ("purchases in the last 30 days", "近30天购买次数"),
    "purchases_all": ("purchases ever", "累计购买次数"),
    "searches_7d": ("searches in the last 7 days", "近7天搜索次数"),
    "searches_30d": ("searches in the last 30 days", "近30天搜索次数"),
    "dismisses_30d": ("items dismissed in the last 30 days", "近30天不感兴趣次数"),
    "spend_30d": ("money spent in the last 30 days", "近30天消费金额"),
    "spend_all": ("money spent ever", "累计消费金额"),
    "avg_order_value": ("average spend per purchase", "平均每单金额"),
    "cart_abandon_rate_30d": ("share of carted items not bought (30 days)", "近30天加购未购买比例"),
    "open_carts_7d": ("items carted this week and not yet bought", "近7天加购未买的商品数"),
    "days_since_cart": ("days since the last add-to-cart", "距上次加购的天数"),
    "sessions_7d": ("visits in the last 7 days", "近7天访问次数"),
    "sessions_30d": ("visits in the last 30 days", "近30天访问次数"),
    "active_days_30d": ("active days in the last 30 days", "近30天活跃天数"),
    "events_per_session_30d": ("actions per visit (30 days)", "近30天每次访问的行为数"),
    "distinct_items_7d": ("different items looked at this week", "近7天看过的不同商品数"),
    "distinct_categories_30d": ("different departments visited (30 days)", "近30天访问的一级类目数"),
    "share_app_30d": ("share of activity in the app", "App端行为占比"),
    "share_mini_program_30d": ("share of activity in the mini program", "小程序端行为占比"),
    "share_web_30d": ("share of activity on the web", "网页端行为占比"),
    "view_trend": ("browsing this week against the monthly pace", "本周浏览相对月均的变化"),
    "cat_views_7d": ("views in this category (7 days)", "近7天该类目浏览次数"),
    "cat_views_30d": ("views in this category (30 days)", "近30天该类目浏览次数"),
    "cat_carts_30d": ("add-to-carts in this category (30 days)", "近30天该类目加购次数"),
    "cat_purchases_all": ("purchases in this category ever", "该类目累计购买次数"),
    "cat_open_carts_30d": ("items of this category carted and not bought", "该类目加购未买的商品数"),
    "cat_share_30d": ("share of recent activity in this category", "近30天行为中该类目占比"),
    "cat_days_since": ("days since last activity in this category", "距上次浏览该类目的天数"),
    "cat_days_since_purchase": ("days since last purchase in this category", "距上次购买该类目的天数"),
    "cat_popularity_30d": ("how much the shop sells in this category lately", "该类目近期销量占比"),
}
# Related features whose contributions read better summed (they move together).
FEATURE_GROUPS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "recency": ("how recently they visited and bought", "最近访问与购买",
                ("recency_days", "tenure_days", "days_since_purchase", "days_since_cart")),
    "browsing": ("browsing and searching", "浏览与搜索",
                 ("views_1d", "views_7d", "views_30d", "distinct_items_7d", "view_trend",
                  "searches_7d", "searches_30d")),
    "carting": ("add-to-carts", "加购", ("carts_1d", "carts_7d", "carts_30d",
                                         "cart_abandon_rate_30d", "open_carts_7d")),
    "buying": ("past purchases", "历史购买",
               ("has_purchased", "purchases_7d", "purchases_30d", "purchases_all")),
    "spending": ("money spent", "消费金额", ("spend_30d", "spend_all", "avg_order_value")),
    "visits": ("how often they visit", "访问频率",
               ("sessions_7d", "sessions_30d", "active_days_30d", "events_per_session_30d",
                "distinct_categories_30d")),
    "platform": ("where they shop (app, mini program, web)", "购物渠道",
                 ("share_app_30d", "share_mini_program_30d", "share_web_30d")),
    "dismissals": ("items they dismissed", "不感兴趣", ("dismisses_30d",)),
    "category_interest": ("interest in this category", "对该类目的兴趣",
                          ("cat_views_7d", "cat_views_30d", "cat_carts_30d",
                           "cat_open_carts_30d", "cat_share_30d", "cat_days_since")),
    "category_purchases": ("past purchases in this category", "该类目的购买历史",
                           ("cat_purchases_all", "cat_days_since_purchase")),
    "category_trend": ("how the category sells lately", "该类目近期销量", ("cat_popularity_30d",)),
}
_GROUP_OF = {name: group for group, (_, _, names) in FEATURE_GROUPS.items() for name in names}


def group_contributions(contributions: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """Sum feature contributions by `FEATURE_GROUPS`, largest magnitude first."""
    sums: dict[str, float] = {}
    for name, value in contributions:
        group = _GROUP_OF.get(name, name)
        sums[group] = sums.get(group, 0.0) + value
    return sorted(sums.items(), key=lambda kv: -abs(kv[1]))


# Features stored as log1p(x); the rest (shares, rates, flags, trend, popularity) are raw.
_RAW = frozenset({"has_purchased", "cart_abandon_rate_30d", "share_app_30d",
                  "share_mini_program_30d", "share_web_30d", "view_trend", "cat_share_30d",
                  "cat_popularity_30d"})


def describe(name: str) -> tuple[str, str]:
    """(English, Chinese) description of a feature; the name itself when unknown."""
    return FEATURE_TEXT.get(name, (name, name))


def readable_value(name: str, value: float) -> float:
    """The feature's value in its own unit (counts, days, money) rather than log1p."""
    if name == "cat_popularity_30d":
        return math.exp(value)
    return value if name in _RAW else math.expm1(value)
