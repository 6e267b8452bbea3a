"""How a demo listing reads: JD/Taobao-style Chinese titles, Amazon-style English titles, and
1–3 sentence descriptions that state the real attributes (so a Q&A can answer from them)."""

from __future__ import annotations

from typing import Any

from shopsense.demo.brands import Brand
from shopsense.demo.taxonomy import Leaf
from shopsense.demo.vocab import FLAG_SENTENCES, FLAG_TITLE_WORDS, GENDER_TITLE, LABELS

ZH_PREFIXES = ("【官方旗舰】", "【新品】", "【热销】", "【包邮】", "【次日达】")
_NOT_DESCRIBED = frozenset({"consumable", "model"})
EN_TYPE_FIRST = frozenset({"空调", "洗衣机", "耳机", "咖啡", "茶叶", "牛奶"})
_LOWER = frozenset({"iPhone", "x", "and", "of"})


def _cap(value: str) -> str:
    """`"wall-mounted"` -> `"Wall-Mounted"`; leaves `"1.5 HP"` and `"iPhone 15"` alone."""
    return "-".join(" ".join(w[:1].upper() + w[1:] if w[:1].islower() and w not in _LOWER else w
                             for w in part.split(" ")) for part in value.split("-"))


def _word(leaf: Leaf, draft: dict[str, Any], lang: str) -> str:
    words = leaf.words_zh if lang == "zh" else leaf.words_en
    return words[draft["word"] % len(words)]


def _series(draft: dict[str, Any], lang: str) -> str:
    pair = draft["series"]
    return "" if pair is None else pair[0 if lang == "zh" else 1]


def _title_tokens(leaf: Leaf, attributes: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(tokens before the product word, tokens after it) from the leaf's title attributes."""
    before, after = [], []
    for key in leaf.title_attrs:
        value = attributes.get(key)
        if isinstance(value, bool):
            if value and key in FLAG_TITLE_WORDS:
                before.append(key)
        elif key == "gender":
            before.append(key)
        elif value is not None:
            after.append(key)
    return before, after


def title(leaf: Leaf, brand: Brand, draft: dict[str, Any], attributes: dict[str, Any],
          lang: str) -> str:
    """One listing title in its own language."""
    before, after = _title_tokens(leaf, attributes)
    model = attributes.get("model") if draft["show_model"] else None
    if lang == "zh":
        forms = brand.bracket_forms()
        tag = forms[draft["bracket_form"] % len(forms)]
        brand_part = f"{brand.zh}({tag})" if draft["bracket"] and tag != brand.zh else brand.zh
        word = _word(leaf, draft, "zh")
        parts = [brand_part, _series(draft, "zh")]
        parts += [GENDER_TITLE.get(attributes[k], "") if k == "gender" else FLAG_TITLE_WORDS[k][0]
                  for k in before if not (k == "gender" and attributes[k] in word)]
        parts.append(word)
        tail = [str(attributes[k]) for k in after]
        if model:
            tail.insert(len(tail) - 1 if after and after[-1] == "colour" else len(tail), model)
        prefix = ZH_PREFIXES[draft["prefix"]] if draft["prefix"] is not None else ""
        return prefix + " ".join(p for p in parts + tail if p)
    head = [brand.en, _series(draft, "en")]
    head += [GENDER_TITLE.get(attributes[k], "") if k == "gender" else FLAG_TITLE_WORDS[k][1]
             for k in before]
    if leaf.name in EN_TYPE_FIRST and "type" in after:  # "Gree Wall-Mounted Inverter AC"
        head.append(_cap(str(attributes["type"])))
        after = [k for k in after if k != "type"]
    head.append(_word(leaf, draft, "en"))
    tail = [_cap(str(attributes[k])) for k in after] + ([model] if model else [])
    text = " ".join(p for p in head if p)
    if tail:
        text += (", " if after[:1] == ["colour"] else " ") + ", ".join(tail)
    return text


def _facts(leaf: Leaf, attributes: dict[str, Any], lang: str) -> list[str]:
    facts = []
    for key, value in attributes.items():
        if key in _NOT_DESCRIBED or isinstance(value, bool):
            continue
        label = LABELS.get(key, (key, key))[0 if lang == "zh" else 1]
        if lang == "en" and key == "gender":
            facts.append(f"for {value}")
        else:
            facts.append(f"{label}：{value}" if lang == "zh" else f"{label}: {value}")
    if "model" in attributes:
        facts.append(f"型号：{attributes['model']}" if lang == "zh" else f"model {attributes['model']}")
    return facts


def describe(leaf: Leaf, brand: Brand, draft: dict[str, Any], attributes: dict[str, Any],
             lang: str) -> str:
    """1–3 sentences: the attributes, the yes/no facts (waterproof …), a selling point."""
    zh = lang == "zh"
    name = (f"{brand.zh}{_series(draft, 'zh')}{_word(leaf, draft, 'zh')}" if zh else
            " ".join(p for p in (brand.en, _series(draft, "en"), _word(leaf, draft, "en").lower()) if p))
    facts = _facts(leaf, attributes, lang)
    sentences = [f"{name}，{'，'.join(facts)}。" if zh else f"{name}: {', '.join(facts)}."]
    flags = [FLAG_SENTENCES[k][0 if zh else 1][0 if v else 1]
             for k, v in attributes.items() if k in FLAG_SENTENCES and isinstance(v, bool)]
    if flags:
        sentences.append("；".join(flags) + "。" if zh else "; ".join(flags) + ".")
    if leaf.points and len(sentences) < 3:
        point = leaf.points[draft["point"] % len(leaf.points)]
        sentences.append(point[0] + "。" if zh else point[1] + ".")
    return "".join(sentences) if zh else " ".join(sentences)
