"""The shop's stored merchandising (store/merch.py, edited in the dashboard) on the answers:
rules without a query join the standing rules of every recommendation surface; a search page
gets the rules for its query (pins on page 1) and the query's redirect; the query's reading
loses what it read inside a phrase that has synonyms (`unread_synonyms`).

`shop_merch(shop)` is the shop's `MerchCache` (parsed once per stored version, the version
checked at most once a second), so every replica sharing the store serves a new version within
a second of its save.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any

from shopsense.domain import Candidate, QueryReading, Result
from shopsense.memo import Versioned
from shopsense.pipeline.shop import Shop
from shopsense.rank.merch import Merchandising, MerchCache
from shopsense.rank.rules import Rules, apply_rules, load_shop_rules, shop_rules_version
from shopsense.store.merch import StoreMerchRepository
from shopsense.text.synonyms import SynonymSet

_CACHES: dict[int, tuple[Any, MerchCache]] = {}
_MERGED: dict[int, tuple[tuple[int, int], Rules]] = {}
_LOCK = threading.Lock()


def merch_repository(shop: Shop) -> StoreMerchRepository:
    return _cache(shop)[0]


def _cache(shop: Shop) -> tuple[StoreMerchRepository, MerchCache]:
    key = id(shop.store)
    found = _CACHES.get(key)
    if found is None or found[0].store is not shop.store:
        with _LOCK:
            repo = StoreMerchRepository(shop.store)

            def load() -> dict[str, Any] | None:
                latest = repo.latest()
                return latest.body if latest else None

            found = _CACHES[key] = (repo, MerchCache(repo.version, load))
    return found


def shop_merch(shop: Shop) -> tuple[int, Merchandising]:
    """(version, merchandising) now in force (version 0: nothing saved yet)."""
    return _cache(shop)[1].current()


def with_merch(shop: Shop, standing: Rules) -> Rules:
    """The standing rules plus the stored rules that apply to recommendations everywhere; the
    same object while neither changes (callers key caches on it)."""
    version, merch = shop_merch(shop)
    stamp = (id(standing), version)
    cached = _MERGED.get(id(shop.store))
    if cached is None or cached[0] != stamp:
        active = merch.active("recommend", None)
        cached = _MERGED[id(shop.store)] = (stamp, standing.merged(active) if active else standing)
    return cached[1]


def merchandise_page(shop: Shop, query: str, page: int, results: list[Result],
                     merch: Merchandising | None = None) -> tuple[list[Result], str | None]:
    """A search page with the query's rules applied (pins only on page 1) and its redirect."""
    if merch is None:
        merch = shop_merch(shop)[1]
    redirect = merch.redirect_for(query)
    rules = merch.active("search", query)
    if rules is None or (not results and not rules.pins):
        return results, redirect
    if page > 1:
        rules = rules.model_copy(update={"pins": []})
    rules = rules.model_copy(update={"available_only": False})
    cands = [Candidate(r.item_id, r.score, dict(r.signals), dict(r.evidence)) for r in results]
    ranked = apply_rules(cands, rules, shop.products)[: max(len(results), len(rules.pins))]
    return [Result(c.item_id, c.score, shop.products.get(c.item_id), c.signals,
                   evidence=c.evidence) for c in ranked], redirect


def unread_synonyms(reading: QueryReading, synonyms: SynonymSet) -> QueryReading:
    """`reading` without the category and product types read inside a phrase that has
    synonyms: the phrase's slot decides what it finds (手提电脑 -> 笔记本 is not the tablet
    category the understanding reads into 电脑; 平板 -> 笔记本 must not filter to tablets)."""
    spans = synonyms.spans(reading.query) if synonyms else []
    if not spans:
        return reading

    def inside(slot: Any) -> bool:
        at = getattr(slot, "span", None)
        return at is not None and any(a < at[1] and at[0] < b for a, b in spans)

    changes: dict[str, Any] = {}
    if reading.category is not None and inside(reading.category):
        changes["category"] = None
    kept = tuple(t for t in reading.product_terms if not inside(t))
    if len(kept) != len(reading.product_terms):
        changes["product_terms"] = kept
    return replace(reading, **changes) if changes else reading


__all__ = ["merch_repository", "merchandise_page", "shop_merch", "unread_synonyms", "with_merch"]


_RULES_CACHE: dict[str, Versioned[Rules]] = {}  # per home


def shop_rules(shop: Shop) -> Rules:
    """The shop's standing rules: <home>/rules.json plus the stored merchandising's rules
    that apply to recommendations everywhere (pipeline/merch.py)."""
    return with_merch(shop, file_rules(shop))


def file_rules(shop: Shop) -> Rules:
    """The shop's rules file (<home>/rules.json, `shopsense rules set`), re-read when its
    version changes; the version is checked at most once a second, not per request."""
    home = shop.settings.home
    cached = _RULES_CACHE.get(str(home))
    if cached is None:
        cached = _RULES_CACHE.setdefault(str(home), Versioned(
            lambda: shop_rules_version(home), lambda: load_shop_rules(home)))
    return cached.current()
