"""Which products a search may show, in what order, a page at a time, and what the facets say.

A filter is a list of `Clause`s (category, brand, price, attribute, availability, exclusions),
each tagged with where it came from: the shopper ("user") or query understanding ("reading").
Clauses from a reading with confidence >= 0.5 are hard; when they would empty the result they
are dropped, weakest first, and the drop is reported. Weaker reading slots become soft boosts.
Facets (category / brand / price buckets / attributes / availability) count the whole filtered
match set; sorting is by relevance, price, popularity or newest.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from shopsense.domain import QueryReading
from shopsense.index.catalog import ProductTable
from shopsense.index.filter import ProductFilter

SORTS: tuple[str, ...] = ("relevance", "price_asc", "price_desc", "popularity", "newest")
HARD_CONFIDENCE = 0.5
PRICE_EDGES: tuple[float, ...] = (10, 25, 50, 100, 250, 500, 1000, 2500, 5000)


def category_matches(item_category: str, path: str) -> bool:
    """True when the item's category equals `path` or lies below it."""
    return item_category == path or item_category.startswith(path + " > ")


def price_matches(price: float | None, low: float | None, high: float | None) -> bool:
    if price is None or (isinstance(price, float) and np.isnan(price)):
        return low is None and high is None
    return (low is None or price >= low) and (high is None or price <= high)


@dataclass(frozen=True)
class Clause:
    """One constraint. kind: category | brand | price | attribute | available |
    not_brand | not_category | not_attribute | not_term."""

    kind: str
    value: Any
    source: str = "user"
    confidence: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        value = self.value
        if isinstance(value, tuple):
            value = [list(v) if isinstance(v, tuple) else v for v in value]
        return {"kind": self.kind, "value": value, "source": self.source,
                "confidence": round(self.confidence, 4)}


def _lower_set(values: Sequence[Any]) -> set[str]:
    return {str(v).lower() for v in values}


def clause_mask(clause: Clause, table: ProductTable, rows: np.ndarray) -> np.ndarray:
    """Boolean mask over `rows` of products satisfying `clause`."""
    kind, value = clause.kind, clause.value
    if kind in ("category", "not_category"):
        paths = (value,) if isinstance(value, str) else tuple(value)
        ok = _codes_where(table.categories_, lambda c: any(category_matches(c, p)
                                                            for p in paths))
        mask = ok[table.category_[rows]]
    elif kind in ("brand", "not_brand"):
        names = _lower_set((value,) if isinstance(value, str) else value)
        mask = _codes_where(table.brands_, lambda b: b.lower() in names)[table.brand_[rows]]
    elif kind == "price":
        low, high = value
        price = table.price_[rows]
        mask = ~np.isnan(price)
        if low is not None:
            mask &= price >= low
        if high is not None:
            mask &= price <= high
    elif kind == "available":
        mask = table.available_[rows] == bool(value)
    elif kind in ("attribute", "not_attribute"):
        key, values = value
        wanted = _lower_set(values)
        codes, names = table.attribute_codes(key)
        # the last entry answers code -1, a product without the attribute (read as "\0")
        ok = np.append(_codes_where(names, lambda v: v.lower() in wanted), "\0" in wanted)
        mask = ok[codes[rows]]
    elif kind == "not_term":
        term = str(value).lower()
        mask = np.fromiter((term in table.products_[r].title.lower() for r in rows.tolist()),
                           dtype=bool, count=len(rows))
    else:
        raise ValueError(f"unknown clause kind {kind!r}")
    return ~mask if kind.startswith("not_") else mask


def category_rows(table: ProductTable, path: str) -> np.ndarray:
    """Ascending rows (live or not) whose category is `path` or lies below it."""
    ok = _codes_where(table.categories_, lambda c: category_matches(c, path))
    return np.flatnonzero(ok[table.category_]).astype(np.int64)


def _codes_where(names: Sequence[str], keep: Callable[[str], bool]) -> np.ndarray:
    """(len(names),) bool: which codes of a coded column (`names[code]`) to keep, a look-up
    table the column's codes index (one gather, where np.isin sorted them)."""
    return np.fromiter((keep(n) for n in names), dtype=bool, count=len(names))


def apply_clauses(clauses: Sequence[Clause], table: ProductTable, rows: np.ndarray
                  ) -> np.ndarray:
    mask = np.ones(len(rows), dtype=bool)
    for clause in clauses:
        mask &= clause_mask(clause, table, rows)
    return rows[mask]


