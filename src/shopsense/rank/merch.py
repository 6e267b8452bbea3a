"""The shop's merchandising as an operator edits it: rules that pin, boost, bury or exclude
items by item, brand, category or attribute — everywhere or only for a query, on search, on
recommendations or both, between a scheduled start and end — and redirects of queries to a page.

`Merchandising.active(surface, query, now)` turns what applies into a `Rules` (rank/rules.py)
for `apply_rules`; `redirect_for(query, now)` answers a redirect. `MerchCache` keeps the parsed
set per stored version (store/merch.py), checking the version at most once a second: rules are
cached by version, not by a file's modification time, so every replica sharing the store
switches to a new version within a second of the save.
"""

from __future__ import annotations

import threading
import time
import unicodedata
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from shopsense.rank.rules import Adjust, Pin, Rules

Surface = Literal["search", "recommend"]


def normalise_query(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text or "").lower().split())


class Scheduled(BaseModel):
    start: float | None = Field(None, allow_inf_nan=False,
                                description="Unix seconds; active from then.")
    end: float | None = Field(None, allow_inf_nan=False,
                              description="Unix seconds; inactive from then.")
    query: str = Field("", max_length=200, description="Empty: every query / no query.")
    match: Literal["exact", "contains"] = "contains"

    @model_validator(mode="after")
    def _window(self) -> Scheduled:
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValueError("end must be after start")
        return self

    def live(self, now: float) -> bool:
        return (self.start is None or now >= self.start) and (self.end is None or now < self.end)

    def fits(self, query: str | None) -> bool:
        if not self.query:
            return True
        q, want = normalise_query(query or ""), normalise_query(self.query)
        return bool(q) and (q == want if self.match == "exact" else want in q)


class MerchRule(Scheduled):
    action: Literal["pin", "boost", "bury", "exclude"]
    field: Literal["item", "brand", "category", "attribute"]
    value: str = Field(min_length=1, max_length=500)
    key: str = Field("", max_length=100, description="Attribute name (field 'attribute').")
    position: int = Field(0, ge=0, le=99, description="0-based slot of a pin.")
    factor: float = Field(2.0, gt=0.0, le=100.0, description="Boost (>1) or bury (<1) factor.")
    surfaces: list[Surface] = Field(default_factory=lambda: ["search", "recommend"], min_length=1,
                                    max_length=2)
    note: str = Field("", max_length=500)

    @model_validator(mode="after")
    def _shape(self) -> MerchRule:
        if self.action == "pin" and self.field != "item":
            raise ValueError("a pin names an item (field 'item')")
        if self.field == "attribute" and not self.key:
            raise ValueError("an attribute rule needs its attribute name (key)")
        if self.action == "boost" and self.factor < 1.0:
            raise ValueError("a boost factor is at least 1")
        if self.action == "bury" and self.factor > 1.0:
            raise ValueError("a bury factor is at most 1")
        return self

    def adjust(self) -> Adjust:
        return Adjust(field=self.field, value=self.value, key=self.key, multiply=self.factor)


class Redirect(Scheduled):
    query: str = Field(min_length=1, max_length=200)
    match: Literal["exact", "contains"] = "exact"
    url: str = Field(pattern=r"^/[^\s]*$", max_length=500, description="A page of this shop.")


class Merchandising(BaseModel):
    rules: list[MerchRule] = Field(default_factory=list, max_length=1000)
    redirects: list[Redirect] = Field(default_factory=list, max_length=1000)

    def active(self, surface: Surface, query: str | None, now: float | None = None
               ) -> Rules | None:
        """What applies to this surface and query now, as `Rules` (None when nothing does)."""
        now = time.time() if now is None else now
        live = [r for r in self.rules if surface in r.surfaces and r.live(now) and r.fits(query)]
        if not live:
            return None
        pins: dict[int, Pin] = {}
        out: dict[str, Any] = {"exclude": [], "exclude_brands": [], "exclude_categories": [],
                               "exclude_where": [], "boost": [], "bury": []}
        for rule in live:
            if rule.action == "pin":
                if rule.position not in pins and rule.value not in {p.item_id for p in pins.values()}:
                    pins[rule.position] = Pin(item_id=rule.value, position=rule.position)
            elif rule.action == "exclude":
                target = {"item": "exclude", "brand": "exclude_brands",
                          "category": "exclude_categories"}.get(rule.field)
                if target:
                    out[target].append(rule.value)
                else:
                    out["exclude_where"].append(rule.adjust().model_copy(update={"multiply": 0.0}))
            else:
                out[rule.action].append(rule.adjust())
        return Rules(pins=list(pins.values()), **out)

    def redirect_for(self, query: str | None, now: float | None = None) -> str | None:
        now = time.time() if now is None else now
        for redirect in self.redirects:
            if redirect.live(now) and redirect.fits(query):
                return redirect.url
        return None


class MerchCache:
    """The parsed merchandising of the newest stored version; `version()` is asked at most
    every `check_s` seconds and the body re-read only when it changed."""

    def __init__(self, version: Callable[[], int], load: Callable[[], dict[str, Any] | None],
                 check_s: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._version, self._load, self.check_s, self.clock = version, load, check_s, clock
        self._lock = threading.Lock()
        self._seen = (-1, Merchandising())
        self._checked = float("-inf")

    def current(self) -> tuple[int, Merchandising]:
        now = self.clock()
        if now - self._checked < self.check_s:
            return self._seen
        with self._lock:
            version = self._version()
            if version != self._seen[0]:
                body = self._load() if version else None
                self._seen = (version, Merchandising.model_validate(body or {}))
            self._checked = now
            return self._seen


__all__ = ["MerchCache", "MerchRule", "Merchandising", "Redirect", "normalise_query"]
