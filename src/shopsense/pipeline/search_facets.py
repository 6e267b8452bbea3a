"""Facets as a shopper reads them: entities counted once, names in the shopper's language.

`facet_view(raw, entities, lang, filters)` turns the engine's raw facet counts into the API
shape: every facet item is `{"value": <entity id or raw value>, "label": <in lang>,
"count": n, "selected": bool}`; brands and attribute values with zh / en aliases are merged
into one item; attribute keys get human labels (`attribute_labels`), booleans read as words.
`entity_filters` maps the shopper's brand / attribute selections (entity ids or any alias)
onto every alias, so a selection of "Gree" matches 格力 listings too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shopsense.index.entities import Entities, Entity
from shopsense.rank.filters import Clause


def entity_filters(filters: Sequence[Clause], entities: Entities) -> list[Clause]:
    out = []
    for c in filters:
        if c.kind in ("brand", "not_brand"):
            values = (c.value,) if isinstance(c.value, str) else tuple(c.value)
            c = Clause(c.kind, entities.brand_aliases(values), c.source, c.confidence)
        elif c.kind in ("attribute", "not_attribute"):
            key, values = c.value
            values = (values,) if isinstance(values, str) else tuple(values)
            c = Clause(c.kind, (key, entities.value_aliases(key, values)), c.source,
                       c.confidence)
        out.append(c)
    return out


def _merged(raw: dict[str, int], entity_of: Any, lang: str, chosen: set[str]
            ) -> list[dict[str, Any]]:
    items: dict[str, tuple[Entity, int]] = {}
    for value, count in raw.items():
        entity = entity_of(str(value))
        seen = items.get(entity.id)
        items[entity.id] = (entity, count + (seen[1] if seen else 0))
    out = [{"value": e.id, "label": e.label(lang), "count": n,
            "selected": bool(chosen & {a.lower() for a in e.aliases})}
           for e, n in items.values()]
    return sorted(out, key=lambda x: (-x["count"], str(x["value"])))


def _chosen(filters: Sequence[Clause], kind: str, key: str | None = None) -> set[str]:
    out: set[str] = set()
    for c in filters:
        if c.source != "user" or c.kind != kind:
            continue
        values = c.value if kind == "brand" else c.value[1] if c.value[0] == key else ()
        out |= {str(v).lower() for v in ((values,) if isinstance(values, str) else values)}
    return out


def _plain(raw: dict[str, int], chosen: set[str]) -> list[dict[str, Any]]:
    return [{"value": v, "label": v.rsplit(">", 1)[-1].strip(), "count": n,
             "selected": v.lower() in chosen}
            for v, n in sorted(raw.items(), key=lambda kv: -kv[1])]


def _price_bucket(label: str, count: int) -> dict[str, Any]:
    if label.startswith(">="):
        return {"min": float(label[2:]), "max": None, "count": count}
    if label.startswith("<"):
        return {"min": 0.0, "max": float(label[1:]), "count": count}
    low, _, high = label.partition("-")
    return {"min": float(low), "max": float(high), "count": count}


def facet_view(raw: dict[str, Any], entities: Entities, lang: str,
               filters: Sequence[Clause] = ()) -> dict[str, Any]:
    """The engine's facet counts in the API shape (see the module docstring)."""
    categories = {str(c.value).lower() for c in filters
                  if c.source == "user" and c.kind == "category"}
    out: dict[str, Any] = {name: _plain(raw.get(name, {}), categories)
                           for name in ("category", "top_category")}
    out["brand"] = _merged(raw.get("brand", {}), entities.brand, lang,
                           _chosen(filters, "brand"))
    out["price"] = sorted((_price_bucket(label, n) for label, n in raw.get("price", {}).items()),
                          key=lambda b: b["min"])
    attributes = raw.get("attributes", {})
    out["attributes"] = {
        key: _merged({str(v): n for v, n in values.items()},
                     lambda value, key=key: entities.value(key, value), lang,
                     _chosen(filters, "attribute", key))
        for key, values in attributes.items()}
    out["attribute_labels"] = {key: entities.key_label(key, lang) for key in attributes}
    out["availability"] = raw.get("availability", {})
    return out