def filter_with_relaxation(clauses: Sequence[Clause], table: ProductTable, rows: np.ndarray
                           ) -> tuple[np.ndarray, list[Clause], list[dict[str, Any]]]:
    """Apply clauses; while the result is empty, drop the weakest reading clause (a category
    only when nothing else is left to drop).

    Returns (kept rows, clauses applied, relaxed: [{clause, reason}])."""
    active = list(clauses)
    relaxed: list[dict[str, Any]] = []
    kept = apply_clauses(active, table, rows)
    while kept.size == 0 and rows.size > 0:
        droppable = [c for c in active if c.source == "reading"]
        if not droppable:
            break
        # the product type asked for goes last: "laptops under $100" relaxes the price
        weakest = min(droppable, key=lambda c: (c.kind == "category", c.confidence))
        active.remove(weakest)
        relaxed.append({**weakest.to_dict(), "reason": "no product matched with this filter"})
        kept = apply_clauses(active, table, rows)
    return kept, active, relaxed


def pushdown_filter(clauses: Sequence[Clause]) -> ProductFilter | None:
    """The part of the shopper's clauses an index can evaluate in its own engine: one category
    path, brands, a price range, availability. Reading clauses stay out (they may be relaxed
    later), as do attributes and exclusions; every clause is still applied in process."""
    fields: dict[str, Any] = {}
    for clause in clauses:
        if clause.source != "user":
            continue
        if clause.kind == "category" and isinstance(clause.value, str) \
                and "category_prefix" not in fields:
            fields["category_prefix"] = clause.value
        elif clause.kind == "brand" and "brands" not in fields:
            value = clause.value
            fields["brands"] = (value,) if isinstance(value, str) else tuple(map(str, value))
        elif clause.kind == "price" and "price_min" not in fields:
            fields["price_min"], fields["price_max"] = clause.value
        elif clause.kind == "available" and clause.value is True:
            fields["available_only"] = True
    return ProductFilter(**fields) if fields else None


def clauses_from_reading(reading: QueryReading | None) -> tuple[list[Clause], list[Clause]]:
    """(hard clauses, soft boosts) from a query reading, per the QueryReading contract."""
    if reading is None:
        return [], []
    found: list[Clause] = []
    if reading.category is not None:
        found.append(Clause("category", reading.category.value, "reading",
                            reading.category.confidence))
    found.extend(Clause("brand", tuple(s.value), "reading", s.confidence) for s in reading.brands)
    if reading.price_min is not None or reading.price_max is not None:
        low = reading.price_min.value if reading.price_min else None
        high = reading.price_max.value if reading.price_max else None
        conf = min(s.confidence for s in (reading.price_min, reading.price_max) if s)
        found.append(Clause("price", (low, high), "reading", conf))
    for s in reading.attributes:
        key, values = s.value
        found.append(Clause("attribute", (key, tuple(values) if isinstance(values, (tuple, list))
                                          else (values,)), "reading", s.confidence))
    for s in reading.exclusions:
        kind, payload = s.value
        found.append(Clause(f"not_{kind}", payload if kind != "brand" else tuple(payload),
                            "reading", s.confidence))
    hard = [c for c in found if c.confidence >= HARD_CONFIDENCE]
    soft = [c for c in found if c.confidence < HARD_CONFIDENCE and not c.kind.startswith("not_")]
    return hard, soft


def user_clauses(*, category: str | None = None, brand: Sequence[str] | str | None = None,
                 price_min: float | None = None, price_max: float | None = None,
                 attributes: dict[str, Sequence[Any]] | None = None,
                 available_only: bool = False) -> list[Clause]:
    """Clauses for explicit shopper filters (never relaxed)."""
    out: list[Clause] = []
    if category:
        out.append(Clause("category", category))
    if brand:
        out.append(Clause("brand", (brand,) if isinstance(brand, str) else tuple(brand)))
    if price_min is not None or price_max is not None:
        out.append(Clause("price", (price_min, price_max)))
    for key, values in (attributes or {}).items():
        out.append(Clause("attribute", (key, tuple(values))))
    if available_only:
        out.append(Clause("available", True))
    return out


def brand_counts(table: ProductTable, rows: np.ndarray, top: int = 20) -> dict[str, int]:
    """The `top` largest brand counts over `rows`."""
    counts = np.bincount(table.brand_[rows], minlength=len(table.brands_))
    order = np.argsort(-counts, kind="stable")[:top + 1]
    kept = {table.brands_[i]: int(counts[i]) for i in order if counts[i] > 0 and table.brands_[i]}
    return dict(list(kept.items())[:top])


def attribute_counts(table: ProductTable, rows: np.ndarray, key: str, top: int = 20,
                     cap: int = 5000) -> dict[str, int]:
    """Counts of attribute `key`'s scalar values over the first `cap` of `rows`."""
    found: Counter[str] = Counter()
    for r in rows[:cap].tolist():
        value = table.products_[r].attributes.get(key)
        if isinstance(value, (str, int, float, bool)):
            found[str(value)] += 1
    return dict(found.most_common(top))


