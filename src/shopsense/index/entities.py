"""One brand, one value: brand and attribute values as entities with a zh and an en name.

The catalogue writes one brand two ways (格力 in Chinese listings, Gree in English ones); query
understanding learns that they are aliases (`QueryUnderstander.brands_`, `.attributes_`).
`Entities` turns those groups, plus an operator override file, into entities: an id (the
English name when there is one), a zh and an en name, and every raw catalogue value it covers.
Facets count entities and show the name in the shopper's language; a filter on an entity id
(or any alias) matches every alias.

Override file (<home>/entities.json), all parts optional:
    {"brands": [{"zh": "一加", "en": "OnePlus", "aliases": ["ONEPLUS"]}],
     "attribute_labels": {"energy_class": {"zh": "能效等级", "en": "Energy class"}}}
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_HAN = re.compile(r"[\u4e00-\u9fff]")

ATTRIBUTE_LABELS: dict[str, tuple[str, str]] = {
    "colour": ("颜色", "Colour"), "color": ("颜色", "Colour"), "size": ("尺码", "Size"),
    "capacity": ("容量", "Capacity"), "storage": ("存储", "Storage"), "memory": ("内存", "Memory"),
    "screen_size": ("屏幕尺寸", "Screen size"), "energy_class": ("能效等级", "Energy class"),
    "power": ("匹数", "Power"), "type": ("类型", "Type"), "material": ("材质", "Material"),
    "weight": ("净含量", "Weight"), "volume": ("容量", "Volume"), "flavour": ("口味", "Flavour"),
    "gender": ("适用人群", "Gender"), "age_group": ("适用年龄", "Age group"),
    "waterproof": ("防水", "Waterproof"), "noise_cancelling": ("主动降噪", "Noise cancelling"),
    "resolution": ("分辨率", "Resolution"), "refresh_rate": ("刷新率", "Refresh rate"),
    "network": ("网络", "Network"), "connection": ("连接方式", "Connection"),
    "doors": ("门款式", "Doors"), "fill": ("填充物", "Fill"), "finish": ("质地", "Finish"),
    "fits": ("适用机型", "Fits"), "hair_type": ("适用发质", "Hair type"),
    "skin_type": ("适用肤质", "Skin type"), "origin": ("产地", "Origin"),
    "persons": ("适用人数", "Persons"), "pieces": ("颗粒数", "Pieces"), "stage": ("段数", "Stage"),
    "temperature": ("适用温度", "Temperature"), "thickness": ("厚度", "Thickness"),
    "bed_size": ("床尺寸", "Bed size"), "consumable": ("消耗品", "Consumable"),
    "model": ("型号", "Model"),
}
BOOLEAN_LABELS = {"true": ("是", "Yes"), "false": ("否", "No")}


@dataclass(frozen=True)
class Entity:
    id: str
    zh: str
    en: str
    aliases: tuple[str, ...]

    def label(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


def _entity(names: Sequence[str]) -> Entity:
    names = tuple(dict.fromkeys(str(n) for n in names if str(n).strip()))
    han = [n for n in names if _HAN.search(n)]
    latin = [n for n in names if not _HAN.search(n)]
    en = latin[0] if latin else names[0]
    zh = han[0] if han else en
    return Entity(en, zh, en, names)


class Entities:
    """Raw brand / attribute values -> entities (learned groups + operator overrides)."""

    def __init__(self) -> None:
        self.brands_: dict[str, Entity] = {}  # lower-cased alias -> entity
        self.values_: dict[tuple[str, str], Entity] = {}  # (key, lower-cased alias) -> entity
        self.labels_: dict[str, tuple[str, str]] = dict(ATTRIBUTE_LABELS)

    @classmethod
    def build(cls, brand_groups: Iterable[Any] = (), attribute_groups: Iterable[Any] = (),
              override: Path | None = None) -> Entities:
        """`*_groups`: objects with `.values` (aliases) and, for attributes, `.key`."""
        out = cls()
        for group in brand_groups:
            out.add_brand(group.values)
        for group in attribute_groups:
            values = [v for v in group.values if not isinstance(v, bool)]
            if len(values) > 1:
                entity = _entity(values)
                for alias in entity.aliases:
                    out.values_[(group.key, alias.lower())] = entity
        if override is not None and override.exists():
            data = json.loads(override.read_text(encoding="utf-8"))
            for brand in data.get("brands", []):
                out.add_brand([brand.get("zh", ""), brand.get("en", ""),
                               *brand.get("aliases", [])], zh=brand.get("zh"),
                              en=brand.get("en"))
            for key, names in data.get("attribute_labels", {}).items():
                out.labels_[key] = (names.get("zh", key), names.get("en", key))
        return out

    def add_brand(self, names: Sequence[str], *, zh: str | None = None, en: str | None = None
                  ) -> Entity:
        known = [e for n in names if (e := self.brands_.get(str(n).lower())) is not None]
        merged = [a for e in known for a in e.aliases] + [str(n) for n in names]
        entity = _entity(merged)
        if zh or en:
            entity = Entity(en or entity.en, zh or entity.zh, en or entity.en, entity.aliases)
        for alias in entity.aliases:
            self.brands_[alias.lower()] = entity
        return entity

    def brand(self, raw: str) -> Entity:
        return self.brands_.get(raw.lower()) or Entity(raw, raw, raw, (raw,))

    def value(self, key: str, raw: str) -> Entity:
        found = self.values_.get((key, raw.lower()))
        if found is not None:
            return found
        zh, en = BOOLEAN_LABELS.get(raw.lower(), (raw, raw))
        return Entity(raw, zh, en, (raw,))

    def key_label(self, key: str, lang: str) -> str:
        zh, en = self.labels_.get(key, (key.replace("_", " ").capitalize(),) * 2)
        return en if lang == "en" else zh

    def brand_aliases(self, values: Iterable[str]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(a for v in values for a in self.brand(str(v)).aliases))

    def value_aliases(self, key: str, values: Iterable[str]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(a for v in values for a in self.value(key, str(v)).aliases))
