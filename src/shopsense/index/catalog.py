"""The catalogue as columns, row-aligned with the keyword index, for fast filters and facets.

Rows are appended in the same order as `KeywordIndex` rows; category and brand are
dictionary-encoded so a filter or a facet count over a million rows is a numpy operation.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np

from shopsense.domain import Product


def product_fields(p: Product) -> dict[str, str]:
    """The text fields the keyword index weighs."""
    attrs = " ".join(f"{k} {v}" for k, v in p.attributes.items()
                     if isinstance(v, (str, int, float)) and not isinstance(v, bool))
    return {"title": p.title, "brand": p.brand, "category": p.category.replace(">", " "),
            "description": p.description, "attributes": attrs}


def product_text(p: Product) -> str:
    """The text the encoder embeds: title, plus brand and leaf category when not in it."""
    parts = [p.title]
    if p.brand and p.brand.lower() not in p.title.lower():
        parts.append(p.brand)
    leaf = p.category_path[-1] if p.category_path else ""
    if leaf and leaf.lower() not in p.title.lower():
        parts.append(leaf)
    return " ".join(parts)


class ProductTable:
    """Products plus columnar category / brand / price / availability / age / popularity."""

    def __init__(self) -> None:
        self.products_: list[Product] = []
        self.row_of_: dict[str, int] = {}
        self.categories_: list[str] = []
        self.brands_: list[str] = []
        self._cat_id: dict[str, int] = {}
        self._brand_id: dict[str, int] = {}
        self.top_categories_: list[str] = []  # first level of the category paths
        self.top_of_category_ = np.zeros(0, dtype=np.int32)  # category code -> top-level code
        self._top_id: dict[str, int] = {}
        self.category_ = np.zeros(0, dtype=np.int32)
        self.brand_ = np.zeros(0, dtype=np.int32)
        self.price_ = np.zeros(0, dtype=np.float64)  # nan when unknown
        self.available_ = np.zeros(0, dtype=bool)
        self.created_ = np.zeros(0, dtype=np.float64)  # nan when unknown
        self.popularity_ = np.zeros(0, dtype=np.float32)
        self.alive_ = np.zeros(0, dtype=bool)
        self.has_attributes_ = False
        self._bands: dict[tuple[float, ...], np.ndarray] = {}  # price edges -> band per row
        self._attributes: dict[str, tuple[np.ndarray, dict[str, int]]] = {}  # attribute_codes
        self._currency: tuple[tuple[int, int], str] | None = None  # (size key, currency)

    def __len__(self) -> int:
        return len(self.row_of_)

    def _code(self, value: str, table: list[str], ids: dict[str, int]) -> int:
        code = ids.get(value)
        if code is None:
            code = ids[value] = len(table)
            table.append(value)
        return code

    def add(self, products: Sequence[Product]) -> None:
        """Append rows (replacing earlier rows of the same item_id)."""
        self.remove(p.item_id for p in products)
        self.add_rows(products)

    def add_rows(self, products: Sequence[Product]) -> None:
        start = len(self.products_)
        self.has_attributes_ = self.has_attributes_ or any(p.attributes for p in products)
        for offset, p in enumerate(products):
            self.products_.append(p)
            self.row_of_[p.item_id] = start + offset
        def col(values: Iterable[float], dtype: type) -> np.ndarray:
            return np.fromiter(values, dtype=dtype, count=len(products))
        self.category_ = np.concatenate([self.category_, col(
            (self._code(p.category, self.categories_, self._cat_id) for p in products), np.int32)])
        new = self.categories_[len(self.top_of_category_):]
        self.top_of_category_ = np.concatenate([self.top_of_category_, np.fromiter(
            (self._code(c.split(">")[0].strip(), self.top_categories_, self._top_id)
             for c in new), dtype=np.int32, count=len(new))])
        self.brand_ = np.concatenate([self.brand_, col(
            (self._code(p.brand, self.brands_, self._brand_id) for p in products), np.int32)])
        self.price_ = np.concatenate([self.price_, col(
            (np.nan if p.price is None else float(p.price) for p in products), np.float64)])
        self.available_ = np.concatenate([self.available_, col(
            (bool(p.available) for p in products), bool)])
        self.created_ = np.concatenate([self.created_, col(
            (np.nan if p.created_at is None else float(p.created_at) for p in products),
            np.float64)])
        self.popularity_ = np.concatenate([self.popularity_,
                                           np.zeros(len(products), np.float32)])
        self.alive_ = np.concatenate([self.alive_, np.ones(len(products), dtype=bool)])

    def remove(self, item_ids: Iterable[str]) -> int:
        return tombstone(self.row_of_, self.alive_, item_ids)

    def price_bands(self, edges: tuple[float, ...]) -> np.ndarray:
        """(rows,) int8: the band of each row's price between ascending `edges` (band i holds
        edges[i-1] <= price < edges[i]); len(edges) + 1 when the price is unknown. Computed
        once per row (rows never change price: an edit appends a new row)."""
        bands = self._bands.get(edges, np.zeros(0, dtype=np.int8))
        if len(bands) < len(self.price_):
            tail = self.price_[len(bands):]
            new = np.searchsorted(np.asarray(edges), tail, side="right").astype(np.int8)
            new[np.isnan(tail)] = len(edges) + 1
            bands = self._bands[edges] = np.concatenate([bands, new])
        return bands

    def attribute_codes(self, key: str) -> tuple[np.ndarray, list[str]]:
        """(rows,) int32: each row's code of `str(attributes[key])` among the returned values
        (-1: the row has no `key`). Computed once per row, like `price_bands`."""
        codes, index = self._attributes.get(key, (np.zeros(0, dtype=np.int32), {}))
        if len(codes) < len(self.products_):
            new = np.fromiter((index.setdefault(str(p.attributes[key]), len(index))
                               if key in p.attributes else -1
                               for p in self.products_[len(codes):]), dtype=np.int32)
            codes = np.concatenate([codes, new])
            self._attributes[key] = (codes, index)
        return codes, list(index)

    def set_popularity(self, counts: dict[str, float]) -> None:
        """Item popularity (e.g. weighted event counts); stored as log1p."""
        self.popularity_[:] = 0.0
        for item_id, count in counts.items():
            row = self.row_of_.get(item_id)
            if row is not None:
                self.popularity_[row] = np.log1p(max(count, 0.0))

    def currency_of_shop(self) -> str:
        """The currency most live products are priced in (CNY for an empty table); read on
        every search, so kept until a product is added or removed (rows are never edited in
        place: an upsert appends a row and tombstones the old one)."""
        from collections import Counter

        key = (len(self.products_), len(self.row_of_))
        if self._currency is None or self._currency[0] != key:
            live = [p.currency for p, ok in zip(self.products_[-2000:], self.alive_[-2000:],
                                                strict=True) if ok and p.currency]
            self._currency = (key, Counter(live).most_common(1)[0][0].upper()
                              if live else "CNY")
        return self._currency[1]

    def product(self, row: int) -> Product:
        return self.products_[row]

    def get(self, item_id: str) -> Product | None:
        row = self.row_of_.get(item_id)
        return None if row is None else self.products_[row]

    def save(self, directory: Path) -> None:
        """products.jsonl (every row, in row order, so rows stay aligned with the keyword
        index) + alive.npy + popularity.npy."""
        directory.mkdir(parents=True, exist_ok=True)
        with (directory / "products.jsonl").open("w", encoding="utf-8") as fh:
            for product in self.products_:
                fh.write(json.dumps(asdict(product), ensure_ascii=False) + "\n")
        np.save(directory / "catalog_alive.npy", self.alive_)
        np.save(directory / "popularity.npy", self.popularity_)

    @classmethod
    def load(cls, directory: Path) -> ProductTable:
        table = cls()
        with (directory / "products.jsonl").open(encoding="utf-8") as fh:
            products = [Product(**json.loads(line)) for line in fh if line.strip()]
        table.add_rows(products)
        alive = np.load(directory / "catalog_alive.npy")
        table.alive_ = alive
        table.row_of_ = {p.item_id: r for r, p in enumerate(products) if alive[r]}
        table.popularity_ = np.load(directory / "popularity.npy").astype(np.float32)
        return table


def tombstone(row_of: dict[str, int], alive: np.ndarray, item_ids: Iterable[str]) -> int:
    """Forget the rows of `item_ids` (no rebuild: the row stays, marked dead); returns how many."""
    removed = 0
    for item_id in item_ids:
        row = row_of.pop(item_id, None)
        if row is not None:
            alive[row] = False
            removed += 1
    return removed