def facets_following(table: ProductTable, match_rows: np.ndarray, applied: Sequence[Clause],
                     kept: np.ndarray) -> dict[str, Any]:
    """Facets of `kept`, except that a field the shopper selected in is counted without the
    shopper's own selection in that field (multi-select: OR within a field, AND across), so
    its other values keep their counts."""
    out = facets(table, kept)
    mine = [c for c in applied if c.source == "user" and c.kind in ("brand", "attribute")]
    if any(c.kind == "brand" for c in mine):
        others = [c for c in applied if not (c.source == "user" and c.kind == "brand")]
        out["brand"] = brand_counts(table, apply_clauses(others, table, match_rows))
    for key in dict.fromkeys(c.value[0] for c in mine if c.kind == "attribute"):
        others = [c for c in applied if not (c.source == "user" and c.kind == "attribute"
                                             and c.value[0] == key)]
        out.setdefault("attributes", {})[key] = attribute_counts(
            table, apply_clauses(others, table, match_rows), key)
    return out


def _attribute_facets(table: ProductTable, rows: np.ndarray, top: int, cap: int
                      ) -> dict[str, dict[str, int]]:
    attrs: defaultdict[str, Counter[str]] = defaultdict(Counter)  # no Counter per value
    for r in rows[:cap].tolist():
        for key, value in table.products_[r].attributes.items():
            if isinstance(value, (str, int, float, bool)):
                attrs[key][str(value)] += 1
    return {k: dict(v.most_common(top)) for k, v in
            sorted(attrs.items(), key=lambda kv: -sum(kv[1].values()))[:top]}


def facets(table: ProductTable, rows: np.ndarray, top: int = 20, attribute_cap: int = 5000
           ) -> dict[str, Any]:
    """Counts over `rows`: category (full path and top level), brand, price bucket,
    availability, and attributes (scalar values; counted over the first `attribute_cap` rows)."""
    cat_counts = np.bincount(table.category_[rows], minlength=len(table.categories_))
    brand_counts = np.bincount(table.brand_[rows], minlength=len(table.brands_))
    def named(counts: np.ndarray, names: list[str]) -> dict[str, int]:
        """The `top` largest non-zero counts of named values, ties in code order."""
        order = np.argsort(-counts, kind="stable")[:top + 1]
        kept = {names[i]: int(counts[i]) for i in order if counts[i] > 0 and names[i]}
        return dict(list(kept.items())[:top])
    top_counts = np.bincount(table.top_of_category_, weights=cat_counts,
                             minlength=len(table.top_categories_)).astype(np.int64)
    edges = PRICE_EDGES
    labels = [f"<{int(edges[0])}"] + [f"{int(a)}-{int(b)}" for a, b in itertools.pairwise(edges)]
    labels.append(f">={int(edges[-1])}")
    buckets = np.bincount(table.price_bands(edges)[rows], minlength=len(labels) + 1)
    available = int(table.available_[rows].sum())
    return {"category": named(cat_counts, table.categories_),
            "top_category": named(top_counts, table.top_categories_),
            "brand": named(brand_counts, table.brands_),
            "price": {label: int(n) for label, n in zip(labels, buckets[:len(labels)], strict=True)
                      if n},
            "attributes": _attribute_facets(table, rows, top, attribute_cap)
            if table.has_attributes_ else {},
            "availability": {"in_stock": available, "out_of_stock": len(rows) - available}}


def sort_rows(rows: np.ndarray, scores: np.ndarray, table: ProductTable, sort: str
              ) -> tuple[np.ndarray, np.ndarray]:
    """Order rows (and their scores) by `sort`; ties broken by relevance."""
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}; known: {SORTS}")
    if sort == "relevance":
        order = np.argsort(-scores, kind="stable")
    elif sort in ("price_asc", "price_desc"):
        price = table.price_[rows]
        key = np.where(np.isnan(price), np.inf, price if sort == "price_asc" else -price)
        order = np.lexsort((-scores, key))
    elif sort == "popularity":
        order = np.lexsort((-scores, -table.popularity_[rows]))
    else:
        created = np.nan_to_num(table.created_[rows], nan=-np.inf)
        order = np.lexsort((-scores, -created))
    return rows[order], scores[order]


def paginate(n: int, page: int, page_size: int) -> slice:
    if page < 1 or page_size < 1:
        raise ValueError("page and page_size must be >= 1")
    start = (page - 1) * page_size
    return slice(min(start, n), min(start + page_size, n))
