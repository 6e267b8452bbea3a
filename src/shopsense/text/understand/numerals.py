"""Numbers as shoppers write them: 500, 1,299.5, 1.5k, 2w, 一千, 两千五, 1.5万, 三百块.

Answers: where the numbers of a query are (character spans) and what they are worth.
Offsets always refer to the query as given (width folding keeps one character per character).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
           "七": 7, "八": 8, "九": 9}
_SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
_BIG_UNITS = {"万": 10_000, "亿": 100_000_000}
_ZH_NUM_CHARS = "".join(_DIGITS) + "".join(_SMALL_UNITS) + "".join(_BIG_UNITS)

# Arabic number with optional thousands separators / decimals and a multiplier suffix.
ARABIC_RE = re.compile(r"(?<![A-Za-z0-9.])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(?:\s?([kKwW千万])(?![a-zA-Z]))?")
ZH_RE = re.compile(f"[{_ZH_NUM_CHARS}]+")


@dataclass(frozen=True, slots=True)
class Number:
    value: float
    start: int
    end: int


def fold_width(text: str) -> str:
    """Full-width ASCII (１．５, ＄) to half-width, one character for one, so offsets hold."""
    out = []
    for ch in text:
        code = ord(ch)
        if 0xFF01 <= code <= 0xFF5E:
            out.append(chr(code - 0xFEE0))
        elif ch == "\u3000":
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def parse_chinese_number(text: str) -> float | None:
    """一千 -> 1000, 两千五 -> 2500, 一万二 -> 12000, 三百 -> 300, 十五 -> 15, 一五 -> None."""
    if not text or any(ch not in _ZH_NUM_CHARS for ch in text):
        return None
    total, section, digit = 0, 0, None
    last_unit = 0
    for ch in text:
        if ch in _DIGITS:
            if digit is not None:  # two digits in a row ("一五"): not a quantity
                return None
            digit = _DIGITS[ch]
        elif ch in _SMALL_UNITS:
            unit = _SMALL_UNITS[ch]
            section += (1 if digit is None else digit) * unit
            digit, last_unit = None, unit
        else:
            unit = _BIG_UNITS[ch]
            total += (section + (digit or 0)) * unit
            section, digit, last_unit = 0, None, unit
    if digit is not None:
        # 两千五 = 2500: a trailing digit is one order below the last unit
        section += digit * (last_unit // 10 if last_unit >= 100 else 1)
    return float(total + section)


def _arabic_value(match: re.Match[str]) -> float:
    value = float(match.group(1).replace(",", "") + (match.group(2) or ""))
    suffix = (match.group(3) or "").lower()
    return value * {"k": 1000, "千": 1000, "w": 10_000, "万": 10_000}.get(suffix, 1)


def find_numbers(text: str) -> list[Number]:
    """Every number in `text`, Arabic or Chinese, left to right, non-overlapping."""
    folded = fold_width(text)
    found: list[Number] = []
    taken = [False] * len(folded)
    for match in ARABIC_RE.finditer(folded):
        found.append(Number(_arabic_value(match), match.start(), match.end()))
        for i in range(match.start(), match.end()):
            taken[i] = True
    for match in ZH_RE.finditer(folded):
        start, end = match.start(), match.end()
        if any(taken[start:end]):
            continue
        if end - start == 1 and folded[start] in "一两万千百十亿":
            continue  # a lone 一 / 万 is a word (一级, 万能), not a quantity
        value = parse_chinese_number(folded[start:end])
        if value is not None:
            found.append(Number(value, start, end))
    return sorted(found, key=lambda n: n.start)
