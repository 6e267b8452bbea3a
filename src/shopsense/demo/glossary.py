"""The demo shop's operator glossary (`glossary.json`): the English of every attribute value
and brand the demo writes in Chinese, which a real shop would supply as an operator file."""

from __future__ import annotations

from typing import Any

from shopsense.demo.brands import BRANDS
from shopsense.demo.taxonomy import LEAVES
from shopsense.demo.vocab import COLOURS, LABELS


def demo_glossary() -> dict[str, Any]:
    values: dict[str, str] = {zh: en for zh, en in COLOURS.values()}
    for leaf in LEAVES:
        for spec in leaf.attrs.values():
            for zh, en in spec.values:
                if isinstance(zh, str) and isinstance(en, str) and zh != en:
                    values.setdefault(zh, en)
    return {"attributes": {key: {"zh": zh, "en": en} for key, (zh, en) in LABELS.items()},
            "values": values,
            "brands": {b.zh: b.en for b in BRANDS.values() if b.zh != b.en}}
