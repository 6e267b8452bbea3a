"""Product constraints an index may evaluate itself ("push down") instead of leaving them to
the in-process filter stage: category path, brands, price range, availability.

`store.pg_filter.filter_sql` renders them over the alias `p` of the `products` table
(PostgreSQL's store schema); pgvector and PostgreSQL full-text search join it so a narrow filter still yields
`k` candidates. In-process indexes hold no product attributes and ignore a filter: the search
pipeline filters every candidate afterwards in either case, so pushing down only changes how
many passing candidates reach that stage, never which products may be shown.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProductFilter:
    """Product constraints evaluated inside the index's engine (None = no constraint)."""

    category_prefix: str | None = None  # "家电 > 空调" matches itself and its sub-categories
    brands: tuple[str, ...] | None = None  # compared case-insensitively
    price_min: float | None = None
    price_max: float | None = None
    available_only: bool = False

    def is_empty(self) -> bool:
        return (not self.category_prefix and self.brands is None and self.price_min is None
                and self.price_max is None and not self.available_only)


__all__ = ["ProductFilter"]
