"""Price bounds and value preference in zh + en queries.

Answers: "500元以下", "一千到两千", "under $80", "between 100 and 200", "2000+", "500左右",
"cheap", "性价比高", "高端" -> inclusive bounds in the shop's currency plus "cheap" | "value" |
"premium", each with its confidence and span. Amounts in another currency are converted with
fixed rates (`rates`: currency -> units of shop currency); an amount with no currency is read as
the shop's own currency.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from shopsense.domain import Slot
from shopsense.text.understand.numerals import Number, find_numbers, fold_width

# Words that, right after a number, make it a quantity rather than an amount.
_UNIT_AFTER = re.compile(
    r"^\s?(?:gb|tb|mb|g\b|kg|mg|hp|匹|英寸|寸|inch|in\b|ml|l\b|升|毫升|斤|克|公斤|mm|cm|m\b|米|hz|w\b|"
    r"mah|k\b|p\b|人|岁|段|码|号|个月|月|片|颗|度|℃|°|%|核|代|寸|门|year|month|person|people|pcs|"
    r"pieces|pack|x\b|×|ft|oz|lb|s\b|pro|max|ultra|plus|gw|寸|瓦|包|盒|袋|瓶|件|双|套|台)",
    re.IGNORECASE)
_CUR_BEFORE = re.compile(r"(?:(us\$|\$|usd\s?|¥|￥|rmb\s?|cny\s?))$", re.IGNORECASE)
_CUR_AFTER = re.compile(r"^\s?(?:(块钱|元|块|rmb|cny|yuan|kuai)|(dollars?|usd|bucks))", re.IGNORECASE)
_UPPER_BEFORE = re.compile(
    r"(under|below|less than|cheaper than|lower than|at most|up to|no more than|not more than|"
    r"max(?:imum)?|within|budget(?: of| is)?|低于|不超过|不高于|不到|少于|小于|最多|预算|以内|<|≤)"
    r"\s?(?:us\$|\$|¥|￥|usd|rmb)?\s?$", re.IGNORECASE)
_UPPER_AFTER = re.compile(r"^\s?(?:以下|以内|之内|内|封顶|or less|or under|max|and under|and below|"
                          r"以下的|之下)", re.IGNORECASE)
_LOWER_BEFORE = re.compile(
    r"(over|above|more than|at least|higher than|pricier than|starting at|min(?:imum)?|高于|超过|"
    r"大于|不低于|至少|起码|>|≥)\s?(?:us\$|\$|¥|￥|usd|rmb)?\s?$", re.IGNORECASE)
_LOWER_AFTER = re.compile(r"^\s?(?:以上|往上|起|\+|or more|and up|and above|or above|plus\b)",
                          re.IGNORECASE)
_AROUND_BEFORE = re.compile(r"(around|about|approximately|roughly|~|大概|大约|约)\s?"
                            r"(?:us\$|\$|¥|￥|usd|rmb)?\s?$", re.IGNORECASE)
_AROUND_AFTER = re.compile(r"^\s?(?:左右|上下|ish)")
_RANGE_JOIN = re.compile(r"^\s?(?:到|至|和|与|跟|-|~|～|—|–|to|and)\s?(?:us\$|\$|¥|￥|usd|rmb)?\s?$",
                         re.IGNORECASE)
_PRICE_CONTEXT = re.compile(r"(price|priced|budget|cost|价格|价位|价钱|预算|between|from|在)",
                            re.IGNORECASE)

VALUE_WORDS: dict[str, tuple[str, ...]] = {
    "value": ("性价比", "划算", "value for money", "best value", "good value", "great value",
              "bang for the buck", "bang for your buck", "worth the money"),
    "cheap": ("便宜", "实惠", "平价", "低价", "廉价", "学生党", "学生", "入门", "不要太贵", "不太贵", "不贵",
              "cheap", "cheapest", "budget", "affordable", "inexpensive", "low cost", "low-cost",
              "low price", "bargain", "not too expensive", "not expensive", "student", "students",
              "entry-level", "entry level", "doesn't cost much", "does not cost much", "won't cost much",
              "less expensive", "low-priced", "low priced", "cheaper", "省钱", "别太贵", "不用太贵",
              "不能太贵", "不要很贵", "not so expensive", "not very expensive", "isn't expensive",
              "lowest price", "lowest-priced"),
    "premium": ("高端", "旗舰", "奢华", "奢侈", "高档", "顶配", "贵一点", "贵点", "贵一些", "档次高",
                "上档次", "有档次", "好一点", "好点的", "品质好", "premium", "luxury", "high-end",
                "high end", "top-end", "top end", "flagship", "upscale", "best quality",
                "top of the line", "top-of-the-line", "top of the range", "top quality",
                "deluxe", "最贵", "贵的", "很贵", "昂贵", "贵价", "高价", "价格高", "most expensive",
                "expensive", "priciest", "pricey", "high-priced", "high priced", "costly",
                "highest price"),
}


@dataclass(slots=True)
class PriceReading:
    price_min: Slot | None = None
    price_max: Slot | None = None
    value_preference: Slot | None = None
    spans: list[tuple[int, int]] = field(default_factory=list)  # text used up


def _currency(before: str, after: str) -> tuple[str | None, int]:
    """(currency, characters of `after` it takes) of the amount between `before` and `after`."""
    match = _CUR_AFTER.match(after)
    if match:
        return ("USD" if match.group(2) else "CNY"), match.end()
    match = _CUR_BEFORE.search(before)
    if match:
        sign = match.group(1).lower().strip()
        return ("CNY" if sign in ("¥", "￥", "rmb", "cny") else "USD"), 0
    return None, 0


def _is_quantity(after: str) -> bool:
    return bool(_UNIT_AFTER.match(after)) and not _CUR_AFTER.match(after)


class PriceParser:
    """Finds price bounds; `rates` maps a currency code to units of `shop_currency`."""

    def __init__(self, shop_currency: str = "CNY", rates: dict[str, float] | None = None,
                 around: float = 0.2) -> None:
        self.shop_currency = shop_currency
        self.rates = {"CNY": 1.0, "USD": 7.2} if rates is None else dict(rates)
        self.around = around

    def _convert(self, value: float, currency: str | None) -> float:
        if currency is None or currency == self.shop_currency:
            return value
        if currency not in self.rates or self.shop_currency not in self.rates:
            return value
        return round(value * self.rates[currency] / self.rates[self.shop_currency], 2)

    def parse(self, query: str) -> PriceReading:
        text = fold_width(query).lower()
        reading = PriceReading()
        numbers = find_numbers(text)
        used: set[int] = set()
        for k, number in enumerate(numbers):
            if k in used or number.value <= 0:
                continue
            if k + 1 < len(numbers) and self._range(text, number, numbers[k + 1], reading):
                used.add(k + 1)
                continue
            self._single(text, number, reading)
        self._value_words(text, reading)
        low, high = reading.price_min, reading.price_max
        if low is not None and high is not None and low.value > high.value:
            # two phrases that disagree ("1000到2000 … 500以下"): keep the surer, else the later
            if (low.confidence, low.span or (0, 0)) > (high.confidence, high.span or (0, 0)):
                reading.price_max = None
            else:
                reading.price_min = None
        return reading

    def _range(self, text: str, low: Number, high: Number, reading: PriceReading) -> bool:
        between = text[low.end:high.start]
        cur_low, _ = _currency(text[:low.start], between)
        if cur_low is not None:
            between_join = _CUR_AFTER.sub("", between, count=1)
        else:
            between_join = between
        if not _RANGE_JOIN.match(between_join) or _is_quantity(text[high.end:]):
            return False
        if _is_quantity(between) and cur_low is None:
            return False
        cur_high, extra = _currency(text[:high.start], text[high.end:])
        currency = cur_high or cur_low
        context = bool(_PRICE_CONTEXT.search(text[max(0, low.start - 12):low.start]))
        if currency is None and not context and (high.value < 20 or _is_quantity(between)):
            return False
        lo, hi = sorted((self._convert(low.value, currency), self._convert(high.value, currency)))
        confidence = 0.95 if currency else 0.85 if context else 0.75
        start = low.start
        prefix = re.search(r"(between|from|在|价格在|价位在)\s?(?:us\$|\$|¥|￥)?\s?$",
                           text[:low.start])
        if prefix:
            start = prefix.start()
        end = high.end + extra
        suffix = re.match(r"^\s?(?:之间|区间|范围)", text[end:])
        if suffix:
            end += suffix.end()
        span = (start, end)
        reading.price_min = Slot(lo, confidence, span)
        reading.price_max = Slot(hi, confidence, span)
        reading.spans.append(span)
        return True

    def _single(self, text: str, number: Number, reading: PriceReading) -> None:
        before, after = text[:number.start], text[number.end:]
        currency, extra = _currency(before, after)
        if currency is None and _is_quantity(after):
            return
        rest = after[extra:]
        value = self._convert(number.value, currency)
        bonus = 0.05 if currency else 0.0
        for pattern_before, pattern_after, kind in (
                (_UPPER_BEFORE, _UPPER_AFTER, "max"), (_LOWER_BEFORE, _LOWER_AFTER, "min"),
                (_AROUND_BEFORE, _AROUND_AFTER, "around")):
            m_before = pattern_before.search(before)
            m_after = pattern_after.match(rest)
            if not (m_before or m_after):
                continue
            start = m_before.start() if m_before else number.start
            end = number.end + extra + (m_after.end() if m_after else 0)
            span = (start, end)
            if kind == "max":
                reading.price_max = Slot(value, 0.9 + bonus, span)
            elif kind == "min":
                reading.price_min = Slot(value, 0.9 + bonus, span)
            else:
                reading.price_min = Slot(round(value * (1 - self.around), 2), 0.6 + bonus, span)
                reading.price_max = Slot(round(value * (1 + self.around), 2), 0.6 + bonus, span)
            reading.spans.append(span)
            return
        if currency is not None:  # "¥3000 的手机", "$80 headphones": about that price
            span = (number.start - (1 if before.endswith(("$", "¥", "￥")) else 0),
                    number.end + extra)
            reading.price_min = Slot(round(value * (1 - self.around), 2), 0.55, span)
            reading.price_max = Slot(round(value * (1 + self.around), 2), 0.55, span)
            reading.spans.append(span)

    def _value_words(self, text: str, reading: PriceReading) -> None:
        best: tuple[int, str, int, int] | None = None
        for preference, words in VALUE_WORDS.items():
            for word in words:
                if word not in text:  # most are absent: no pattern compiled for them
                    continue
                for match in re.finditer(re.escape(word), text):
                    start, end = match.start(), match.end()
                    if word.isascii() and not _word_bounded(text, start, end):
                        continue
                    if best is None or end - start > best[0]:
                        best = (end - start, preference, start, end)
        if best is not None:
            _, preference, start, end = best
            # 性价比高, 便宜点, 档次高一点: the degree words belong to the value word
            tail = re.match(r"^(?:超高|最高|高|好)?(?:一点儿|一点|一些|点儿|点|些)?", text[end:])
            if tail:
                end += tail.end()
            reading.value_preference = Slot(preference, 0.85, (start, end))
            reading.spans.append((start, end))


def _word_bounded(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return not (before.isascii() and before.isalnum()) and not (after.isascii() and after.isalnum())
